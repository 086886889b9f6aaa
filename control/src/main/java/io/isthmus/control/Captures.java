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
 * captures, under a name it makes, and keeps the newest {@link #KEEP} there.
 */
final class Captures implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("io.isthmus.control");
    static final int KEEP = 10;
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss.SSS'Z'").withZone(ZoneOffset.UTC);

    /** A capture's keys, found anew while it runs (rekeys make new SAs): what {@link KeyExport} writes. */
    interface KeySource {
        KeyExport.Keys keys(String connection) throws Exception;
    }

    private final Path directory;
    private final String name;
    private final Dataplane dataplane;
    private final KeySource keySource;
    /** Which connection an IKE message belongs to, by the peer's address (null: none configured). */
    private volatile Function<InetAddress, String> connectionOf;
    private volatile PacketCapture current;
    private CaptureFile file;
    private KeyExport export;
    private Thread keyWatcher;
    private CaptureFile.Summary last;
    private Instant startedAt;

    Captures(Path directory, String name, Dataplane dataplane, KeySource keySource, Function<InetAddress, String> connectionOf) {
        this.directory = directory;
        this.name = name;
        this.dataplane = dataplane;
        this.keySource = keySource;
        this.connectionOf = connectionOf;
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
        PacketCapture c = current;
        if (c != null) {
            c.ike(ingress, connectionOf.apply(remote.getAddress()), datagram, offset, length, local, remote);
        }
    }

    /** Starts one; refused while one runs. What was started: the files. */
    synchronized Map<String, Object> start(CaptureRequest request, List<String> connections) throws IOException {
        if (current != null) {
            throw new Busy("a capture is running already (" + file.file() + "); stop it first: isthmus capture stop");
        }
        String connection = request.filter().connection();
        if (connection != null && !connections.contains(connection)) {
            throw new ControlRequests.NoSuchConnection("no connection '" + connection + "'; this gateway has: " + String.join(", ", connections));
        }
        Files.createDirectories(directory, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        prune();
        Instant now = Instant.now();
        Path pcap = directory.resolve(name + "-" + STAMP.format(now) + ".pcapng");
        PacketCapture capture = new PacketCapture(request.filter());
        file = CaptureFile.start(capture, pcap, this::ended);
        startedAt = now;
        current = capture;
        dataplane.capture(capture);
        Map<String, Object> answer = new LinkedHashMap<>();
        answer.put("file", pcap.toString());
        if (request.keys()) {
            export = new KeyExport(pcap, connection);
            exportKeys();
            answer.put("espSa", export.espSaFile().toString());
            answer.put("ikev2DecryptionTable", export.ikeFile().toString());
            keyWatcher = Thread.ofVirtual().name("isthmus-capture-keys").start(this::watchKeys);
        }
        answer.put("filter", CaptureRequest.describe(request.filter()));
        LOG.log(System.Logger.Level.INFO, "capture started into {0}: {1}{2}", pcap, CaptureRequest.describe(request.filter()),
                request.keys() ? ", with keys" : "");
        return answer;
    }

    /** Stops the one running; its summary. */
    Map<String, Object> stop() throws InterruptedException {
        CaptureFile f;
        synchronized (this) {
            if (current == null) {
                throw new IllegalStateException("no capture is running" + (last == null ? "" : "; the last one wrote " + last.file()));
            }
            f = file;
        }
        dataplane.capture(null);
        CaptureFile.Summary s = f.stop(Duration.ofSeconds(10));
        return describe(s);
    }

    /** The one running (with its progress), or none, and the last one that ended. */
    synchronized Map<String, Object> status() {
        Map<String, Object> m = new LinkedHashMap<>();
        if (current != null) {
            Map<String, Object> running = new LinkedHashMap<>();
            running.put("file", file.file().toString());
            running.put("packets", file.packets());
            running.put("bytes", file.bytes());
            running.put("dropped", current.dropped());
            long left = current.filter().duration().minus(Duration.between(startedAt, Instant.now())).toSeconds();
            running.put("secondsLeft", Math.max(0, left));
            running.put("keys", export != null);
            running.put("filter", CaptureRequest.describe(current.filter()));
            m.put("running", running);
        }
        if (last != null) {
            m.put("last", describe(last));
        }
        return m;
    }

    /** From the capture's writer thread, once: it ended (stopped, its time or size reached, failed). */
    private void ended(CaptureFile.Summary s) {
        dataplane.capture(null);
        synchronized (this) {
            current = null;
            last = s;
            if (keyWatcher != null) {
                keyWatcher.interrupt();
                keyWatcher = null;
            }
        }
        if (export != null) {
            exportKeys(); // the SAs made in the capture's last moments
            export = null;
        }
        LOG.log(s.end() == CaptureFile.End.FAILED ? System.Logger.Level.ERROR : System.Logger.Level.INFO,
                "capture into {0} ended ({1}): {2} packets, {3} bytes, {4} dropped (the writer fell behind){5}", s.file(),
                s.end().name().toLowerCase(), s.packets(), s.bytes(), s.dropped(), s.failure() == null ? "" : ": " + s.failure());
    }

    /** While a capture with keys runs: SAs made meanwhile (rekeys, new connections) go into the files too. */
    private void watchKeys() {
        try {
            while (!Thread.currentThread().isInterrupted()) {
                Thread.sleep(500);
                exportKeys();
            }
        } catch (InterruptedException done) {
            // the capture ended
        }
    }

    private void exportKeys() {
        KeyExport e = export;
        if (e == null) {
            return;
        }
        try {
            e.add(keySource.keys(e.connection()));
        } catch (Exception ex) {
            LOG.log(System.Logger.Level.WARNING, "capture: the keys could not be exported: {0}", ex.toString());
        }
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

    /** Keeps the newest captures (and their key files), so that captures cannot fill the disk one after another. */
    private void prune() throws IOException {
        List<Path> captures;
        try (Stream<Path> files = Files.list(directory)) {
            captures = new ArrayList<>(files.filter(p -> p.getFileName().toString().endsWith(".pcapng")).sorted(Comparator.comparing(Path::toString))
                    .toList());
        }
        while (captures.size() >= KEEP) {
            Path oldest = captures.removeFirst();
            String base = oldest.toString().substring(0, oldest.toString().length() - ".pcapng".length());
            for (Path p : List.of(oldest, Path.of(base + ".esp_sa"), Path.of(base + ".ikev2_decryption_table"))) {
                Files.deleteIfExists(p);
            }
            LOG.log(System.Logger.Level.INFO, "capture: {0} removed (only the newest {1} are kept)", oldest, KEEP);
        }
    }

    /** The gateway stops: a running capture is ended and its file closed. */
    @Override
    public void close() {
        if (current != null) {
            try {
                stop();
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
