package io.isthmus.dataplane.tun;

import io.isthmus.dataplane.linux.PacketBuffer;

/**
 * The TUN device as one packet thread sees it, in the shape of wireguard-go's {@code tun.Device}
 * ({@code Read(bufs, sizes, offset)}, {@code Write(bufs, offset)}): a read hands over a batch of
 * plain IP packets, a write takes a packet with headroom before it, and {@link #flush} writes what
 * the writes held back. The offloads stay behind the port: the virtio header, cutting TCP and UDP
 * super-packets into segments (TSO, USO) on the way in ({@link TunBatch}) and merging segments of
 * one flow into super-packets (GRO) on the way out ({@link GroMerger}). The packet paths see
 * packets only, and route, seal, open and check selectors.
 *
 * <p>One port per packet thread: its buffers and merge state belong to that thread, and several
 * ports may share one device ({@link LinuxTun} over one descriptor). Nothing here allocates per
 * packet.
 */
public interface TunPort {
    /** Bytes before a packet handed to {@link #write} that the port may overwrite (for the virtio header). */
    int HEADROOM = VirtioHeader.LENGTH;

    /**
     * One read from the device into {@code batch}: whether anything was read. The batch then
     * holds its packets, a super-packet as the segments it stands for, or none if what the
     * device handed over cannot be forwarded (not IP, lengths or offload fields that do not add
     * up): the caller counts that as malformed.
     */
    boolean read(TunBatch batch);

    /**
     * A packet for the device, {@code length} bytes at {@code buffer[offset]}, with
     * {@link #HEADROOM} bytes before it that the port may overwrite. It is written now, or held to
     * be merged with the packets after it and written by a later write or by {@link #flush}. If
     * the device refuses it, {@code loss} hears how many packets were lost.
     */
    void write(PacketBuffer buffer, int offset, int length, Loss loss);

    /** Writes what {@link #write} held back: called when a duty cycle ends, so a lone packet never waits. */
    void flush();

    /** Where packets the device refused are counted (the tunnel they came through). */
    @FunctionalInterface
    interface Loss {
        /** Counted nowhere: for packets the data plane made itself (ICMP errors), already counted as the drop they answer. */
        Loss NONE = packets -> {
        };

        void refused(int packets);
    }

    /** What a port hands the device: a frame, its virtio header at {@code offset}, the packet after it. */
    @FunctionalInterface
    interface FrameWriter {
        /** Bytes written, or minus errno. */
        int write(PacketBuffer buffer, int offset, int length);
    }
}
