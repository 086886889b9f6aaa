package io.isthmus.ike.message;

/**
 * Bounds-checked reads over a slice of a datagram: every read past the limit is an
 * INVALID_SYNTAX, never an ArrayIndexOutOfBoundsException.
 */
public final class WireReader {
    private final byte[] buf;
    private int position;
    private final int limit;

    public WireReader(byte[] buf, int offset, int length) {
        if (offset < 0 || length < 0 || offset > buf.length - length) {
            throw new IllegalArgumentException("slice outside the buffer");
        }
        this.buf = buf;
        this.position = offset;
        this.limit = offset + length;
    }

    public int remaining() {
        return limit - position;
    }

    public int position() {
        return position;
    }

    private void need(int n, String what) throws IkeProtocolException {
        if (n < 0 || n > limit - position) {
            throw IkeProtocolException.invalidSyntax("truncated " + what + ": need " + n + " bytes, " + (limit - position) + " left");
        }
    }

    public int u8(String what) throws IkeProtocolException {
        need(1, what);
        return buf[position++] & 0xFF;
    }

    public int u16(String what) throws IkeProtocolException {
        need(2, what);
        int v = ((buf[position] & 0xFF) << 8) | (buf[position + 1] & 0xFF);
        position += 2;
        return v;
    }

    public int u32(String what) throws IkeProtocolException {
        need(4, what);
        int v = ((buf[position] & 0xFF) << 24) | ((buf[position + 1] & 0xFF) << 16)
                | ((buf[position + 2] & 0xFF) << 8) | (buf[position + 3] & 0xFF);
        position += 4;
        return v;
    }

    public long u64(String what) throws IkeProtocolException {
        need(8, what);
        long hi = u32(what) & 0xFFFFFFFFL;
        return (hi << 32) | (u32(what) & 0xFFFFFFFFL);
    }

    public byte[] bytes(int n, String what) throws IkeProtocolException {
        need(n, what);
        byte[] out = new byte[n];
        System.arraycopy(buf, position, out, 0, n);
        position += n;
        return out;
    }

    public void skip(int n, String what) throws IkeProtocolException {
        need(n, what);
        position += n;
    }

    /** A reader over the next {@code n} bytes; this one moves past them. */
    public WireReader slice(int n, String what) throws IkeProtocolException {
        need(n, what);
        WireReader r = new WireReader(buf, position, n);
        position += n;
        return r;
    }

    public byte[] rest() {
        byte[] out = new byte[limit - position];
        System.arraycopy(buf, position, out, 0, out.length);
        position = limit;
        return out;
    }
}
