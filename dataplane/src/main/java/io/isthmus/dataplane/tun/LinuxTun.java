package io.isthmus.dataplane.tun;

import io.isthmus.dataplane.linux.Libc;
import io.isthmus.dataplane.linux.PacketBuffer;
import io.isthmus.dataplane.linux.TunDevice;

/**
 * A {@link TunPort} over the kernel's TUN device ({@link TunDevice}, FFM): one read(2) per
 * {@link #read}, one write(2) per packet or merged super-packet. With the device's virtio header
 * (IFF_VNET_HDR) reads may be super-packets and writes are merged; without it, every packet goes
 * alone and the header is added and stripped here. One per packet thread, over a device they share.
 */
public final class LinuxTun implements TunPort {
    private final TunDevice device;
    private final Libc.CallState state = new Libc.CallState();
    /** Without a virtio header from the device, the packet is read after a zeroed one. */
    private final int readAt;
    private final GroMerger merger;

    public LinuxTun(TunDevice device) {
        this.device = device;
        this.readAt = device.vnetHeader() ? 0 : VirtioHeader.LENGTH;
        this.merger = new GroMerger(device.vnetHeader(), device.uso(), this::writeFrame);
    }

    @Override
    public boolean read(TunBatch batch) {
        int n = device.read(state, batch.frame, readAt, TunBatch.CAPACITY - readAt);
        if (n <= 0) {
            return false;
        }
        batch.parse(readAt + n, device.vnetHeader());
        return true;
    }

    @Override
    public void write(PacketBuffer buffer, int offset, int length, Loss loss) {
        merger.write(buffer, offset, length, loss);
    }

    @Override
    public void flush() {
        merger.flush();
    }

    /** A frame with its virtio header to the device, without the header if the device takes none. */
    private int writeFrame(PacketBuffer b, int offset, int length) {
        return device.vnetHeader() ? device.write(state, b, offset, length)
                : device.write(state, b, offset + VirtioHeader.LENGTH, length - VirtioHeader.LENGTH);
    }

    @Override
    public String toString() {
        return device.toString();
    }
}
