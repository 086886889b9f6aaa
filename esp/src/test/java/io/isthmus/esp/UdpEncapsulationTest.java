package io.isthmus.esp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.isthmus.esp.UdpEncapsulation.Kind;
import org.junit.jupiter.api.Test;

/** Telling IKE, NAT-keepalives and ESP apart on port 4500 (RFC 3948 §2), and framing what is sent there. */
class UdpEncapsulationTest {
    static Kind classify(int... bytes) {
        byte[] d = new byte[bytes.length + 3];
        for (int i = 0; i < bytes.length; i++) {
            d[3 + i] = (byte) bytes[i];
        }
        return UdpEncapsulation.classify(d, 3, bytes.length);
    }

    @Test
    void aSingleFfByteIsAKeepalive() {
        assertEquals(Kind.KEEPALIVE, classify(0xFF));
        assertEquals(Kind.ESP, classify(0xFE), "one other byte: ESP, too short to open");
        assertEquals(Kind.ESP, classify(0xFF, 0xFF), "0xFF and more: ESP");
    }

    @Test
    void fourZerosAreTheNonEspMarker() {
        assertEquals(Kind.IKE, classify(0, 0, 0, 0));
        assertEquals(Kind.IKE, classify(0, 0, 0, 0, 0x12, 0x34));
        assertEquals(Kind.ESP, classify(0, 0, 0, 1, 0x12, 0x34), "a non-zero SPI");
        assertEquals(Kind.ESP, classify(0, 0, 0), "shorter than the marker");
        assertEquals(Kind.ESP, classify(), "empty: ESP, too short to open");
    }

    @Test
    void ikeMessagesGoOutAfterTheMarkerAndKeepalivesAsOneByte() {
        byte[] framed = UdpEncapsulation.ikeDatagram(new byte[] {1, 2, 3});
        assertArrayEquals(new byte[] {0, 0, 0, 0, 1, 2, 3}, framed);
        assertEquals(Kind.IKE, UdpEncapsulation.classify(framed, 0, framed.length));
        byte[] keepalive = UdpEncapsulation.keepalive();
        assertArrayEquals(new byte[] {(byte) 0xFF}, keepalive);
        assertEquals(Kind.KEEPALIVE, UdpEncapsulation.classify(keepalive, 0, 1));
    }
}
