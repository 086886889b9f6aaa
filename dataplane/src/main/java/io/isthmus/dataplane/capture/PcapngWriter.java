package io.isthmus.dataplane.capture;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * pcapng (draft-ietf-opsawg-pcapng), as much of it as a capture needs: a section header, an
 * interface per layer ("outer", "inner", both raw IP: LINKTYPE_RAW, nanosecond timestamps), and
 * an enhanced packet block per packet with its direction (epb_flags) and, where known, its
 * connection's name as the packet's comment. Little-endian, which the section's byte-order magic
 * says. Not thread-safe: the capture's writer thread owns it.
 */
public final class PcapngWriter {
    static final int SECTION_HEADER = 0x0A0D0D0A;
    static final int INTERFACE_DESCRIPTION = 0x00000001;
    static final int ENHANCED_PACKET = 0x00000006;
    static final int BYTE_ORDER_MAGIC = 0x1A2B3C4D;
    /** Raw IPv4 or IPv6, told apart by the version nibble. */
    static final int LINKTYPE_RAW = 101;
    static final int OPT_END = 0;
    static final int OPT_COMMENT = 1;
    static final int SHB_USERAPPL = 4;
    static final int IF_NAME = 2;
    static final int IF_DESCRIPTION = 3;
    static final int IF_TSRESOL = 9;
    static final int EPB_FLAGS = 2;
    static final int FLAG_INBOUND = 1;
    static final int FLAG_OUTBOUND = 2;

    private final OutputStream out;
    private ByteBuffer block = ByteBuffer.allocate(70_000).order(ByteOrder.LITTLE_ENDIAN);
    private long written;

    public PcapngWriter(OutputStream out) {
        this.out = out;
    }

    /** The section header, then an interface per name (their index is the order given), each with {@code snapLength}. */
    public void header(String application, int snapLength, String... interfaces) throws IOException {
        begin(SECTION_HEADER);
        block.putInt(BYTE_ORDER_MAGIC).putShort((short) 1).putShort((short) 0).putLong(-1L);
        option(SHB_USERAPPL, application.getBytes(StandardCharsets.UTF_8));
        end();
        for (String name : interfaces) {
            begin(INTERFACE_DESCRIPTION);
            block.putShort((short) LINKTYPE_RAW).putShort((short) 0).putInt(snapLength);
            option(IF_NAME, name.getBytes(StandardCharsets.UTF_8));
            option(IF_DESCRIPTION, ("isthmus " + name + " packets").getBytes(StandardCharsets.UTF_8));
            option(IF_TSRESOL, new byte[] {9});
            end();
        }
    }

    /**
     * One packet: {@code captured} bytes of {@code data} at {@code off}, of a packet {@code original}
     * bytes long, at {@code epochNanos}; {@code comment} may be null.
     */
    public void packet(int iface, long epochNanos, boolean inbound, byte[] data, int off, int captured, int original, String comment)
            throws IOException {
        begin(ENHANCED_PACKET);
        block.putInt(iface).putInt((int) (epochNanos >>> 32)).putInt((int) epochNanos).putInt(captured).putInt(original);
        block.put(data, off, captured);
        pad(captured);
        block.putShort((short) EPB_FLAGS).putShort((short) 4).putInt(inbound ? FLAG_INBOUND : FLAG_OUTBOUND);
        if (comment != null) {
            option(OPT_COMMENT, comment.getBytes(StandardCharsets.UTF_8));
        }
        end();
    }

    /** Bytes written so far. */
    public long written() {
        return written;
    }

    public void flush() throws IOException {
        out.flush();
    }

    private void begin(int type) {
        block.clear();
        block.putInt(type).putInt(0); // the length, filled in by end()
    }

    private void option(int code, byte[] value) {
        block.putShort((short) code).putShort((short) value.length).put(value);
        pad(value.length);
    }

    private void pad(int length) {
        for (int i = length; i % 4 != 0; i++) {
            block.put((byte) 0);
        }
    }

    private void end() throws IOException {
        block.putShort((short) OPT_END).putShort((short) 0);
        int length = block.position() + 4;
        block.putInt(length);
        block.putInt(4, length);
        out.write(block.array(), 0, length);
        written += length;
    }
}
