package io.isthmus.control.ha;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.CRC32;

/**
 * Per ownership group, the highest epoch this instance has seen or taken, in a small file.
 *
 * <p>An epoch fences an instance that was paused while the other took its group over: the
 * partner refuses updates from an epoch below the one it knows. That only holds if an epoch is
 * never taken twice, across restarts too, so a new epoch is on disk (written beside, fsynced,
 * renamed over, directory fsynced) before anyone hears of it, and a file that cannot be read
 * whole stops the start instead of counting again from zero. An absent file is a new instance.
 *
 * <p>The two instances take epochs of different parity (the one whose name sorts first takes odd
 * ones): if both take the same group while apart (split brain, or one restarted from an old
 * file), their epochs still differ, and the higher one wins when they meet again.
 *
 * <p>File: a header line, one {@code group epoch} line per group, and a CRC-32 of all before it.
 */
public final class EpochStore {
    private static final String HEADER = "isthmus-epochs 1";
    private static final String CRC = "crc32 ";

    private final Path file;
    private final boolean takesOdd;
    private final Map<String, Long> highest = new TreeMap<>();

    private EpochStore(Path file, boolean takesOdd) {
        this.file = file;
        this.takesOdd = takesOdd;
    }

    /** Reads the file (absent: nothing seen yet); a damaged file is an IOException that says what to do. */
    public static EpochStore open(Path file, boolean takesOddEpochs) throws IOException {
        EpochStore store = new EpochStore(file, takesOddEpochs);
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            return store;
        }
        store.parse(bytes);
        return store;
    }

    public synchronized long highest(String group) {
        return highest.getOrDefault(group, 0L);
    }

    public synchronized Map<String, Long> all() {
        return Map.copyOf(highest);
    }

    /** Whether an epoch is one this instance would take (its parity). */
    public boolean isOwn(long epoch) {
        return epoch > 0 && (epoch % 2 == 1) == takesOdd;
    }

    /** The next epoch of this instance's parity above every one seen for the group, on disk when this returns. */
    public synchronized long takeOver(String group) throws IOException {
        FrameCodec.checkedString(group, "a group name");
        long next = highest(group) + 1;
        if (!isOwn(next)) {
            next++;
        }
        highest.put(group, next);
        // Raised in memory even if the write fails: a later attempt then goes higher still, never back.
        write();
        return next;
    }

    /** Records an epoch heard from the partner; true (and on disk) if it is above all seen for the group. */
    public synchronized boolean observe(String group, long epoch) throws IOException {
        if (epoch <= highest(group)) {
            return false;
        }
        highest.put(group, epoch);
        write();
        return true;
    }

    private void write() throws IOException {
        StringBuilder text = new StringBuilder(HEADER).append('\n');
        highest.forEach((g, e) -> text.append(g).append(' ').append(e).append('\n'));
        long crc = crc(text.toString().getBytes(StandardCharsets.UTF_8));
        text.append(CRC).append(String.format("%08x", crc)).append('\n');
        Path dir = file.toAbsolutePath().getParent();
        Path temp = dir.resolve(file.getFileName() + ".new");
        try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer buf = ByteBuffer.wrap(text.toString().getBytes(StandardCharsets.UTF_8));
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
            ch.force(true);
        }
        Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        // The rename is only durable once the directory is: without this a crash could bring back the old file.
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        }
    }

    private void parse(byte[] bytes) throws IOException {
        String text = new String(bytes, StandardCharsets.UTF_8);
        int crcAt = text.lastIndexOf(CRC);
        if (!text.startsWith(HEADER + "\n") || crcAt < 0 || !text.endsWith("\n")) {
            throw corrupt("it is truncated or not an epoch file (" + bytes.length + " octets)");
        }
        String stated = text.substring(crcAt + CRC.length(), text.length() - 1);
        String actual = String.format("%08x", crc(text.substring(0, crcAt).getBytes(StandardCharsets.UTF_8)));
        if (!stated.equals(actual)) {
            throw corrupt("its checksum is " + actual + " but the file says " + stated);
        }
        String[] lines = text.substring(HEADER.length() + 1, crcAt).split("\n");
        for (String line : lines) {
            if (line.isEmpty()) {
                continue;
            }
            int space = line.lastIndexOf(' ');
            try {
                long epoch = Long.parseLong(line.substring(space + 1));
                if (space <= 0 || epoch <= 0) {
                    throw new NumberFormatException();
                }
                highest.put(line.substring(0, space), epoch);
            } catch (NumberFormatException e) {
                throw corrupt("the line '" + line + "' is not 'group epoch'");
            }
        }
    }

    private IOException corrupt(String why) {
        return new IOException("epoch file " + file + " is damaged: " + why + ". Refusing to start: it holds the highest "
                + "ownership epoch of each group, and counting again from zero could reuse an epoch the partner still "
                + "knows. Restore the file, or, with both instances stopped, delete it deliberately");
    }

    private static long crc(byte[] bytes) {
        CRC32 c = new CRC32();
        c.update(bytes);
        return c.getValue();
    }
}
