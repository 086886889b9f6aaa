package io.isthmus.control.radius;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/** The test's own EAP-MSCHAPv2 peer against RFC 2759 §9.2, so the FreeRADIUS test judges the gateway, not the peer. */
class EapMschapV2PeerTest {
    static final HexFormat HEX = HexFormat.of();

    @Test
    void rfc2759Vectors() throws Exception {
        EapMschapV2Peer peer = new EapMschapV2Peer("User", "clientPass");
        assertArrayEquals(HEX.parseHex("44ebba8d5312b8d611474411f56989ae"), EapMschapV2Peer.md4("clientPass".getBytes(java.nio.charset.StandardCharsets.UTF_16LE)));
        peer.authChallenge = HEX.parseHex("5b5d7c7d7b3f2f3e3c2c602132262628");
        peer.peerChallenge = HEX.parseHex("21402324255e262a28295f2b3a337c7e");
        peer.ntResponse = EapMschapV2Peer.challengeResponse(HEX.parseHex("d02e4386bce91226"), HEX.parseHex("44ebba8d5312b8d611474411f56989ae"));
        assertEquals("82309ecd8d708b5ea08faa3981cd83544233114a3d85d6df", HEX.formatHex(peer.ntResponse));
        // The RFC 3079 keys are judged by FreeRADIUS (FreeRadiusEapTest: its MS-MPPE keys must equal the peer's own).
    }
}
