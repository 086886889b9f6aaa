package io.isthmus.lab.bench;

import io.isthmus.control.config.ConfigReader;
import io.isthmus.ike.ChildSaDescription;
import io.isthmus.ike.ChildSaKeys;
import io.isthmus.ike.ChildSaListener;
import io.isthmus.ike.Connection;
import io.isthmus.ike.IkeEvent;
import io.isthmus.ike.IkeSa;
import io.isthmus.ike.Identity;
import io.isthmus.ike.Scheduler;
import io.isthmus.ike.Transport;
import io.isthmus.ike.engine.IkeEngine;
import io.netty.channel.DefaultEventLoop;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The sites of {@link ManySites} as one IKE engine in this process, each initiating its IKE SA
 * and child SA to the gateway under test over memory: every engine on one Netty event loop (the
 * daemon runs its engine on one), every datagram a task on it, so no engine is re-entered. Its
 * timers are Netty's, as the daemon's are ({@link NettyTimers}).
 */
final class InMemoryPeers implements AutoCloseable {
    /**
     * The sites offer the gateway's third default IKE proposal only (AES-GCM-128, X25519): the
     * gateway prefers ECP-384, whose key exchange costs the JDK several times X25519's, and what the
     * IKE SAs hold afterwards is the same. Setting them up is not what is measured here.
     */
    static final io.isthmus.ike.IkeProposal X25519 = ConfigReader.DEFAULT_IKE.stream()
            .filter(p -> p.toString().endsWith("x25519")).findFirst().orElseThrow();

    /** IKE SAs being set up at once: under the gateway's half-open limit (1,000), as a well-behaved crowd of peers would be. */
    static final int IN_FLIGHT = 100;

    final DefaultEventLoop loop = new DefaultEventLoop(r -> {
        Thread t = new Thread(r, "ike");
        t.setDaemon(true);
        return t;
    });
    private final Map<InetAddress, Transport.Receiver> hosts = new ConcurrentHashMap<>();
    private final AtomicLong datagrams = new AtomicLong();
    private IkeEngine peers;

    /** The network: a datagram to an address nobody holds is lost, as it would be. */
    final Transport transport = new Transport() {
        @Override
        public void send(byte[] datagram, InetSocketAddress local, InetSocketAddress remote) {
            byte[] copy = datagram.clone();
            datagrams.incrementAndGet();
            loop.execute(() -> {
                Transport.Receiver to = hosts.get(remote.getAddress());
                if (to != null) {
                    to.receive(copy, 0, copy.length, remote, local);
                }
            });
        }

        @Override
        public void sendNatKeepalive(InetSocketAddress local, InetSocketAddress remote) {
        }
    };

    /** The gateway under test, at {@code address}. */
    void attach(InetAddress address, Transport.Receiver gateway) {
        hosts.put(address, gateway);
    }

    long datagrams() {
        return datagrams.get();
    }

    /** Timers on the loop, as the daemon's IKE transport (UdpTransport) makes them: a Netty task each, cancelled through a lambda. */
    static final class NettyTimers implements Scheduler {
        private final DefaultEventLoop loop;

        NettyTimers(DefaultEventLoop loop) {
            this.loop = loop;
        }

        @Override
        public Instant now() {
            return Instant.now();
        }

        @Override
        public Cancellable schedule(Duration delay, Runnable task) {
            var future = loop.schedule(task, Math.max(0, delay.toNanos()), TimeUnit.NANOSECONDS);
            return () -> future.cancel(false);
        }
    }

    /**
     * Sites 0 to n - 1 initiate to the gateway at {@code gateway}, {@link #IN_FLIGHT} at a time;
     * completes with the time it took once each has its child SA up, or exceptionally when one fails.
     */
    CompletableFuture<Duration> establish(int n, InetAddress gateway) {
        CompletableFuture<Duration> done = new CompletableFuture<>();
        loop.execute(() -> {
            try {
                peers = new IkeEngine(transport, new NettyTimers(loop), new DiscardedKeys());
                for (int i = 0; i < n; i++) {
                    peers.addConnection(Connection.builder(ManySites.connection(i))
                            .local(ManySites.peer(i), Identity.of(ManySites.peer(i))).remote(gateway, Identity.of(gateway))
                            .preSharedKey(ManySites.key(i).getBytes(StandardCharsets.US_ASCII))
                            .ike(List.of(X25519)).esp(ConfigReader.DEFAULT_ESP)
                            .localTs("0.0.0.0/0").localTs("::/0").remoteTs("0.0.0.0/0").remoteTs("::/0")
                            .mode(Connection.Mode.INITIATOR_ONLY).build());
                    hosts.put(ManySites.peer(i), peers);
                }
                long start = System.nanoTime();
                int[] next = {0};
                int[] up = {0};
                Runnable more = () -> {
                    while (next[0] < n && next[0] - up[0] < IN_FLIGHT) {
                        int i = next[0]++;
                        peers.initiate(ManySites.connection(i), new InetSocketAddress(ManySites.peer(i), IkeEngine.IKE_PORT),
                                new InetSocketAddress(gateway, IkeEngine.IKE_PORT));
                    }
                };
                peers.addEventListener(e -> {
                    switch (e.kind()) {
                        case CHILD_UP -> {
                            if (++up[0] == n) {
                                done.complete(Duration.ofNanos(System.nanoTime() - start));
                            } else {
                                loop.execute(more);
                            }
                        }
                        case FAILED, AUTHENTICATION_FAILED, DPD_TIMEOUT ->
                                done.completeExceptionally(new IllegalStateException(e.connection() + ": " + e.kind() + ": " + e.detail()));
                        default -> {
                        }
                    }
                });
                more.run();
            } catch (RuntimeException e) {
                done.completeExceptionally(e);
            }
        });
        return done;
    }

    /**
     * Forgets every site's IKE SA here without a word to the gateway (as a takeover's release
     * does), so that what is left in this process is the gateway's alone; its SAs stay up, their
     * peers silent from now on.
     */
    void forget() throws Exception {
        CompletableFuture<Void> f = new CompletableFuture<>();
        loop.execute(() -> {
            for (IkeSa sa : peers.ikeSas()) {
                peers.release(sa);
            }
            hosts.values().removeIf(r -> r == peers);
            peers = null;
            f.complete(null);
        });
        f.get(1, TimeUnit.MINUTES);
    }

    @Override
    public void close() {
        loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** The sites carry no traffic: their child SAs' keys are wiped as they come. */
    private static final class DiscardedKeys implements ChildSaListener {
        @Override
        public void installed(ChildSaDescription sa, ChildSaKeys keys) {
            keys.destroy();
        }

        @Override
        public void rekeyed(ChildSaDescription old, ChildSaDescription replacement, ChildSaKeys keys, boolean outboundNow) {
            keys.destroy();
        }

        @Override
        public void deleted(ChildSaDescription sa) {
        }
    }
}
