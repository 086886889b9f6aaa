package io.isthmus.dataplane;

import io.isthmus.dataplane.linux.DatagramSocket;
import io.isthmus.dataplane.linux.Libc;
import io.isthmus.dataplane.linux.PacketBuffer;
import io.isthmus.dataplane.linux.Poller;
import io.isthmus.dataplane.linux.SocketAddresses;
import io.isthmus.dataplane.linux.TunDevice;
import io.isthmus.dataplane.tun.LinuxTun;
import io.isthmus.dataplane.tun.TunBatch;
import io.isthmus.dataplane.tun.TunPort;
import io.isthmus.esp.DropReason;
import io.isthmus.esp.UdpEncapsulation;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.IdleStrategy;

/**
 * The data plane of one gateway: a TUN device towards the local network, UDP 4500 and raw ESP
 * sockets towards the peers, the tunnel table and the SA table, and the packet threads, Agrona
 * agents: outbound (TUN to ESP, {@link OutboundPath}) and inbound (ESP to TUN,
 * {@link InboundPath}), each on its own thread or both on one ({@link Settings#packetThreads}).
 * The control plane changes the tables from its own thread; the packet threads read them
 * without locks (each change publishes new immutable tables) and allocate nothing per packet.
 *
 * <p>Why no more threads than that: on the machines this is measured on, two gateways, iperf3
 * and the kernel share two cores, and what costs is system calls and the kernel's per-packet
 * work, then crypto (a JFR profile puts it at a quarter to a third of a packet thread). So the
 * offloads come first (TUN TSO/USO, UDP GSO and GRO: one system call per 64 KB), and each
 * direction stays on one thread, which keeps every SA's packets in order without reordering.
 */
