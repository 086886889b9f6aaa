package io.isthmus.ike.exchange;

import java.util.Arrays;

/**
 * Both ends rekeyed the same SA at once (RFC 7296 §2.8.1 for child SAs, §2.8.2 for the IKE SA):
 * each answered the other's request, so there are two replacements. Kept by our rekey exchange
 * from the moment we answer the peer's until our own response comes: then the exchange holding
 * the lowest of the four nonces turns out to have made the redundant replacement, which its
 * initiator deletes; the other initiator deletes the old SA.
 *
 * @param peersReplacement the SA the peer's exchange made
 * @param peersLowestNonce the lower of the peer's exchange's two nonces
 */
record RekeyCollision<S>(S peersReplacement, byte[] peersLowestNonce) {

    static byte[] lower(byte[] a, byte[] b) {
        return Arrays.compareUnsigned(a, b) <= 0 ? a : b;
    }

    /** Whether our exchange, with these nonces, holds the lowest of the four. */
    boolean oursHasLowest(byte[] ni, byte[] nr) {
        return Arrays.compareUnsigned(lower(ni, nr), peersLowestNonce) < 0;
    }
}
