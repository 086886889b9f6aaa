package io.isthmus.ike.crypto;

import io.isthmus.ike.message.IkeProtocolException;
import io.isthmus.ike.message.Payload;
import io.isthmus.ike.message.PayloadCodec;
import io.isthmus.ike.message.PayloadType;
import io.isthmus.ike.message.SkfPayload;
import java.util.List;

/**
 * The fragments of one message in one direction (RFC 7383 §2.6), each kept only once its own ICV
 * verified. A fragment of another message, or of a retransmission cut into more pieces, starts
 * over; fragments of a retransmission cut into fewer pieces are ignored until the bigger set is
 * complete or replaced.
 */
final class Reassembly {
    /** Reassembled messages above this are dropped (RFC 7383 leaves the limit to us). */
    static final int MAX_REASSEMBLED = 64 * 1024;

    private int messageId;
    private int total;
    private byte[][] parts;
    private int firstInnerPayload = PayloadType.NONE;
    private int received;
    private int bytes;

    /** Keeps a verified fragment; returns the whole message's payloads once every fragment is in, else null. */
    List<Payload> add(int id, SkfPayload f, byte[] plaintext) throws IkeProtocolException {
        if (f.totalFragments() == 0 || f.fragmentNumber() == 0 || f.fragmentNumber() > f.totalFragments()) {
            throw IkeProtocolException.invalidSyntax("fragment " + f.fragmentNumber() + " of " + f.totalFragments());
        }
        if (parts == null || messageId != id || f.totalFragments() > total) {
            // A retransmission with smaller fragments starts over (RFC 7383 §2.6).
            start(id, f.totalFragments());
        } else if (f.totalFragments() < total) {
            return null;
        }
        int index = f.fragmentNumber() - 1;
        if (parts[index] == null) {
            parts[index] = plaintext;
            received++;
            bytes += plaintext.length;
            if (index == 0) {
                firstInnerPayload = f.firstInnerPayload();
            }
        }
        if (bytes > MAX_REASSEMBLED) {
            throw IkeProtocolException.invalidSyntax("fragments of message " + id + " exceed " + MAX_REASSEMBLED + " bytes");
        }
        if (received < total) {
            return null;
        }
        byte[] whole = KeyDerivation.concat(parts);
        int first = firstInnerPayload;
        parts = null;
        return PayloadCodec.decodeChain(first, whole, 0, whole.length);
    }

    private void start(int id, int fragments) {
        messageId = id;
        total = fragments;
        parts = new byte[fragments][];
        firstInnerPayload = PayloadType.NONE;
        received = 0;
        bytes = 0;
    }
}