public final class Dataplane implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("io.isthmus.dataplane");

    /**
     * @param pathMtu the outer MTU towards the peers: inner packets that would not fit once
     *                encapsulated get an ICMP error (if they may not be fragmented)
     * @param mss TCP MSS that SYNs through the tunnel are clamped to (Azure recommends 1350)
     * @param offloads whether to use the kernel's offloads where it has them (TUN TSO, UDP GSO
     *                 and GRO); off, every packet takes its own system call, as before them
     * @param packetThreads 2: one thread per direction, for a gateway with cores to itself; 1:
     *                      both directions on one thread, for a gateway that shares its cores
     *                      (fewer thread wake-ups per packet, so less latency and CPU)
     */
    public record Settings(String tunDevice, List<InetAddress> localAddresses, int natTraversalPort, boolean rawEsp, int pathMtu,
                           int mss, int socketBufferBytes, boolean offloads, int packetThreads) {
        public Settings {
            localAddresses = List.copyOf(localAddresses);
            if (packetThreads != 1 && packetThreads != 2) {
                throw new IllegalArgumentException("packet threads: 1 or 2, not " + packetThreads);
            }
        }

        public Settings(String tunDevice, List<InetAddress> localAddresses, int natTraversalPort, boolean rawEsp, int pathMtu, int mss,
                        int socketBufferBytes) {
            this(tunDevice, localAddresses, natTraversalPort, rawEsp, pathMtu, mss, socketBufferBytes, true, 2);
        }
    }

    /** What the data plane tells the control plane, from the packet threads: return at once. */
    public interface Events {
        /**
         * An IKE message that arrived on port 4500 (the non-ESP marker removed), {@code length}
         * bytes at {@code offset} of a buffer the packet thread reuses: copy what you keep, and
         * drop rather than wait when you cannot keep up (anyone can send these).
         */
        void ikeMessage(byte[] buffer, int offset, int length, InetSocketAddress local, InetSocketAddress remote);

        /** A soft (rekey now) or hard (gone) lifetime of the child SA with this inbound SPI. */
        void lifetime(int inboundSpi, boolean hard);
    }

    /** A tunnel as configured: route-based or policy-based, and the prefixes that lead into it. */
    public record TunnelSpec(String name, boolean policyBased, List<String> prefixes) {
        public TunnelSpec {
            prefixes = List.copyOf(prefixes);
        }
    }

    private final Settings settings;
    private final Events events;
    private final Counters counters = new Counters();

    private TunDevice tun;
    private final Map<InetAddress, DatagramSocket> udpSockets = new LinkedHashMap<>();
    private final Map<InetAddress, DatagramSocket> rawSockets = new LinkedHashMap<>();
    private final List<AgentRunner> runners = new ArrayList<>();
    /** Duty cycles each packet thread has completed: how the control plane knows they let go of what it unpublished. */
    private final List<AtomicLong> dutyCycles = new ArrayList<>();
    private final ForwardingTables tables;
    private final Libc.CallState controlState = new Libc.CallState();

    private Dataplane(Settings settings, Events events) {
        this.settings = settings;
        this.events = events;
        this.tables = new ForwardingTables(events, settings.pathMtu(), this::socketFor, dutyCycles);
    }

    /** Opens the TUN device and the sockets and starts the two packet threads. */
    public static Dataplane start(Settings settings, Events events) throws IOException {
        Dataplane d = new Dataplane(settings, events);
        try {
            d.tun = TunDevice.open(settings.tunDevice(), settings.offloads());
            for (InetAddress a : settings.localAddresses()) {
                InetSocketAddress at = new InetSocketAddress(a, settings.natTraversalPort());
                d.udpSockets.put(a, settings.offloads() ? DatagramSocket.udp(at, settings.socketBufferBytes())
                        : DatagramSocket.udpWithoutOffloads(at, settings.socketBufferBytes()));
                if (settings.rawEsp()) {
                    d.rawSockets.put(a, DatagramSocket.rawEsp(new InetSocketAddress(a, 0), settings.socketBufferBytes()));
                }
            }
        } catch (IOException | RuntimeException e) {
            d.close();
            throw e;
        }
        List<DatagramSocket> sockets = new ArrayList<>(d.udpSockets.values());
        sockets.addAll(d.rawSockets.values());
        int[] socketFds = sockets.stream().mapToInt(DatagramSocket::fd).toArray();
        if (settings.packetThreads() == 1) {
            int[] all = java.util.stream.IntStream.concat(java.util.stream.IntStream.of(d.tun.fd()), java.util.Arrays.stream(socketFds)).toArray();
            d.runners.add(run(new org.agrona.concurrent.CompositeAgent(new OutboundAgent(d), new InboundAgent(d, sockets)),
                    new PacketThreadIdle.Poll(new Poller(all)), d.dutyCycle()));
        } else {
            d.runners.add(run(new OutboundAgent(d), new PacketThreadIdle.Poll(new Poller(d.tun.fd())), d.dutyCycle()));
            d.runners.add(run(new InboundAgent(d, sockets), new PacketThreadIdle.Poll(new Poller(socketFds)), d.dutyCycle()));
        }
        LOG.log(System.Logger.Level.INFO, "data plane up: {0}, {1}{2}, path MTU {3}, MSS clamp {4}", d.tun, d.udpSockets.values(),
                settings.rawEsp() ? " and " + d.rawSockets.values() : "", settings.pathMtu(), settings.mss());
        LOG.log(System.Logger.Level.INFO, "{0} packet thread(s); offloads: {1}: {2}; {3}", settings.packetThreads(), d.tun, d.tun.offloads(), d.udpSockets.values().stream()
                .map(s -> s + ": " + s.offloads()).collect(java.util.stream.Collectors.joining("; ")));
        return d;
    }

    /** Tables and forwarding only, no devices or threads: for driving the packet paths by hand in tests. */
    static Dataplane withoutIo(Settings settings, Events events) {
        return new Dataplane(settings, events);
    }

    private AtomicLong dutyCycle() {
        AtomicLong c = new AtomicLong();
        dutyCycles.add(c);
        return c;
    }

    private static AgentRunner run(Agent agent, IdleStrategy idle, AtomicLong dutyCycles) {
        AgentRunner r = new AgentRunner(new PacketThreadIdle.Counting(idle, dutyCycles), t -> LOG.log(System.Logger.Level.ERROR, agent.roleName() + ": " + t, t),
                null, agent);
        AgentRunner.startOnThread(r, runnable -> {
            Thread t = new Thread(runnable, agent.roleName());
            t.setDaemon(true);
            return t;
        });
        return r;
    }

    Counters counters() {
        return counters;
    }

    int mss() {
        return settings.mss();
    }

    /** What the packet threads forward by now. */
    ForwardingSnapshot snapshot() {
        return tables.forwarding().current();
    }

    synchronized Map<String, Tunnel> tunnelsForTests() {
        return Map.copyOf(tables.tunnels());
    }

    public Settings settings() {
        return settings;
    }

    public String tunDevice() {
        return settings.tunDevice();
    }

    /** Drops not attributable to a tunnel (no route, unknown SPI, malformed). */
    public Counters globalCounters() {
        return counters;
    }

    // ------------------------------------------------------------------------------------------
    // Changes from the control plane (any thread; serialised here, published to the packet threads)
    // ------------------------------------------------------------------------------------------

    /** Sets the tunnels and their prefixes; tunnels that stay keep their SAs and counters. */
    public synchronized void tunnels(List<TunnelSpec> specs) {
        tables.tunnels(specs);
    }

    /** Installs a child SA whose outbound half carries traffic at once. */
    public synchronized void install(SaPair pair) {
        install(pair, true);
    }

    /**
     * Installs a child SA. With {@code outboundNow} its outbound half becomes the tunnel's
     * newest, so a rekey's replacement takes over outbound traffic at once; otherwise it queues
     * behind the SAs there and carries traffic once they are retired (the peer initiated the
     * rekey and may not have the new SA yet). The old SA keeps receiving until removed.
     *
     * <p>Keys travel once: the pair's {@link io.isthmus.esp.SaParameters} are wiped here, whether
     * the SA is installed or refused. The installed SAs keep copies of their own, which
     * {@link #remove} wipes.
     */
    public synchronized void install(SaPair pair, boolean outboundNow) {
        try {
            tables.install(pair, outboundNow);
        } finally {
            pair.inbound().destroy();
            pair.outbound().destroy();
        }
    }

    /** The socket an SA's outbound half leaves by: none without I/O (tests), else there must be one. */
    private DatagramSocket socketFor(SaPair pair) {
        DatagramSocket socket = (pair.udpEncapsulation() ? udpSockets : rawSockets).get(pair.local().getAddress());
        if (socket == null && tun != null) {
            throw new IllegalStateException("no " + (pair.udpEncapsulation() ? "UDP" : "raw ESP") + " socket on " + pair.local().getAddress()
                    + " for SA " + spiText(pair.inbound().spi()) + (pair.udpEncapsulation() || settings.rawEsp() ? "" : " (raw ESP is off)"));
        }
        return socket;
    }

    /**
     * Stops sending through the child SA with this inbound SPI; it still receives until
     * {@link #remove}d, so packets the peer sent before it switched are not lost. Nothing is
     * destroyed here: a packet thread may be sealing with this SA right now, from the snapshot it
     * read before this change (measured before: 1 to 4 packets lost per three minutes of 15 s
     * child lifetimes, counted as seal failures, when retire destroyed it at once).
     */
    public synchronized void retire(int inboundSpi) {
        tables.retire(inboundSpi);
    }

    /**
     * Removes the child SA with this inbound SPI, both halves: out of the snapshot first; its keys
     * are wiped once no packet thread can hold it any more ({@link Graveyard}).
     */
    public synchronized void remove(int inboundSpi) {
        tables.remove(inboundSpi);
    }

    /** Wipes the keys of removed SAs that no packet thread can hold any more (those {@link #remove} could not wait for). */
    public synchronized void reclaim() {
        tables.reclaim();
    }

    // ------------------------------------------------------------------------------------------
    // IKE's messages on port 4500 go out through the same socket as ESP in UDP
    // ------------------------------------------------------------------------------------------

    /** Sends an IKE message from {@code local} (port 4500) with the non-ESP marker. */
    public synchronized void sendIke(byte[] datagram, InetSocketAddress local, InetSocketAddress remote) {
        sendControl(UdpEncapsulation.ikeDatagram(datagram), local, remote);
    }

    /** One 0xFF byte, without marker, to keep a NAT mapping open (RFC 3948 §2.3). */
    public synchronized void sendNatKeepalive(InetSocketAddress local, InetSocketAddress remote) {
        sendControl(UdpEncapsulation.keepalive(), local, remote);
    }

    private void sendControl(byte[] bytes, InetSocketAddress local, InetSocketAddress remote) {
        DatagramSocket s = udpSockets.get(local.getAddress());
        if (s == null) {
            LOG.log(System.Logger.Level.WARNING, "no UDP socket on {0} to send to {1}", local, remote);
            return;
        }
        int r = s.sendWhole(controlState, bytes, remote);
        if (r < 0) {
            LOG.log(System.Logger.Level.WARNING, "sending {0} bytes from {1} to {2}: {3}", bytes.length, local, remote, Libc.describe(-r));
        }
    }

    // ------------------------------------------------------------------------------------------
    // Status
    // ------------------------------------------------------------------------------------------

    /** One SA's state and traffic, for status. */
    public record SaStatus(int inboundSpi, int outboundSpi, String suite, boolean esn, boolean udpEncapsulation,
                           InetSocketAddress local, InetSocketAddress remote, List<Selector> localSelectors, List<Selector> remoteSelectors,
                           long inBytes, long inPackets, long outBytes, long outPackets, Map<DropReason, Long> drops, boolean carriesOutbound) {
    }

    /** One tunnel's counters and SAs, for status. */
    public record TunnelStatus(String name, boolean policyBased, long ingressPackets, long ingressBytes, long egressPackets,
                               long egressBytes, Map<Drop, Long> drops, List<SaStatus> sas) {
    }

    public synchronized List<TunnelStatus> status() {
        return tables.status();
    }

    static String spiText(int spi) {
        return String.format("%08x", spi);
    }

    @Override
    public synchronized void close() {
        for (AgentRunner r : runners) {
            r.close();
        }
        runners.clear();
        tables.destroyAll();
        udpSockets.values().forEach(DatagramSocket::close);
        rawSockets.values().forEach(DatagramSocket::close);
        if (tun != null) {
            tun.close();
        }
    }

    // ------------------------------------------------------------------------------------------
    // The two packet threads
    // ------------------------------------------------------------------------------------------

    /** A burst of up to this many reads per duty cycle and descriptor, then the other descriptors get their turn. */
    private static final int BURST = 64;
    private static final int BUFFER = TunPort.HEADROOM + 65_536;

    /** TUN to ESP. */
    private static final class OutboundAgent implements Agent, Emitter {
        private final Libc.CallState state = new Libc.CallState();
        private final TunPort tun;
        private final TunBatch batch = new TunBatch();
        private final OutboundPath path;

        OutboundAgent(Dataplane d) {
            this.tun = new LinuxTun(d.tun);
            this.path = new OutboundPath(d, this, tun);
        }

        @Override
        public int doWork() {
            int work = 0;
            for (; work < BURST; work++) {
                if (!tun.read(batch)) {
                    break;
                }
                path.packets(batch);
            }
            path.flush();
            tun.flush();
            return work;
        }

        @Override
        public int sendEsp(InstalledSa.Outbound route, PacketBuffer b, int offset, int length, int segmentSize) {
            return route.socket.sendSegments(state, b, offset, length, segmentSize, route.to, route.toLength);
        }

        @Override
        public void toIke(byte[] message, int offset, int length) {
        }

        @Override
        public String roleName() {
            return "isthmus-outbound";
        }
    }

    /** ESP (UDP 4500 and raw) to TUN; IKE messages on 4500 to the control plane. */
    private static final class InboundAgent implements Agent, Emitter {
        private final Dataplane d;
        private final DatagramSocket[] sockets;
        private final Libc.CallState state = new Libc.CallState();
        private final PacketBuffer buffer = new PacketBuffer(BUFFER);
        private final TunPort tun;
        private final InboundPath path;
        private DatagramSocket current;

        InboundAgent(Dataplane d, List<DatagramSocket> sockets) {
            this.d = d;
            this.sockets = sockets.toArray(DatagramSocket[]::new);
            this.tun = new LinuxTun(d.tun);
            this.path = new InboundPath(d, this, tun);
        }

        @Override
        public int doWork() {
            int work = 0;
            for (DatagramSocket s : sockets) {
                current = s;
                for (int i = 0; i < BURST; i++) {
                    int n = s.receive(state, buffer, 0, BUFFER);
                    if (n <= 0) {
                        break;
                    }
                    int off = s.payloadOffset(buffer.bytes(), 0);
                    if (off >= n) {
                        continue;
                    }
                    path.datagrams(buffer, off, n - off, s.isRaw() ? n - off : s.lastSegmentSize(), !s.isRaw());
                    work++;
                }
            }
            tun.flush();
            return work;
        }

        @Override
        public int sendEsp(InstalledSa.Outbound route, PacketBuffer b, int offset, int length, int segmentSize) {
            return -1;
        }

        @Override
        public void toIke(byte[] message, int offset, int length) {
            d.events.ikeMessage(message, offset, length, current.localAddress(), SocketAddresses.read(state.lastSource()));
        }

        @Override
        public String roleName() {
            return "isthmus-inbound";
        }
    }
}
