package io.isthmus.control.ha;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The wire form of {@link Frame}s. Framing is apart from parsing: a frame is
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                 length (of what follows, octets)              |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |     type      |  body ...
 * +-+-+-+-+-+-+-+-+
 * </pre>
 *
 * Netty's length-field decoder cuts frames (and refuses a length over the limit before buffering
 * it); {@link #decode} reads one cut frame. Numbers are big-endian; a string is one length octet
 * and UTF-8 (1..255 octets); a key has a 16-bit length, a value a 32-bit one; a group map is a
 * 16-bit count of (string, 64-bit epoch). Every read is bounds-checked first, and a frame must be
 * consumed exactly: trailing octets are as malformed as missing ones.
 */
final class FrameCodec {
    static final int VERSION = 1;
    static final int LENGTH_FIELD = 4;

    static final byte HELLO = 1;
    static final byte PUT = 2;
    static final byte REMOVE = 3;
    static final byte FULL_SYNC_BEGIN = 4;
    static final byte FULL_SYNC_END = 5;
    static final byte ACK = 6;
    static final byte HEARTBEAT = 7;
    static final byte OWNERSHIP = 8;
    static final byte FENCED = 9;

    private FrameCodec() {
    }

    /** The frame with its length prefix. */
    static ByteBuf encode(ByteBufAllocator alloc, Frame frame) {
        ByteBuf out = alloc.buffer();
        out.writeInt(0);
        switch (frame) {
            case Frame.Hello h -> {
                out.writeByte(HELLO);
                out.writeShort(h.version());
                writeString(out, h.instance());
                writeGroups(out, h.epochs());
            }
            case Frame.Put p -> {
                out.writeByte(PUT);
                out.writeLong(p.sequence());
                writeString(out, p.group());
                out.writeLong(p.epoch());
                out.writeByte(p.kind());
                writeKey(out, p.key());
                out.writeInt(p.value().length);
                out.writeBytes(p.value());
            }
            case Frame.Remove r -> {
                out.writeByte(REMOVE);
                out.writeLong(r.sequence());
                writeString(out, r.group());
                out.writeLong(r.epoch());
                out.writeByte(r.kind());
                writeKey(out, r.key());
            }
            case Frame.FullSyncBegin b -> {
                out.writeByte(FULL_SYNC_BEGIN);
                out.writeLong(b.sequence());
                writeGroups(out, b.groups());
            }
            case Frame.FullSyncEnd e -> {
                out.writeByte(FULL_SYNC_END);
                out.writeLong(e.sequence());
                writeGroups(out, e.groups());
            }
            case Frame.Ack a -> {
                out.writeByte(ACK);
                out.writeLong(a.sequence());
            }
            case Frame.Heartbeat ignored -> out.writeByte(HEARTBEAT);
            case Frame.Ownership o -> {
                out.writeByte(OWNERSHIP);
                writeString(out, o.group());
                out.writeLong(o.epoch());
                writeString(out, o.owner());
            }
            case Frame.Fenced f -> {
                out.writeByte(FENCED);
                writeString(out, f.group());
                out.writeLong(f.epoch());
            }
        }
        out.setInt(0, out.readableBytes() - LENGTH_FIELD);
        return out;
    }

    /** One frame without its length prefix, read whole. */
    static Frame decode(ByteBuf in) throws MalformedFrameException {
        need(in, 1, "frame type");
        byte type = in.readByte();
        Frame frame = switch (type) {
            case HELLO -> new Frame.Hello(readShort(in, "HELLO version"), readString(in, "HELLO instance"), readGroups(in, "HELLO"));
            case PUT -> new Frame.Put(readLong(in, "PUT sequence"), readString(in, "PUT group"), readLong(in, "PUT epoch"),
                    readByte(in, "PUT kind"), readKey(in, "PUT key"), readValue(in));
            case REMOVE -> new Frame.Remove(readLong(in, "REMOVE sequence"), readString(in, "REMOVE group"),
                    readLong(in, "REMOVE epoch"), readByte(in, "REMOVE kind"), readKey(in, "REMOVE key"));
            case FULL_SYNC_BEGIN -> new Frame.FullSyncBegin(readLong(in, "FULL_SYNC_BEGIN sequence"), readGroups(in, "FULL_SYNC_BEGIN"));
            case FULL_SYNC_END -> new Frame.FullSyncEnd(readLong(in, "FULL_SYNC_END sequence"), readGroups(in, "FULL_SYNC_END"));
            case ACK -> new Frame.Ack(readLong(in, "ACK sequence"));
            case HEARTBEAT -> new Frame.Heartbeat();
            case OWNERSHIP -> new Frame.Ownership(readString(in, "OWNERSHIP group"), readLong(in, "OWNERSHIP epoch"),
                    readString(in, "OWNERSHIP owner"));
            case FENCED -> new Frame.Fenced(readString(in, "FENCED group"), readLong(in, "FENCED epoch"));
            default -> throw new MalformedFrameException("unknown frame type " + (type & 0xff));
        };
        if (in.isReadable()) {
            throw new MalformedFrameException(in.readableBytes() + " octets left over after a frame of type " + type);
        }
        return frame;
    }

    /** The octets a string takes on the wire, or an IllegalArgumentException naming what is allowed. */
    static byte[] checkedString(String s, String what) {
        byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
        if (utf8.length == 0 || utf8.length > 255) {
            throw new IllegalArgumentException(what + " must be 1 to 255 octets of UTF-8, is " + utf8.length);
        }
        return utf8;
    }

    private static void writeString(ByteBuf out, String s) {
        byte[] utf8 = checkedString(s, "a name");
        out.writeByte(utf8.length);
        out.writeBytes(utf8);
    }

    private static void writeKey(ByteBuf out, byte[] key) {
        if (key.length > 0xffff) {
            throw new IllegalArgumentException("a key is at most 65535 octets, this one " + key.length);
        }
        out.writeShort(key.length);
        out.writeBytes(key);
    }

    private static void writeGroups(ByteBuf out, Map<String, Long> groups) {
        if (groups.size() > 0xffff) {
            throw new IllegalArgumentException("at most 65535 groups, not " + groups.size());
        }
        out.writeShort(groups.size());
        groups.forEach((g, e) -> {
            writeString(out, g);
            out.writeLong(e);
        });
    }

    private static void need(ByteBuf in, int n, String what) throws MalformedFrameException {
        if (in.readableBytes() < n) {
            throw new MalformedFrameException(what + ": need " + n + " octets, " + in.readableBytes() + " left");
        }
    }

    private static byte readByte(ByteBuf in, String what) throws MalformedFrameException {
        need(in, 1, what);
        return in.readByte();
    }

    private static int readShort(ByteBuf in, String what) throws MalformedFrameException {
        need(in, 2, what);
        return in.readUnsignedShort();
    }

    private static long readLong(ByteBuf in, String what) throws MalformedFrameException {
        need(in, 8, what);
        return in.readLong();
    }

    private static String readString(ByteBuf in, String what) throws MalformedFrameException {
        int n = readByte(in, what + " length") & 0xff;
        if (n == 0) {
            throw new MalformedFrameException(what + ": empty");
        }
        need(in, n, what);
        return in.readCharSequence(n, StandardCharsets.UTF_8).toString();
    }

    private static byte[] readKey(ByteBuf in, String what) throws MalformedFrameException {
        int n = readShort(in, what + " length");
        need(in, n, what);
        byte[] key = new byte[n];
        in.readBytes(key);
        return key;
    }

    private static byte[] readValue(ByteBuf in) throws MalformedFrameException {
        need(in, 4, "PUT value length");
        long n = in.readUnsignedInt();
        if (n > in.readableBytes()) {
            throw new MalformedFrameException("PUT value: need " + n + " octets, " + in.readableBytes() + " left");
        }
        byte[] value = new byte[(int) n];
        in.readBytes(value);
        return value;
    }

    private static Map<String, Long> readGroups(ByteBuf in, String what) throws MalformedFrameException {
        int n = readShort(in, what + " group count");
        Map<String, Long> groups = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            String g = readString(in, what + " group");
            long epoch = readLong(in, what + " epoch of " + g);
            if (groups.put(g, epoch) != null) {
                throw new MalformedFrameException(what + ": group " + g + " twice");
            }
        }
        return groups;
    }
}
