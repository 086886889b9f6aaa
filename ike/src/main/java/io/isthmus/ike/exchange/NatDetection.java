package io.isthmus.ike.exchange;

import io.isthmus.ike.message.NotifyPayload;
import io.isthmus.ike.message.NotifyType;
import io.isthmus.ike.message.Payload;
import java.net.InetSocketAddress;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;

/**
 * NAT detection (RFC 7296 §2.23): each end hashes the SPIs with the addresses and ports it sends
 * from and to; a hash that does not match where the packet came from or arrived means someone in
 * between rewrote them. Which side was rewritten decides who sends NAT keepalives (RFC 3948).
 */
final class NatDetection {
    /**
     * @param natDetected ESP goes in UDP (a NAT somewhere, or forced)
     * @param behindNat   our own address was rewritten, so we keep the mapping open
     */
    record Result(boolean natDetected, boolean behindNat) {
        /** For the log line that says how IKE_SA_INIT ended. */
        String note() {
            return behindNat ? ", we are behind a NAT" : natDetected ? ", NAT detected" : "";
        }
    }

    private NatDetection() {
    }

    /** SHA-1(SPIi | SPIr | IP | port), as both notifies carry it. */
    static byte[] hash(long spiI, long spiR, InetSocketAddress address) {
        try {
            MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
            for (long spi : new long[] {spiI, spiR}) {
                for (int i = 0; i < 8; i++) {
                    sha1.update((byte) (spi >>> (56 - 8 * i)));
                }
            }
            sha1.update(address.getAddress().getAddress());
            sha1.update((byte) (address.getPort() >>> 8));
            sha1.update((byte) address.getPort());
            return sha1.digest();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Our N(NAT_DETECTION_SOURCE_IP) and N(NAT_DETECTION_DESTINATION_IP). {@code fakeSource}, when
     * given, replaces the true source hash with bytes that cannot match, so the peer sees a NAT
     * too and both use UDP encapsulation (RFC 7296 §2.23 allows faking it).
     */
    static List<NotifyPayload> notifies(long spiI, long spiR, InetSocketAddress local, InetSocketAddress remote, byte[] fakeSource) {
        return List.of(NotifyPayload.of(NotifyType.NAT_DETECTION_SOURCE_IP, fakeSource != null ? fakeSource : hash(spiI, spiR, local)),
                NotifyPayload.of(NotifyType.NAT_DETECTION_DESTINATION_IP, hash(spiI, spiR, remote)));
    }

    /**
     * The peer's view of its own address must match where its packets come from, and its view of
     * ours where they arrive; otherwise someone in between rewrote them.
     */
    static Result detect(List<Payload> payloads, long spiI, long spiR, InetSocketAddress local, InetSocketAddress remote,
                                boolean forced) {
        boolean sourceSeen = false;
        boolean sourceMatches = false;
        boolean destinationSeen = false;
        boolean destinationMatches = false;
        byte[] expectedSource = hash(spiI, spiR, remote);
        byte[] expectedDestination = hash(spiI, spiR, local);
        for (Payload p : payloads) {
            if (p instanceof NotifyPayload n && n.notifyType() == NotifyType.NAT_DETECTION_SOURCE_IP) {
                sourceSeen = true;
                sourceMatches |= MessageDigest.isEqual(n.data(), expectedSource);
            } else if (p instanceof NotifyPayload n && n.notifyType() == NotifyType.NAT_DETECTION_DESTINATION_IP) {
                destinationSeen = true;
                destinationMatches = MessageDigest.isEqual(n.data(), expectedDestination);
            }
        }
        boolean behindNat = destinationSeen && !destinationMatches;
        return new Result((sourceSeen && !sourceMatches) || behindNat || forced, behindNat);
    }
}
