package io.isthmus.ike;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.ike.crypto.SkCipher;
import io.isthmus.ike.engine.IkeEngine;
import io.isthmus.ike.message.ExchangeType;
import io.isthmus.ike.message.IkeHeader;
import io.isthmus.ike.message.IkeMessage;
import io.isthmus.ike.message.NotifyPayload;
import io.isthmus.ike.message.NotifyType;
import io.isthmus.ike.message.Payload;
import io.isthmus.ike.message.PayloadCodec;
import io.isthmus.ike.message.SkPayload;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * What the network may throw at an established IKE SA: corrupted copies of every message of a
 * session, truncations, strangers' SPIs, and a well-protected request with an unknown critical
 * payload. Nothing escapes {@link IkeEngine#receive}, nothing kills an SA it does not belong to.
 */
class MalformedInputTest extends EnginePair {
    static final String IKE = "aes256-sha256-modp2048";

    @Test
    void corruptedCopiesOfASessionHarmNothing() {
        configure(connectionA(IKE, "aes128gcm16").build(), connectionB(IKE, "aes128gcm16").build());
        IkeSa a = initiate();
        a.rekeyChild(childrenA.current().getFirst().inbound().spi());
        deliver();
        assertChildSasPair();
        List<InMemoryNetwork.Datagram> session = new ArrayList<>(network.sent);
        List<ChildSaDescription> before = childrenA.current();
        Random random = new Random(7296);
        for (int i = 0; i < 20_000; i++) {
            InMemoryNetwork.Datagram d = session.get(random.nextInt(session.size()));
            byte[] bytes = d.bytes().clone();
            switch (random.nextInt(4)) {
                case 0 -> bytes[random.nextInt(bytes.length)] ^= (byte) (1 << random.nextInt(8));
                case 1 -> bytes = java.util.Arrays.copyOf(bytes, random.nextInt(bytes.length));
                case 2 -> {
                    for (int k = 0; k < 4; k++) {
                        bytes[random.nextInt(bytes.length)] = (byte) random.nextInt(256);
                    }
                }
                default -> bytes[17 + random.nextInt(4)] = (byte) random.nextInt(256); // version, exchange, flags
            }
            IkeEngine target = random.nextBoolean() ? engineA : engineB;
            InetSocketAddress from = new InetSocketAddress(target == engineA ? B : A, random.nextBoolean() ? 500 : 4500);
            InetSocketAddress to = new InetSocketAddress(target == engineA ? A : B, from.getPort());
            target.receive(bytes, 0, bytes.length, to, from);
            deliver(); // whatever the engines answered goes back
        }
        // Replayed IKE_SA_INIT requests with altered SPIs open half-open SAs, as from any new
        // initiator; they expire when no IKE_AUTH follows (or cookies are asked for past 10).
        assertTrue(engineB.ikeSas().stream().filter(s -> s.state() == IkeSaState.CONNECTING).count() <= 10);
        run(java.time.Duration.ofSeconds(31));
        assertOneIkeSaPair();
        assertEquals(before, childrenA.current());
        assertChildSasPair();
        // And the SA still works afterwards.
        onlyIkeSa(engineA).rekey();
        deliver();
        assertOneIkeSaPair();
        assertChildSasPair();
    }

    /*
     *   A (hand-made)                                B
     *   INFORMATIONAL SK{ payload 200, critical }  -->
     *                                             <--  SK{N(UNSUPPORTED_CRITICAL_PAYLOAD 200)}
     */
    @Test
    void anUnknownCriticalPayloadInsideSkIsAnsweredAndTheSaStays() throws Exception {
        configure(connectionA(IKE, "aes128gcm16").build(), connectionB(IKE, "aes128gcm16").build());
        IkeSa a = initiate();
        IkeSa b = onlyIkeSa(engineB);
        SkCipher asInitiator = new SkCipher(a.proposal().cipher(), a.keys().skEi(), a.keys().skAi());
        SkCipher fromResponder = new SkCipher(a.proposal().cipher(), a.keys().skEr(), a.keys().skAr());
        byte[] plaintext = {0, (byte) 0x80, 0, 8, 1, 2, 3, 4}; // no next payload, critical, length 8
        int contentLength = asInitiator.contentLength(plaintext.length);
        IkeHeader header = new IkeHeader(a.initiatorSpi(), a.responderSpi(), 0, 2, 0, ExchangeType.INFORMATIONAL, IkeHeader.FLAG_INITIATOR,
                2, 0);
        byte[] request = IkeMessage.encodeProtected(header, 200, contentLength, null);
        asInitiator.seal(request, request.length - contentLength, plaintext);
        network.sent.clear();
        engineB.receive(request, 0, request.length, new InetSocketAddress(B, 500), new InetSocketAddress(A, 500));
        assertEquals(1, network.sent.size());
        IkeMessage answer = decode(network.sent.getFirst().bytes());
        assertTrue(answer.header().isResponse());
        byte[] inner = fromResponder.open(answer.raw(), answer.protectedContentOffset());
        List<Payload> payloads = PayloadCodec.decodeChain(((SkPayload) answer.payloads().getLast()).firstInnerPayload(), inner, 0, inner.length);
        NotifyPayload n = (NotifyPayload) payloads.getFirst();
        assertEquals(NotifyType.UNSUPPORTED_CRITICAL_PAYLOAD, n.notifyType());
        assertEquals(200, n.data()[0] & 0xFF);
        assertEquals(IkeSaState.ESTABLISHED, b.state());
        assertEquals(1, childrenB.current().size());
    }

    @Test
    void messagesForUnknownSpisAreDropped() {
        configure(connectionA(IKE, "aes128gcm16").build(), connectionB(IKE, "aes128gcm16").build());
        initiate();
        network.sent.clear();
        byte[] stranger = new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 9, 9, 9, 9, 9, 0x2E, 0x20, 0x25, 0x08,
                0, 0, 0, 1, 0, 0, 0, 28};
        engineB.receive(stranger, 0, stranger.length, new InetSocketAddress(B, 500), new InetSocketAddress(A, 500));
        deliver();
        assertTrue(network.sent.isEmpty(), "no answer to a stranger");
        assertOneIkeSaPair();
    }
}
