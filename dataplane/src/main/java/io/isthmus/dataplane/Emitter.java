package io.isthmus.dataplane;

import io.isthmus.dataplane.linux.PacketBuffer;

/** Where the two packet paths put what leaves them: the sockets and TUN device in the gateway, fakes in tests. */
interface Emitter {
    /**
     * ESP packets back to back at {@code buffer[offset .. offset + length)}, each
     * {@code segmentSize} bytes but the last, which may be shorter, all for {@code route}'s
     * peer: how many were sent, or minus errno if none was.
     */
    int sendEsp(InstalledSa.Outbound route, PacketBuffer buffer, int offset, int length, int segmentSize);

    /** An IKE message that came in on port 4500 (marker already skipped); the receiver copies it. */
    void toIke(byte[] message, int offset, int length);
}
