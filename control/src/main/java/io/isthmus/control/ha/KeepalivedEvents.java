package io.isthmus.control.ha;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Executor;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * keepalived's state changes as they happen, read from its notify FIFO ({@code notify_fifo}):
 * lines such as {@code INSTANCE "gw1" MASTER 200}. A FIFO rather than a notify script: a script
 * would start a process (a JVM, for the isthmus command) per change, a third of a second the
 * takeover would wait for; the FIFO is read by a thread that is already there.
 *
 * <p>The FIFO is opened read-write, so it neither blocks waiting for keepalived nor sees an end
 * when keepalived restarts. Each change is handed to {@code deliver} (the IKE thread) with the
 * VRRP instance's name, which is the group's.
 */
final class KeepalivedEvents implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("io.isthmus.control");
    private static final Pattern LINE = Pattern.compile("INSTANCE \"([^\"]+)\" (MASTER|BACKUP|FAULT|STOP|DELETED) (\\d+)");
    /** Longer lines are not keepalived's. */
    private static final int MAX_LINE = 512;

    /** A VRRP instance's new state. */
    enum State { MASTER, BACKUP, FAULT, STOP, DELETED }

    interface Listener {
        void state(String vrrpInstance, State state);
    }

    private final Path fifo;
    private final RandomAccessFile in;
    private final Thread reader;
    private volatile boolean closed;

    private KeepalivedEvents(Path fifo, RandomAccessFile in, Listener listener, Executor deliver) {
        this.fifo = fifo;
        this.in = in;
        this.reader = Thread.ofPlatform().daemon().name("isthmus-keepalived-events").unstarted(() -> read(listener, deliver));
    }

    /** Makes the FIFO (owner only) if it is not there and starts reading it. */
    static KeepalivedEvents open(Path fifo, Listener listener, Executor deliver) throws IOException, InterruptedException {
        if (!Files.exists(fifo)) {
            Files.createDirectories(fifo.getParent());
            Process p = new ProcessBuilder("mkfifo", "-m", "600", fifo.toString()).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            if (p.waitFor() != 0) {
                throw new IOException("cannot make keepalived's notify FIFO " + fifo + ": " + out);
            }
        }
        if (!"p".equals(fileType(fifo))) {
            throw new IOException(fifo + " is not a FIFO; remove it, or point keepalived's notify_fifo elsewhere");
        }
        KeepalivedEvents e = new KeepalivedEvents(fifo, new RandomAccessFile(fifo.toFile(), "rw"), listener, deliver);
        e.reader.start();
        return e;
    }

    private static String fileType(Path p) throws IOException {
        Object regular = Files.getAttribute(p, "unix:mode");
        int mode = (Integer) regular;
        return (mode & 0170000) == 0010000 ? "p" : "other";
    }

    /** One line of keepalived's; null when it is none. */
    static Parsed parse(String line) {
        Matcher m = LINE.matcher(line.strip());
        return m.matches() ? new Parsed(m.group(1), State.valueOf(m.group(2))) : null;
    }

    record Parsed(String instance, State state) {
    }

    private void read(Listener listener, Executor deliver) {
        StringBuilder line = new StringBuilder();
        byte[] buffer = new byte[512];
        while (!closed) {
            int n;
            try {
                n = in.read(buffer);
            } catch (IOException e) {
                if (!closed) {
                    LOG.log(System.Logger.Level.ERROR, "reading keepalived''s events from {0}: {1}", fifo, e.getMessage());
                }
                return;
            }
            for (int i = 0; i < n; i++) {
                char c = (char) (buffer[i] & 0xFF);
                if (c != '\n') {
                    if (line.length() < MAX_LINE) {
                        line.append(c);
                    }
                    continue;
                }
                Parsed p = parse(line.toString());
                if (p != null) {
                    deliver.execute(() -> listener.state(p.instance(), p.state()));
                } else if (!line.toString().isBlank()) {
                    LOG.log(System.Logger.Level.DEBUG, "keepalived FIFO: ignoring {0}", line);
                }
                line.setLength(0);
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            in.close();
        } catch (IOException e) {
            // closing anyway
        }
        // A read blocked on the FIFO does not end with close(); a newline written to it does.
        try (RandomAccessFile w = new RandomAccessFile(fifo.toFile(), "rw")) {
            w.write('\n');
        } catch (IOException e) {
            // the reader is a daemon thread; it goes with the process
        }
    }
}
