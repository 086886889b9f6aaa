package io.isthmus.control.ha;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class FrameCodecTest {

    private static ByteBuf body(Frame f) {
        ByteBuf b = FrameCodec.encode(ByteBufAllocator.DEFAULT, f);
        assertEquals(b.readableBytes() - 4, b.readInt(), "the length prefix counts what follows it");
        return b;
    }

    @Test
    void everyFrameSurvivesTheWire() throws Exception {
        Map<String, Long> groups = new LinkedHashMap<>();
        groups.put("vip-a", 3L);
        groups.put("vip-b", 4L);
        List<Frame> plain = List.of(new Frame.Hello(1, "a", groups), new Frame.FullSyncBegin(7, groups),
                new Frame.FullSyncEnd(9, Map.of()), new Frame.Ack(Long.MAX_VALUE), new Frame.Heartbeat(),
                new Frame.Ownership("vip-a", 5, "b"), new Frame.Fenced("vip-a", 6));
        for (Frame f : plain) {
            ByteBuf b = body(f);
            assertEquals(f, FrameCodec.decode(b));
            b.release();
        }
        ByteBuf b = body(new Frame.Put(12, "vip-a", 3, (byte) 0xfe, new byte[] {1, 2}, new byte[300]));
        Frame.Put p = (Frame.Put) FrameCodec.decode(b);
        assertEquals(12, p.sequence());
        assertEquals((byte) 0xfe, p.kind());
        assertArrayEquals(new byte[] {1, 2}, p.key());
        assertEquals(300, p.value().length);
        b.release();
        b = body(new Frame.Remove(13, "vip-a", 3, (byte) 2, new byte[0]));
        Frame.Remove r = (Frame.Remove) FrameCodec.decode(b);
        assertEquals(0, r.key().length);
        b.release();
    }

    @Test
    void everyTruncationIsMalformed() throws Exception {
        ByteBuf whole = body(new Frame.Put(12, "vip-a", 3, (byte) 1, new byte[] {1, 2, 3}, new byte[] {4, 5}));
        for (int n = 0; n < whole.readableBytes(); n++) {
            int cut = n;
            MalformedFrameException e = assertThrows(MalformedFrameException.class,
                    () -> FrameCodec.decode(whole.slice(whole.readerIndex(), cut)), "cut at " + cut);
            assertTrue(e.getMessage().contains("need") || e.getMessage().contains("empty"), e.getMessage());
        }
        whole.release();
    }

    @Test
    void unknownTypesTrailingOctetsAndLiesAreMalformed() {
        assertThrows(MalformedFrameException.class, () -> FrameCodec.decode(Unpooled.wrappedBuffer(new byte[] {42})));
        assertThrows(MalformedFrameException.class,
                () -> FrameCodec.decode(Unpooled.wrappedBuffer(new byte[] {FrameCodec.HEARTBEAT, 0})));
        // A value length of 4 GiB in a frame of a few octets.
        ByteBuf lie = Unpooled.buffer().writeByte(FrameCodec.PUT).writeLong(1).writeByte(1).writeByte('g').writeLong(1)
                .writeByte(1).writeShort(0).writeInt(-1);
        assertThrows(MalformedFrameException.class, () -> FrameCodec.decode(lie));
        // The same group twice in one HELLO.
        ByteBuf twice = Unpooled.buffer().writeByte(FrameCodec.HELLO).writeShort(1).writeByte(1).writeByte('a')
                .writeShort(2).writeByte(1).writeByte('g').writeLong(1).writeByte(1).writeByte('g').writeLong(2);
        assertThrows(MalformedFrameException.class, () -> FrameCodec.decode(twice));
    }

    @Test
    void namesOutsideOneTo255OctetsAreRefusedWhenSending() {
        assertThrows(IllegalArgumentException.class,
                () -> FrameCodec.encode(ByteBufAllocator.DEFAULT, new Frame.Fenced("", 1)));
        assertThrows(IllegalArgumentException.class,
                () -> FrameCodec.encode(ByteBufAllocator.DEFAULT, new Frame.Fenced("g".repeat(256), 1)));
    }
}
