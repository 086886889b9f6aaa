package io.isthmus.control;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.isthmus.ike.IkeEvent;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.DefaultHttpContent;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code GET /v1/events}: the IKE events, a JSON object a line, to every client following them
 * ({@code isthmus monitor}, {@code curl -N --unix-socket}). Published on the IKE thread, which
 * must never wait for a client: a line is handed to the client's event loop only while its
 * socket takes more ({@link Channel#isWritable}); otherwise it is dropped and counted, and the
 * client is told how many it missed ({@code "kind": "MISSED"}) once it reads again. A client that
 * has read nothing for {@link ControlSocket.Limits#streamStall} is cut off.
 */
final class EventStream {
    private static final System.Logger LOG = System.getLogger("io.isthmus.control");
    private static final ObjectMapper LINE = new ObjectMapper();

    /** One client following: the connection it filters on (null: all), what it missed, since when it has been full. */
    private static final class Follower {
        final String connection;
        final AtomicLong missed = new AtomicLong();
        volatile long fullSince = -1;

        Follower(String connection) {
            this.connection = connection;
        }
    }

    private final Map<Channel, Follower> followers = new ConcurrentHashMap<>();
    private final Duration stall;
    private final AtomicLong missedInAll = new AtomicLong();

    EventStream(Duration stall) {
        this.stall = stall;
    }

    /** {@code channel} follows the events from now on (of {@code connection} only, unless null); it says so first. */
    void follow(Channel channel, String connection, String gateway) {
        followers.put(channel, new Follower(connection));
        channel.closeFuture().addListener(f -> followers.remove(channel));
        Map<String, Object> hello = new LinkedHashMap<>();
        hello.put("at", Instant.now().toString());
        hello.put("kind", "FOLLOWING");
        hello.put("detail", "events of " + (connection == null ? "every connection" : "connection " + connection) + " of " + gateway);
        send(channel, line(hello));
    }

    int followers() {
        return followers.size();
    }

    long missed() {
        return missedInAll.get();
    }

    /** From the IKE thread: returns at once. */
    void publish(IkeEvent e) {
        if (followers.isEmpty()) {
            return;
        }
        byte[] line = line(describe(e));
        long now = System.nanoTime();
        followers.forEach((channel, f) -> {
            if (f.connection != null && !f.connection.equals(e.connection())) {
                return;
            }
            if (!channel.isWritable()) {
                if (f.fullSince < 0) {
                    f.fullSince = now;
                } else if (now - f.fullSince > stall.toNanos()) {
                    LOG.log(System.Logger.Level.INFO, "management API: an event follower read nothing for {0} s; cut off", stall.toSeconds());
                    channel.close();
                    return;
                }
                f.missed.incrementAndGet();
                missedInAll.incrementAndGet();
                return;
            }
            f.fullSince = -1;
            long missed = f.missed.getAndSet(0);
            if (missed > 0) {
                Map<String, Object> gap = new LinkedHashMap<>();
                gap.put("at", Instant.now().toString());
                gap.put("kind", "MISSED");
                gap.put("detail", missed + " event(s) dropped: this client did not read them in time");
                send(channel, line(gap));
            }
            send(channel, line);
        });
    }

    private static void send(Channel channel, byte[] line) {
        channel.writeAndFlush(new DefaultHttpContent(Unpooled.wrappedBuffer(line)));
    }

    static Map<String, Object> describe(IkeEvent e) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("at", e.at().toString());
        m.put("kind", e.kind().name());
        m.put("connection", e.connection());
        if (e.ikeSa() != null) {
            m.put("ikeSa", e.ikeSa());
        }
        if (e.childSa() != null) {
            m.put("childSa", e.childSa());
        }
        if (e.detail() != null) {
            m.put("detail", e.detail());
        }
        return m;
    }

    private static byte[] line(Map<String, Object> m) {
        try {
            return (LINE.writeValueAsString(m) + "\n").getBytes(StandardCharsets.UTF_8);
        } catch (JsonProcessingException impossible) {
            throw new IllegalStateException(impossible);
        }
    }
}
