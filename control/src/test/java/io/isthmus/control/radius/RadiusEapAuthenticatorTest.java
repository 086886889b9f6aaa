package io.isthmus.control.radius;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.ike.EapAuthenticator;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * EAP messages of EAP-TLS size through the relay (RFC 3579 §3.1): the client's cut into
 * EAP-Message attributes of 253 bytes in order, the server's joined in order, and one too big
 * for a RADIUS packet refused without asking the server.
 */
class RadiusEapAuthenticatorTest {
    final RadiusClientTest servers = new RadiusClientTest();
    static final byte[] IDENTITY = "frank@hx".getBytes(StandardCharsets.UTF_8);
    static final byte[] STATE = "st-1".getBytes(StandardCharsets.US_ASCII);

    @AfterEach
    void close() throws Exception {
        servers.close();
    }

    static EapAuthenticator.Step await(java.util.concurrent.CompletionStage<EapAuthenticator.Step> s) throws Exception {
        return s.toCompletableFuture().get(30, TimeUnit.SECONDS);
    }

    /** An EAP packet of {@code length} bytes whose content shows any reordering of 253-byte pieces. */
    static byte[] eap(int code, int id, int length) {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) {
            b[i] = (byte) (i * 7 + i / 253);
        }
        b[0] = (byte) code;
        b[1] = (byte) id;
        b[2] = (byte) (length >> 8);
        b[3] = (byte) length;
        b[4] = 13; // EAP-TLS
        return b;
    }

    @Test
    void eapTlsSizedMessagesAreSplitInOrderAndTheServersAreJoinedInOrder() throws Exception {
        byte[] serverHello = eap(1, 2, 1400);
        byte[] clientCertificate = eap(2, 2, 1100);
        byte[] msk = new byte[64];
        Arrays.fill(msk, 32, 64, (byte) 9);
        RadiusSecret secret = RadiusClientTest.secretOf("s3cret");
        RadiusClientTest.FakeServer s = servers.new FakeServer("s3cret", (req, raw) -> {
            if (req.first(RadiusPacket.STATE).isEmpty()) {
                // State first, then the EAP-Message run: the pieces must still come out in their order.
                List<RadiusPacket.Attribute> attrs = new ArrayList<>();
                attrs.add(new RadiusPacket.Attribute(RadiusPacket.STATE, STATE));
                attrs.addAll(RadiusPacket.split(RadiusPacket.EAP_MESSAGE, serverHello));
                attrs.add(new RadiusPacket.Attribute(RadiusPacket.REPLY_MESSAGE, "more".getBytes(StandardCharsets.US_ASCII)));
                return List.of(servers.signed(req, RadiusPacket.ACCESS_CHALLENGE, attrs));
            }
            return List.of(servers.signed(req, RadiusPacket.ACCESS_ACCEPT, List.of(
                    new RadiusPacket.Attribute(RadiusPacket.EAP_MESSAGE, new byte[] {3, 2, 0, 4}),
                    RadiusSecretTest.vsa(RadiusSecret.MS_MPPE_RECV_KEY, secret.encryptMppeKey(Arrays.copyOf(msk, 32), req.authenticator(), new byte[] {(byte) 0x80, 1})),
                    RadiusSecretTest.vsa(RadiusSecret.MS_MPPE_SEND_KEY, secret.encryptMppeKey(Arrays.copyOfRange(msk, 32, 64), req.authenticator(), new byte[] {(byte) 0x80, 2})))));
        });
        RadiusClient client = servers.client(List.of(s.server(5)), 3);
        try (EapAuthenticator.Conversation c = new RadiusEapAuthenticator(client, "lab").begin(IDENTITY)) {
            var first = assertInstanceOf(EapAuthenticator.Request.class, await(c.start()));
            assertArrayEquals(serverHello, first.eapMessage(), "6 pieces joined in their order");

            var done = assertInstanceOf(EapAuthenticator.Success.class, await(c.respond(clientCertificate)));
            assertArrayEquals(msk, done.msk());
        }
        assertEquals(2, s.requests.size());
        // The identity round: one EAP-Message, the Response/Identity.
        List<byte[]> identity = values(s.requests.getFirst(), RadiusPacket.EAP_MESSAGE);
        assertEquals(1, identity.size());
        assertArrayEquals(new byte[] {2, 0, 0, 13, 1, 'f', 'r', 'a', 'n', 'k', '@', 'h', 'x'}, identity.getFirst());
        // The 1,100-byte response: 253 * 4 + 88, in order, consecutive, with the server's State.
        RadiusPacket second = s.requests.get(1);
        List<byte[]> pieces = values(second, RadiusPacket.EAP_MESSAGE);
        assertEquals(List.of(253, 253, 253, 253, 88), pieces.stream().map(p -> p.length).toList());
        assertArrayEquals(clientCertificate, second.joined(RadiusPacket.EAP_MESSAGE));
        List<Integer> types = second.attributes().stream().map(RadiusPacket.Attribute::type).toList();
        int firstPiece = types.indexOf(RadiusPacket.EAP_MESSAGE);
        assertEquals(5, types.subList(firstPiece, firstPiece + 5).stream().filter(t -> t == RadiusPacket.EAP_MESSAGE).count(),
                "RFC 3579 §3.1: the pieces are consecutive attributes");
        assertArrayEquals(STATE, second.first(RadiusPacket.STATE).orElseThrow());
        assertEquals(16, second.first(RadiusPacket.MESSAGE_AUTHENTICATOR).orElseThrow().length);
    }

    /**
     * A client's EAP message may claim up to 64 KB; RADIUS carries at most 4,096 bytes a packet
     * and one EAP packet a request. The largest that fits goes whole; one byte more is refused
     * (not unreachable, so no failover) and the server never hears of it.
     */
    @Test
    void anEapMessageTooBigForOneRadiusPacketIsRefusedWithoutAskingTheServer() throws Exception {
        RadiusClientTest.FakeServer s = servers.new FakeServer("s3cret", (req, raw) -> List.of(servers.signed(req, RadiusPacket.ACCESS_CHALLENGE,
                List.of(new RadiusPacket.Attribute(RadiusPacket.STATE, STATE), new RadiusPacket.Attribute(RadiusPacket.EAP_MESSAGE, eap(1, 3, 6))))));
        RadiusClient client = servers.client(List.of(s.server(5)), 1);
        // The request around the EAP message: header, User-Name, NAS-Identifier, State, Message-Authenticator.
        int around = RadiusPacket.HEADER_LENGTH + (2 + IDENTITY.length) + (2 + 3) + (2 + STATE.length) + RadiusClient.MESSAGE_AUTHENTICATOR_LENGTH;
        int largest = 0;
        for (int n = 1; n < 5000; n++) {
            if (around + n + 2 * ((n + 252) / 253) <= RadiusPacket.MAX_LENGTH) {
                largest = n;
            }
        }
        assertTrue(largest > 3900 && largest < 4096 - around, "largest " + largest);
        try (EapAuthenticator.Conversation c = new RadiusEapAuthenticator(client, "lab").begin(IDENTITY)) {
            assertInstanceOf(EapAuthenticator.Request.class, await(c.start()));
            assertInstanceOf(EapAuthenticator.Request.class, await(c.respond(eap(2, 3, largest))));
            assertEquals(2, s.requests.size());
            assertArrayEquals(eap(2, 3, largest), s.requests.get(1).joined(RadiusPacket.EAP_MESSAGE));

            var refused = assertInstanceOf(EapAuthenticator.Failure.class, await(c.respond(eap(2, 4, largest + 1))));
            assertFalse(refused.unreachable(), refused.why());
            assertTrue(refused.why().contains("more than RADIUS allows"), refused.why());
            var huge = assertInstanceOf(EapAuthenticator.Failure.class, await(c.respond(eap(2, 5, 65535))));
            assertFalse(huge.unreachable());
        }
        assertEquals(2, s.requests.size(), "the server never saw the messages that do not fit");
        assertEquals(0, servers.counters.unreachable.get());
    }

    /** Asked directly, the client refuses an Access-Request that would pass 4,096 bytes at once instead of never answering. */
    @Test
    void theClientRefusesAnOversizedRequestAtOnce() throws Exception {
        RadiusClientTest.FakeServer s = servers.new FakeServer("s3cret", (req, raw) -> List.of());
        RadiusClient client = servers.client(List.of(s.server(5)), 1);
        var f = client.accessRequest(RadiusPacket.split(RadiusPacket.EAP_MESSAGE, new byte[4100]), java.util.Optional.empty());
        var e = org.junit.jupiter.api.Assertions.assertThrows(java.util.concurrent.ExecutionException.class, () -> f.get(30, TimeUnit.SECONDS));
        assertInstanceOf(IllegalArgumentException.class, e.getCause());
        assertTrue(s.requests.isEmpty());
    }

    static List<byte[]> values(RadiusPacket p, int type) {
        return p.attributes().stream().filter(a -> a.type() == type).map(RadiusPacket.Attribute::value).toList();
    }
}
