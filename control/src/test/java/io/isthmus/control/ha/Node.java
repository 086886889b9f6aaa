package io.isthmus.control.ha;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * One instance of a pair in a test: a link, a single daemon thread it delivers on, and a listener
 * that records everything in order ("connected", "put g k=v", "fenced g 2", ...).
 */
final class Node implements SyncListener, AutoCloseable {
    static final Duration PATIENCE = Duration.ofSeconds(30);
    static final byte KIND = 1;

    final String name;
    final ExecutorService deliver;
    final List<String> events = new CopyOnWriteArrayList<>();
    final Replica replica = new Replica();
    /** What this instance owns and sends in its full syncs: group -> key -> value. */
    final Map<String, Map<String, String>> own = new ConcurrentHashMap<>();
    /** If set, the listener's put waits on it (a slow or paused daemon) after counting down {@link #putEntered}. */
    volatile CountDownLatch putGate;
    final CountDownLatch putEntered = new CountDownLatch(1);
    /** If positive, each put takes at least this long (a slow daemon that still makes progress). */
    volatile long putPauseNanos;
    SyncLink link;

    private Node(String name) {
        this.name = name;
        this.deliver = Executors.newSingleThreadExecutor(r -> new Thread(r, "daemon-" + name));
    }

    static Node start(SyncSettings settings) throws IOException {
        return start(settings, SyncBounds.DEFAULT);
    }

    /** With these bounds (what may wait unsent, the acknowledgement deadline, what may wait unapplied). */
    static Node start(SyncSettings settings, SyncBounds bounds) throws IOException {
        Node n = new Node(settings.instance());
        try {
            n.link = SyncLink.start(settings, n, n.deliver, bounds);
        } catch (IOException | RuntimeException e) {
            n.deliver.shutdownNow();
            throw e;
        }
        return n;
    }

    /** Settings for instance {@code name} of the pair (a, b), certificates from {@code certs}; the partner at {@code partner}. */
    static SyncSettings settings(String name, String partnerName, Path certs, Path dir, InetSocketAddress partner) {
        return SyncSettings.of(name, new InetSocketAddress("127.0.0.1", 0), partnerName, partner,
                certs.resolve(name + ".pem"), certs.resolve(name + ".key"), certs.resolve(partnerName + ".pem"),
                dir.resolve(name + ".epochs"))
                // Generous: the machine is shared, and these tests are about behaviour, not latency.
                .withHeartbeat(Duration.ofMillis(50), 40);
    }

    static InetSocketAddress unusedPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return new InetSocketAddress("127.0.0.1", s.getLocalPort());
        }
    }

    <T> T call(Callable<T> task) throws Exception {
        return deliver.submit(task).get(PATIENCE.toSeconds(), TimeUnit.SECONDS);
    }

    long put(String group, String key, String value) throws Exception {
        own.computeIfAbsent(group, g -> new ConcurrentHashMap<>()).put(key, value);
        return call(() -> link.put(group, KIND, bytes(key), bytes(value)));
    }

    void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail(name + ": waited " + PATIENCE.toSeconds() + " s for " + what + "; events " + events);
            }
            Thread.sleep(5);
        }
    }

    long count(String event) {
        return events.stream().filter(event::equals).count();
    }

    List<String> puts() {
        return events.stream().filter(e -> e.startsWith("put ")).toList();
    }

    /** The replica of a partner's group as key=value strings, read on the daemon thread. */
    Set<String> replicaOf(String group) throws Exception {
        return call(() -> {
            Set<String> out = new TreeSet<>();
            replica.entries(group).forEach((k, v) -> out.add(text(k.key()) + "=" + text(v)));
            return out;
        });
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static String text(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    @Override
    public void put(String group, byte kind, byte[] key, byte[] value) {
        putEntered.countDown();
        CountDownLatch gate = putGate;
        if (gate != null) {
            try {
                gate.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (putPauseNanos > 0) {
            java.util.concurrent.locks.LockSupport.parkNanos(putPauseNanos);
        }
        replica.put(group, kind, key, value);
        events.add("put " + group + " " + text(key) + "=" + text(value));
    }

    @Override
    public void remove(String group, byte kind, byte[] key) {
        replica.remove(group, kind, key);
        events.add("remove " + group + " " + text(key));
    }

    @Override
    public void fullSyncBegin(Set<String> groups) {
        replica.fullSyncBegin(groups);
        events.add("begin " + new TreeSet<>(groups));
    }

    @Override
    public void fullSyncEnd(Set<String> groups) {
        replica.fullSyncEnd(groups);
        events.add("end " + new TreeSet<>(groups));
    }

    @Override
    public void connected() {
        events.add("connected");
    }

    @Override
    public void disconnected() {
        events.add("disconnected");
    }

    @Override
    public void ownership(String group, long epoch, String owner) {
        events.add("ownership " + group + " " + epoch + " " + owner);
    }

    @Override
    public void fenced(String group, long epoch) {
        events.add("fenced " + group + " " + epoch);
    }

    @Override
    public void ownState(String group, Entries out) {
        own.getOrDefault(group, Map.of()).forEach((k, v) -> out.put(KIND, bytes(k), bytes(v)));
    }

    @Override
    public void close() throws InterruptedException {
        link.close();
        CountDownLatch gate = putGate;
        if (gate != null) {
            gate.countDown();
        }
        deliver.shutdown();
        deliver.awaitTermination(PATIENCE.toSeconds(), TimeUnit.SECONDS);
    }
}
