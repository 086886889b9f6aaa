package io.isthmus.ike;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.ike.message.ExchangeType;
import io.isthmus.ike.message.IkeHeader;
import io.isthmus.ike.message.IkeMessage;
import io.isthmus.ike.message.NotifyPayload;
import io.isthmus.ike.message.NotifyType;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Which datagrams wait as new IKE SAs' requests, how many may, and in what order and batches they reach the engine. */
class NewSaRequestsTest {
    static final InetSocketAddress LOCAL = new InetSocketAddress(EnginePair.B, 500);
    static final InetSocketAddress REMOTE = new InetSocketAddress(EnginePair.A, 500);

    static byte[] message(long spiI, long spiR, int exchange, int flags) {
        return IkeMessage.encode(new IkeHeader(spiI, spiR, 0, 2, 0, exchange, flags, 0, 0), List.of(NotifyPayload.of(NotifyType.COOKIE, new byte[8])));
    }

    @Test
    void onlyARequestForANewIkeSaWaits() {
        byte[] init = message(7, 0, ExchangeType.IKE_SA_INIT, IkeHeader.FLAG_INITIATOR);
        assertTrue(NewSaRequests.isNewSaRequest(init, 0, init.length));
        byte[] answer = message(7, 0, ExchangeType.IKE_SA_INIT, IkeHeader.FLAG_RESPONSE);
        assertFalse(NewSaRequests.isNewSaRequest(answer, 0, answer.length), "an answer to ours");
        byte[] auth = message(7, 9, ExchangeType.IKE_AUTH, IkeHeader.FLAG_INITIATOR);
        assertFalse(NewSaRequests.isNewSaRequest(auth, 0, auth.length), "IKE_AUTH goes first");
        byte[] withSpi = message(7, 9, ExchangeType.IKE_SA_INIT, IkeHeader.FLAG_INITIATOR);
        assertFalse(NewSaRequests.isNewSaRequest(withSpi, 0, withSpi.length), "no new SA asked for with a responder SPI");
        assertFalse(NewSaRequests.isNewSaRequest(init, 0, 27), "too short to be one");
        byte[] shifted = new byte[init.length + 4];
        System.arraycopy(init, 0, shifted, 4, init.length);
        assertTrue(NewSaRequests.isNewSaRequest(shifted, 4, init.length), "at an offset");
    }

    @Test
    void theyWaitUpToTheirNumberAndReachTheEngineOldestFirstAFewAtATime() {
        NewSaRequests r = new NewSaRequests();
        for (int i = 0; i < NewSaRequests.CAPACITY; i++) {
            assertTrue(r.offer(new NewSaRequests.Request(message(i + 1, 0, ExchangeType.IKE_SA_INIT, IkeHeader.FLAG_INITIATOR), LOCAL, REMOTE)));
        }
        assertFalse(r.offer(new NewSaRequests.Request(message(99_999, 0, ExchangeType.IKE_SA_INIT, IkeHeader.FLAG_INITIATOR), LOCAL, REMOTE)));
        assertEquals(1, r.dropped());
        List<Long> seen = new ArrayList<>();
        Transport.Receiver engine = (d, offset, length, local, remote) -> seen.add(EnginePair.decode(java.util.Arrays.copyOfRange(d, offset, offset + length))
                .header().initiatorSpi());
        assertTrue(r.drain(engine));
        assertEquals(List.of(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L), seen, "the oldest batch");
        while (r.drain(engine)) {
            // batch after batch
        }
        assertEquals(NewSaRequests.CAPACITY, seen.size());
        assertEquals(0, r.waiting());
    }
}
