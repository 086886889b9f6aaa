package io.isthmus.dataplane.capture;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.function.Consumer;

/**
 * The writer of a running capture: a thread of its own drains the {@link PacketCapture}'s ring
 * into a pcapng file (mode 0600: packets carry what the tunnel carries) until the capture is
 * stopped, its duration is up or its file has reached its size; then whoever started it hears
 * why, once ({@code ended}). The packet threads never wait for it.
 */
public final class CaptureFile {
    private static final System.Logger LOG = System.getLogger("io.isthmus.dataplane");
    static final int OUTER = 0;
    static final int INNER = 1;

    /** How a capture ended. */
    public enum End { STOPPED, DURATION, SIZE, FAILED }

    /** What a capture did: its file, how it ended, packets written and dropped. */
    public record Summary(Path file, End end, long packets, long dropped, long bytes, String failure) {
    }

    private final PacketCapture capture;
    private final Path file;
    private final OutputStream out;
    private final PcapngWriter writer;
    private final long deadlineNanos;
    private final Consumer<Summary> ended;
    private final Thread thread;
    private final CountDownLatch done = new CountDownLatch(1);
    private volatile boolean stop;
    private volatile Summary summary;
    private volatile long packets;
    private final byte[] copy = new byte[70_000];

    private CaptureFile(PacketCapture capture, Path file, OutputStream out, Consumer<Summary> ended) throws IOException {
        this.capture = capture;
        this.file = file;
        this.out = out;
        this.writer = new PcapngWriter(out);
        this.ended = ended;
        this.deadlineNanos = System.nanoTime() + capture.filter().duration().toNanos();
        writer.header("isthmus", capture.filter().snapLength(), "outer", "inner");
        this.thread = Thread.ofPlatform().daemon().name("isthmus-capture").start(this::run);
    }

    /** Creates {@code file} (it must not exist) and starts writing {@code capture} into it. */
    public static CaptureFile start(PacketCapture capture, Path file, Consumer<Summary> ended) throws IOException {
        FileChannel channel = FileChannel.open(file, java.util.Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        OutputStream out = new BufferedOutputStream(Channels.newOutputStream(channel), 1 << 16);
        try {
            return new CaptureFile(capture, file, out, ended);
        } catch (IOException | RuntimeException e) {
            out.close();
            throw e;
        }
    }

    public Path file() {
        return file;
    }

    public PacketCapture capture() {
        return capture;
    }

    /** Packets in the file so far. */
    public long packets() {
        return packets;
    }

    /** Bytes in the file so far. */
    public long bytes() {
        return writer.written();
    }

    /**
     * Ends it (the caller has already taken the capture off the packet paths): what is in the
     * ring is written, the file closed. Waits for that, {@code wait} at most; the summary, or
     * null if it has not ended within {@code wait} (it ends on its own all the same).
     */
    public Summary stop(Duration wait) throws InterruptedException {
        stop = true;
        done.await(wait.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        return summary;
    }

    /** How it ended, once it has; null while it runs. */
    public Summary summary() {
        return summary;
    }

    private void run() {
        End end = End.STOPPED;
        String failure = null;
        try {
            long limit = capture.filter().maxBytes();
            while (true) {
                boolean stopping = stop;
                int n = capture.drain(this::write, 256);
                if (writer.written() >= limit) {
                    end = End.SIZE;
                    break;
                }
                if (stopping && n == 0) {
                    break;
                }
                if (System.nanoTime() - deadlineNanos >= 0) {
                    end = End.DURATION;
                    break;
                }
                if (n == 0) {
                    writer.flush();
                    Thread.sleep(5);
                }
            }
        } catch (IOException | RuntimeException e) {
            end = End.FAILED;
            failure = e.toString();
            LOG.log(System.Logger.Level.ERROR, "capture into {0} failed: {1}", file, e.toString());
        } catch (InterruptedException e) {
            end = End.STOPPED;
        } finally {
            try {
                out.close();
            } catch (IOException e) {
                if (failure == null) {
                    end = End.FAILED;
                    failure = e.toString();
                }
            }
            summary = new Summary(file, end, packets, capture.dropped(), writer.written(), failure);
            try {
                ended.accept(summary);
            } finally {
                done.countDown(); // after the owner has heard: a stop that returns finds the capture over everywhere
            }
        }
    }

    private void write(int kind, long epochNanos, int original, String tunnel, org.agrona.DirectBuffer buffer, int offset, int captured) {
        if (writer.written() >= capture.filter().maxBytes()) {
            return; // full: what is still in the ring is dropped with the file's end
        }
        buffer.getBytes(offset, copy, 0, captured);
        boolean outer = kind == PacketCapture.OUTER_INGRESS || kind == PacketCapture.OUTER_EGRESS;
        boolean inbound = kind == PacketCapture.OUTER_INGRESS || kind == PacketCapture.INNER_INGRESS;
        try {
            writer.packet(outer ? OUTER : INNER, epochNanos, inbound, copy, 0, captured, original, tunnel);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        packets++;
    }
}
