package io.isthmus.control;

import io.isthmus.dataplane.Dataplane;
import io.isthmus.dataplane.capture.CaptureFile;
import io.isthmus.dataplane.capture.PacketCapture;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * The gateway's packet capture, one at a time, as Azure's start/stop packet capture: started
 * through the API with a filter, written by the data plane ({@link PacketCapture}, {@link
 * CaptureFile}) and by IKE (its messages as sent and received) into a file of the capture
 * directory (mode 0700, files 0600), with, if asked for, the keys Wireshark needs beside it
 * ({@link KeyExport}). A client names no path: root's gateway writes only where it keeps its
 * captures, under a name it makes (this instance's name first), and keeps its own newest
 * {@link #KEEP} there (the directory is shared by the instances of a host).
 */
final class Captures implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("io.isthmus.control");
    static final int KEEP = 10;
    /** How long a stop waits for the file to be closed; the stop of the gateway waits less. */
    static final Duration STOP_WAIT = Duration.ofSeconds(3);
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss.SSS'Z'").withZone(ZoneOffset.UTC);

    /** A capture's keys, found anew while it runs (rekeys make new SAs): what {@link KeyExport} writes. */
    interface KeySource {
        KeyExport.Keys keys(String connection) throws Exception;
    }

    /** One capture: what it feeds, its file, its keys and the thread that looks for new SAs. */
    private final class Session {
        final PacketCapture capture;
        final CaptureFile file;
        final KeyExport export;
        final Instant startedAt;
        volatile Thread watcher;

        Session(PacketCapture capture, CaptureFile file, KeyExport export, Instant startedAt) {
            this.capture = capture;
            this.file = file;
            this.export = export;
            this.startedAt = startedAt;
        }

        /** While it runs with keys: SAs made meanwhile (rekeys, new connections) go into the files too. */
        void watchKeys() {
            while (!Thread.currentThread().isInterrupted()) {
                try {
                    Thread.sleep(500);
                } catch (InterruptedException done) {
                    return;
                }
                if (!exportKeys()) {
                    return;
                }
            }
        }

        /** Writes the SAs not yet in the files; false if interrupted (the capture ended). */
        boolean exportKeys() {
            try {
                export.add(keySource.keys(export.connection()));
                return true;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            } catch (Exception e) {
                LOG.log(System.Logger.Level.WARNING, "capture: the keys could not be exported: {0}", e.toString());
                return true;
            }
        }
    }

    private final Path directory;
    private final String name;
    private final Dataplane dataplane;
    private final KeySource keySource;
    private final int natTraversalPort;
    /** Which connection an IKE message belongs to, by the peer's address (null: none configured). */
    private volatile Function<InetAddress, String> connectionOf;
    /** The capture running, or null; changed under this object's lock. */
    private volatile Session current;
    private CaptureFile.Summary last;

    Captures(Path directory, String name, Dataplane dataplane, KeySource keySource, Function<InetAddress, String> connectionOf, int natTraversalPort) {
        this.directory = directory;
        this.name = name;
        this.dataplane = dataplane;
        this.keySource = keySource;
        this.connectionOf = connectionOf;
        this.natTraversalPort = natTraversalPort;
    }

    /**
     * Where captures go without {@code --capture-directory}: under systemd, the service's state
     * directory (StateDirectory=isthmus: {@code /var/lib/isthmus}, the one place its sandbox may
     * write), else {@code /var/lib/isthmus}; in its {@code captures} directory.
     */
    static Path defaultDirectory() {
        String state = System.getenv("STATE_DIRECTORY");
        return Path.of(state == null || state.isBlank() ? "/var/lib/isthmus" : state.split(":")[0]).resolve("captures");
    }

    /** After a reload: the peers' addresses as configured now. */
    void connections(Function<InetAddress, String> connectionOf) {
        this.connectionOf = connectionOf;
    }

    /** An IKE message as sent ({@code ingress} false) or received: into the capture, if one runs and wants it. */
    void ike(boolean ingress, byte[] datagram, int offset, int length, InetSocketAddress local, InetSocketAddress remote) {
        Session s = current;
        if (s != null) {
            s.capture.ike(ingress, connectionOf.apply(remote.getAddress()), datagram, offset, length, local, remote);
        }
    }

    /** Starts one; refused while one runs. What was started: the files. */
    synchronized Map<String, Object> start(CaptureRequest request, List<String> connections) throws IOException {
        if (current != null) {
            throw new Busy("a capture is running already (" + current.file.file() + "); stop it first: isthmus capture stop");
        }
        String connection = request.filter().connection();
        if (connection != null && !connections.contains(connection)) {
            throw new ControlRequests.NoSuchConnection("no connection '" + connection + "'; this gateway has: " + String.join(", ", connections));
        }
        Files.createDirectories(directory, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        prune();
        Instant now = Instant.now();
        Path pcap = directory.resolve(name + "-" + STAMP.format(now) + ".pcapng");
        PacketCapture capture = new PacketCapture(request.filter(), natTraversalPort);
        Session[] self = new Session[1];
        // The writer may end at once (a full disk): it waits for this lock, so it finds its session made.
        CaptureFile file = CaptureFile.start(capture, pcap, summary -> ended(sessionOf(self), summary));
        Session s = new Session(capture, file, request.keys() ? new KeyExport(pcap, connection) : null, now);
        self[0] = s;
        current = s;
        dataplane.capture(capture);
        Map<String, Object> answer = new LinkedHashMap<>();
        answer.put("file", pcap.toString());
        if (s.export != null) {
            s.exportKeys();
            answer.put("espSa", s.export.espSaFile().toString());
            answer.put("ikev2DecryptionTable", s.export.ikeFile().toString());
            s.watcher = Thread.ofVirtual().name("isthmus-capture-keys").start(s::watchKeys);
        }
        answer.put("filter", CaptureRequest.describe(request.filter()));
        LOG.log(System.Logger.Level.INFO, "capture started into {0}: {1}{2}", pcap, CaptureRequest.describe(request.filter()),
                s.export != null ? ", with keys" : "");
        return answer;
    }

    /** Stops the one running; its summary, or that it is still being closed. */
    Map<String, Object> stop() throws InterruptedException {
        return stop(STOP_WAIT);
    }

    private Map<String, Object> stop(Duration wait) throws InterruptedException {
        Session s = current;
        if (s == null) {
            synchronized (this) {
                throw new IllegalStateException("no capture is running" + (last == null ? "" : "; the last one wrote " + last.file()));
            }
        }
        dataplane.capture(null);
        CaptureFile.Summary summary = s.file.stop(wait);
        if (summary == null) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("file", s.file.file().toString());
            m.put("ended", "ending");
            m.put("packets", s.file.packets());
            m.put("bytes", s.file.bytes());
            m.put("dropped", s.capture.dropped());
            return m;
        }
        return describe(summary);
    }

    /** The one running (with its progress), or none, and the last one that ended. */
    synchronized Map<String, Object> status() {
        Map<String, Object> m = new LinkedHashMap<>();
        Session s = current;
        if (s != null) {
            Map<String, Object> running = new LinkedHashMap<>();
            running.put("file", s.file.file().toString());
            running.put("packets", s.file.packets());
            running.put("bytes", s.file.bytes());
            running.put("dropped", s.capture.dropped());
            long left = s.capture.filter().duration().minus(Duration.between(s.startedAt, Instant.now())).toSeconds();
            running.put("secondsLeft", Math.max(0, left));
            running.put("keys", s.export != null);
            running.put("filter", CaptureRequest.describe(s.capture.filter()));
            m.put("running", running);
        }
        if (last != null) {
            m.put("last", describe(last));
        }
        return m;
    }

    private synchronized Session sessionOf(Session[] self) {
        return self[0];
    }

    /** From {@code s}'s writer thread, once: it ended (stopped, its time or size reached, failed). Another capture may run by now. */
    private void ended(Session s, CaptureFile.Summary summary) {
        Thread watcher = s.watcher;
        if (watcher != null) {
            watcher.interrupt();
        }
        if (s.export != null) {
            s.exportKeys(); // the SAs made in the capture's last moments, into its own files
        }
        synchronized (this) {
            if (current == s) {
                dataplane.capture(null);
                current = null;
            }
            last = summary;
        }
        LOG.log(summary.end() == CaptureFile.End.FAILED ? System.Logger.Level.ERROR : System.Logger.Level.INFO,
                "capture into {0} ended ({1}): {2} packets, {3} bytes, {4} dropped (the writer fell behind){5}", summary.file(),
                summary.end().name().toLowerCase(), summary.packets(), summary.bytes(), summary.dropped(),
                summary.failure() == null ? "" : ": " + summary.failure());
    }

    private static Map<String, Object> describe(CaptureFile.Summary s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("file", s.file().toString());
        m.put("ended", s.end().name().toLowerCase());
        m.put("packets", s.packets());
        m.put("bytes", s.bytes());
        m.put("dropped", s.dropped());
        if (s.failure() != null) {
            m.put("failure", s.failure());
        }
        return m;
    }

    /** Keeps this instance's newest captures (and their key files): captures one after another cannot fill the disk. */
    private void prune() throws IOException {
        List<Path> captures;
        try (Stream<Path> files = Files.list(directory)) {
            captures = new ArrayList<>(files.filter(p -> p.getFileName().toString().startsWith(name + "-")
                    && p.getFileName().toString().endsWith(".pcapng")).sorted(Comparator.comparing(Path::toString)).toList());
        }
        while (captures.size() >= KEEP) {
            Path oldest = captures.removeFirst();
            String base = oldest.toString().substring(0, oldest.toString().length() - ".pcapng".length());
            for (Path p : List.of(oldest, Path.of(base + ".esp_sa"), Path.of(base + ".ikev2_decryption_table"))) {
                Files.deleteIfExists(p);
            }
            LOG.log(System.Logger.Level.INFO, "capture: {0} removed (only the newest {1} of this instance are kept)", oldest, KEEP);
        }
    }

    /** The gateway stops: a running capture is ended and its file closed (a second at most: the stop has its own bound). */
    @Override
    public void close() {
        if (current != null) {
            try {
                stop(Duration.ofSeconds(1));
            } catch (InterruptedException | IllegalStateException e) {
                // ended meanwhile, or the stop goes on without it
            }
        }
    }

    /** A capture runs already: answered 409. */
    static final class Busy extends IllegalStateException {
        Busy(String message) {
            super(message);
        }
    }
}
