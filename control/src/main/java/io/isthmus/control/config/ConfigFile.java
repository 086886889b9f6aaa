package io.isthmus.control.config;

import io.isthmus.dataplane.linux.Libc;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * The configuration file's bytes and mode, taken from one open file: a reload must not be made
 * to allocate without bound (a link to /dev/zero), to wait forever (a FIFO), or to judge the
 * mode of one file and parse another (a file swapped by path between the read and a stat).
 *
 * <p>Java's own {@code open} can neither open without blocking nor stat what it opened, so this
 * opens with libc: {@code O_RDONLY|O_NONBLOCK|O_NOCTTY|O_CLOEXEC}, following links. With
 * O_NONBLOCK the open of a FIFO returns at once instead of waiting for a writer, so no check by
 * path has to come before it (there is none, hence no race between a check and the open); then
 * {@code statx} on the descriptor itself (AT_EMPTY_PATH) gives the type, size and mode of exactly
 * the file that was opened. Anything but a regular file is refused before a byte is read; a
 * regular file is read through a bound of {@link #MAX_BYTES} + 1 bytes whatever size it claims
 * (a file may grow between the stat and the read). Opening a device node just to stat it is the
 * one side effect left; no device is read, and O_NOCTTY keeps a terminal from becoming ours.
 */
final class ConfigFile {
    /**
     * A gateway's configuration is a few kilobytes; this leaves room for the most connections a
     * gateway takes (10,000, SKU Isthmus) at well over a kilobyte each: 10,000 with a pre-shared
     * key and one prefix each are 2.3 MB.
     */
    static final int MAX_BYTES = 16 << 20;

    private static final int O_RDONLY = 0;
    private static final int O_NOCTTY = 0x100;
    private static final int AT_EMPTY_PATH = 0x1000;
    private static final int STATX_TYPE = 0x1;
    private static final int STATX_MODE = 0x2;
    private static final int STATX_SIZE = 0x200;
    private static final int S_IFMT = 0170000;
    private static final int S_IFREG = 0100000;
    /** struct statx: stx_mode (u16) at 28, stx_size (u64) at 40; the same on every architecture. */
    private static final long STATX_SIZE_OF = 256;
    private static final long STX_MODE = 28;
    private static final long STX_SIZE = 40;
    private static final MethodHandle STATX = Linker.nativeLinker().downcallHandle(
            Linker.nativeLinker().defaultLookup().find("statx").orElseThrow(() -> new UnsatisfiedLinkError("libc has no statx")),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT,
                    ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
    /**
     * read(2) as an ordinary downcall: Libc's is a critical one, fit for the packet path's short
     * reads but not for a read of a file on a disk or a network that may take a while.
     */
    private static final MethodHandle READ = Linker.nativeLinker().downcallHandle(
            Linker.nativeLinker().defaultLookup().find("read").orElseThrow(() -> new UnsatisfiedLinkError("libc has no read")),
            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));

    record Contents(String text, FileAccess access) {
    }

    private ConfigFile() {
    }

    static Contents read(Path file) {
        return read(file, () -> { });
    }

    /** {@code afterOpen} runs once the file is open: tests swap the path there. */
    static Contents read(Path file, Runnable afterOpen) {
        Libc.CallState s = new Libc.CallState();
        int fd = Libc.open(s, file.toString(), O_RDONLY | Libc.O_NONBLOCK | O_NOCTTY | Libc.O_CLOEXEC);
        if (fd < 0) {
            throw new ConfigException(file, "", openProblem(-fd));
        }
        try (Arena arena = Arena.ofConfined()) {
            afterOpen.run();
            MemorySegment stx = arena.allocate(STATX_SIZE_OF, 8);
            int r;
            try {
                r = (int) STATX.invokeExact(fd, arena.allocateFrom(""), AT_EMPTY_PATH, STATX_TYPE | STATX_MODE | STATX_SIZE, stx);
            } catch (Throwable t) {
                throw new IllegalStateException("statx: " + t, t);
            }
            if (r != 0) {
                throw new ConfigException(file, "", "cannot read it: statx failed");
            }
            int mode = Short.toUnsignedInt(stx.get(ValueLayout.JAVA_SHORT_UNALIGNED, STX_MODE));
            if ((mode & S_IFMT) != S_IFREG) {
                throw new ConfigException(file, "", "not a regular file (" + kind(mode) + ")");
            }
            long size = stx.get(ValueLayout.JAVA_LONG_UNALIGNED, STX_SIZE);
            if (size > MAX_BYTES) {
                throw tooLarge(file);
            }
            MemorySegment buffer = arena.allocate(MAX_BYTES + 1);
            int total = 0;
            while (total <= MAX_BYTES) {
                long n;
                try {
                    n = (long) READ.invokeExact(fd, buffer.asSlice(total), (long) (MAX_BYTES + 1 - total));
                } catch (Throwable t) {
                    throw new IllegalStateException("read: " + t, t);
                }
                if (n < 0) {
                    // EINTR cannot happen here: the JVM installs its signal handlers with SA_RESTART.
                    throw new ConfigException(file, "", "cannot read it: read failed");
                }
                if (n == 0) {
                    break;
                }
                total += (int) n;
            }
            if (total > MAX_BYTES) {
                throw tooLarge(file);
            }
            String text = utf8(file, buffer.asSlice(0, total).toArray(ValueLayout.JAVA_BYTE));
            return new Contents(text, FileAccess.ofMode(file, mode));
        } finally {
            Libc.close(s, fd);
        }
    }

    private static ConfigException tooLarge(Path file) {
        return new ConfigException(file, "", "larger than " + (MAX_BYTES >> 20) + " MiB (" + MAX_BYTES + " bytes), the most a configuration may hold");
    }

    /** Strict UTF-8: a malformed byte is named by its position (counted from 1), not replaced. */
    private static String utf8(Path file, byte[] bytes) {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length);
        CoderResult result = decoder.decode(in, out, true);
        if (result.isUnderflow()) {
            result = decoder.flush(out);
        }
        if (result.isError()) {
            throw new ConfigException(file, "", "not UTF-8 (byte " + (in.position() + 1) + ")");
        }
        return out.flip().toString();
    }

    private static String openProblem(int errno) {
        return switch (errno) {
            case 2 -> "no such file";
            case 13 -> "cannot read it: permission denied";
            case 20 -> "no such file (a part of its path is not a directory)";
            case 40 -> "cannot read it: too many levels of symbolic links";
            case 6 -> "not a regular file (a socket)"; // ENXIO: open of a Unix socket
            default -> "cannot read it: " + Libc.describe(errno);
        };
    }

    private static String kind(int mode) {
        return switch (mode & S_IFMT) {
            case 0040000 -> "a directory";
            case 0020000 -> "a character device";
            case 0060000 -> "a block device";
            case 0010000 -> "a FIFO";
            case 0140000 -> "a socket";
            default -> "type " + Integer.toOctalString(mode & S_IFMT);
        };
    }
}
