package io.isthmus.ike.remoteaccess;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.ike.message.CpPayload;
import io.isthmus.ike.message.IkeProtocolException;
import io.isthmus.ike.message.PayloadCodec;
import io.isthmus.ike.message.PayloadType;
import java.net.InetAddress;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The CP payload's attributes (RFC 7296 §3.15) read from the wire as a client sends them, hostile ones included, and the reply built. */
class ConfigurationPayloadTest {
    /** A CP payload as it arrives: generic header (no next payload), then CFG type, 3 reserved octets, attributes. */
    static CpPayload decode(String attributesHex, int cfgType) throws IkeProtocolException {
        byte[] attributes = HexFormat.of().parseHex(attributesHex);
        byte[] p = new byte[8 + attributes.length];
        p[2] = (byte) (p.length >>> 8);
        p[3] = (byte) p.length;
        p[4] = (byte) cfgType;
        System.arraycopy(attributes, 0, p, 8, attributes.length);
        return (CpPayload) PayloadCodec.decodeChain(PayloadType.CP, p, 0, p.length).getFirst();
    }

    @Test
    void strongSwansRoadWarriorRequest() throws IkeProtocolException {
        // vips = 0.0.0.0, ::  : empty INTERNAL_IP4_ADDRESS and INTERNAL_IP6_ADDRESS, empty DNS requests, and a
        // private-use attribute (Unity's 0x7000 range) a Cisco-minded client may add.
        ConfigurationRequest r = ConfigurationRequest.of(decode("00010000" + "00080000" + "00030000" + "000a0000" + "70000000", 1));
        assertTrue(r.ipv4() && r.ipv6() && r.dns4() && r.dns6());
        assertNull(r.requestedIpv4());
        assertNull(r.requestedIpv6());
        assertEquals(0, r.malformed());
        assertEquals(1, r.unknown());
        assertTrue(r.wantsAddress());
    }

    @Test
    void aClientMayAskForTheAddressItHad() throws IkeProtocolException {
        ConfigurationRequest r = ConfigurationRequest.of(decode("00010004ac10c905" + "00080011fd000201000000000000000000000007" + "80", 1));
        assertEquals(InetAddress.ofLiteral("172.16.201.5"), r.requestedIpv4());
        assertEquals(InetAddress.ofLiteral("fd00:201::7"), r.requestedIpv6());
    }

    @Test
    void anyAddressIsNoWish() throws IkeProtocolException {
        ConfigurationRequest r = ConfigurationRequest.of(decode("0001000400000000", 1));
        assertTrue(r.ipv4());
        assertNull(r.requestedIpv4());
    }

    @Test
    void attributesOfAWrongLengthAreSkippedAndCounted() throws IkeProtocolException {
        // INTERNAL_IP4_ADDRESS of 3 octets, INTERNAL_IP6_ADDRESS of 16 (no prefix length), INTERNAL_IP4_SUBNET of 4, then a good DNS request.
        ConfigurationRequest r = ConfigurationRequest.of(decode("00010003ac10c9" + "00080010fd000201000000000000000000000007"
                + "000d0004ffffff00" + "00030000", 1));
        assertFalse(r.ipv4(), "a malformed address request asks for nothing");
        assertFalse(r.ipv6());
        assertTrue(r.dns4());
        assertEquals(3, r.malformed());
        assertFalse(r.wantsAddress());
    }

    @Test
    void theReservedBitOfTheTypeIsIgnored() throws IkeProtocolException {
        assertTrue(ConfigurationRequest.of(decode("80010000", 1)).ipv4());
    }

    @Test
    void anAttributeLongerThanThePayloadIsAMalformedPayload() {
        assertThrows(IkeProtocolException.class, () -> decode("00010008ac10c905", 1));
        assertThrows(IkeProtocolException.class, () -> decode("000100", 1));
    }

    @Test
    void onlyARequestIsARequest() throws IkeProtocolException {
        assertNull(ConfigurationRequest.of(decode("00010000", CpPayload.CFG_SET)));
        assertNull(ConfigurationRequest.of(decode("00010000", CpPayload.CFG_REPLY)));
    }

    @Test
    void theReplyCarriesAddressesDnsAndSubnetsOfTheFamiliesGiven() throws IkeProtocolException {
        CpPayload reply = ConfigurationReply.of(InetAddress.ofLiteral("172.16.201.1"), InetAddress.ofLiteral("fd00:201::1"),
                List.of(InetAddress.ofLiteral("10.1.0.4"), InetAddress.ofLiteral("fd00:1::4")),
                List.of(new ConfigurationReply.Subnet(InetAddress.ofLiteral("10.1.0.0"), 16),
                        new ConfigurationReply.Subnet(InetAddress.ofLiteral("fd00:1::"), 64)));
        byte[] wire = PayloadCodec.encodeChain(List.of(reply));
        assertEquals("0000" + "0062" + "02000000"
                + "00010004ac10c901"
                + "00080011fd000201000000000000000000000001" + "80"
                + "000300040a010004"
                + "000a0010fd000001000000000000000000000004"
                + "000d00080a010000ffff0000"
                + "000f0011fd000001000000000000000000000000" + "40",
                HexFormat.of().formatHex(wire));
        CpPayload back = (CpPayload) PayloadCodec.decodeChain(PayloadType.CP, wire, 0, wire.length).getFirst();
        assertEquals(CpPayload.CFG_REPLY, back.cfgType());
        assertArrayEquals(new byte[] {(byte) 172, 16, (byte) 201, 1}, back.attributes().getFirst().value());
    }

    @Test
    void aClientGivenOnlyIpv4GetsNoIpv6Attributes() {
        CpPayload reply = ConfigurationReply.of(InetAddress.ofLiteral("172.16.201.1"), null, List.of(InetAddress.ofLiteral("fd00:1::4")),
                List.of(new ConfigurationReply.Subnet(InetAddress.ofLiteral("fd00:1::"), 64), new ConfigurationReply.Subnet(InetAddress.ofLiteral("0.0.0.0"), 0)));
        assertEquals(List.of(ConfigurationRequest.INTERNAL_IP4_ADDRESS, ConfigurationRequest.INTERNAL_IP4_SUBNET),
                reply.attributes().stream().map(CpPayload.Attribute::type).toList());
        assertArrayEquals(new byte[8], reply.attributes().get(1).value(), "0.0.0.0/0: address and netmask all zero");
        assertThrows(IllegalArgumentException.class, () -> ConfigurationReply.of(null, null, List.of(), List.of()));
        assertThrows(IllegalArgumentException.class, () -> ConfigurationReply.of(InetAddress.ofLiteral("fd00::1"), null, List.of(), List.of()));
    }
}
