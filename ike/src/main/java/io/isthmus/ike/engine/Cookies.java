package io.isthmus.ike.engine;

import io.isthmus.ike.message.ExchangeType;
import io.isthmus.ike.message.IkeHeader;
import io.isthmus.ike.message.IkeMessage;
import io.isthmus.ike.message.NoncePayload;
import io.isthmus.ike.message.NotifyPayload;
import io.isthmus.ike.message.NotifyType;
import io.isthmus.ike.message.Payload;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A responder's cookies (RFC 7296 §2.6): made from the request and a secret of ours, so that
 * one that comes back proves the initiator receives at the address it sends from, without our
 * keeping anything per request; and how fast each address that answers them may be served
 * (a proven address is not a proof of good intent). When to ask for one is the engine's
 * decision. Engine thread only.
 */
final class Cookies {
    private final byte[] secret;
    private final int answersPerAddress;
    /** Per address that answered cookies lately, the times of its last answers (the oldest addresses forgotten first). */
    private final Map<InetAddress, CostlyInitRequests> answers = new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<InetAddress, CostlyInitRequests> eldest) {
            return size() > 4096;
        }
    };
    private long sent;

    /** With {@code secret} (taken over) and at most {@code answersPerAddress} requests with a valid cookie per address a second. */
    Cookies(byte[] secret, int answersPerAddress) {
        this.secret = secret;
        this.answersPerAddress = answersPerAddress;
    }

    /** RFC 7296 §2.6: Cookie = VersionIDofSecret | Hash(Ni | IPi | SPIi | <secret>); null for a request without a nonce. */
    byte[] of(IkeMessage request, InetSocketAddress remote) {
        NoncePayload nonce = request.first(NoncePayload.class).orElse(null);
        if (nonce == null) {
            return null;
        }
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(nonce.nonce());
            sha.update(remote.getAddress().getAddress());
            for (int i = 0; i < 8; i++) {
                sha.update((byte) (request.header().initiatorSpi() >>> (56 - 8 * i)));
            }
            sha.update(secret);
            byte[] hash = sha.digest();
            byte[] cookie = new byte[1 + hash.length];
            System.arraycopy(hash, 0, cookie, 1, hash.length);
            return cookie;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Whether {@code request} starts with the cookie we would give it (compared in constant time). */
    boolean valid(IkeMessage request, InetSocketAddress remote) {
        List<Payload> payloads = request.payloads();
        if (payloads.isEmpty() || !(payloads.getFirst() instanceof NotifyPayload n) || n.notifyType() != NotifyType.COOKIE) {
            return false;
        }
        byte[] expected = of(request, remote);
        return expected != null && MessageDigest.isEqual(expected, n.data());
    }

    /** A request of {@code address} with a valid cookie: counted and true if within its rate, else false. */
    boolean answerAllowed(InetAddress address, Instant now) {
        return answers.computeIfAbsent(address, a -> new CostlyInitRequests(answersPerAddress)).allow(now);
    }

    /** The answer that asks {@code request}'s sender for its cookie, counted as sent; null for a request without a nonce. */
    byte[] ask(IkeMessage request, InetSocketAddress remote) {
        byte[] cookie = of(request, remote);
        if (cookie == null) {
            return null;
        }
        sent++;
        IkeHeader answer = new IkeHeader(request.header().initiatorSpi(), 0, 0, 2, 0, ExchangeType.IKE_SA_INIT, IkeHeader.FLAG_RESPONSE, 0, 0);
        return IkeMessage.encode(answer, List.of(NotifyPayload.of(NotifyType.COOKIE, cookie)));
    }

    /** Cookies asked for since the engine started. */
    long sentSoFar() {
        return sent;
    }
}
