package io.isthmus.control;

import io.isthmus.control.config.GatewayConfig;
import io.isthmus.control.config.GatewayConfig.ConnectionMode;
import io.isthmus.control.config.GatewayConfig.Instance;
import io.isthmus.control.config.GatewayConfig.IpsecPolicy;
import io.isthmus.control.config.GatewayConfig.LocalNetworkGateway;
import io.isthmus.dataplane.Dataplane;
import io.isthmus.dataplane.SaPair;
import io.isthmus.dataplane.Selector;
import io.isthmus.ike.Authentication;
import io.isthmus.ike.ChildSaDescription;
import io.isthmus.ike.ChildSaListener;
import io.isthmus.ike.Connection;
import io.isthmus.ike.engine.IkeEngine;
import io.isthmus.ike.IkeSa;
import io.isthmus.ike.IkeSaState;
import io.isthmus.ike.InboundDatagrams;
import io.isthmus.ike.Identity;
import io.isthmus.ike.Transport;
import io.isthmus.ike.UdpTransport;
import io.isthmus.ike.message.TrafficSelector;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * One gateway instance running: the IKE engine on its Netty event loop and the data plane, joined
 * here and nowhere else. IKE owns port 500; the data plane owns 4500, where ESP in UDP and IKE
 * share the socket, and passes IKE messages over. Child SAs IKE announces go into the data plane;
 * lifetimes the data plane counts go back to IKE as rekeys. Connections that may initiate are
 * kept up: brought up at start, brought up again when they fall.
 */
public final class Gateway implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("io.isthmus.gateway");
    private static final Duration KEEPER_PERIOD = Duration.ofSeconds(5);
    /** How long a deleted SA still accepts packets that were already on their way. */
    private static final Duration INBOUND_GRACE = Duration.ofSeconds(2);

    private final GatewayConfig config;
    private final Instance instance;
    private final Instant startedAt = Instant.now();
    private final Map<String, Connection> connections = new LinkedHashMap<>();
    /** Which duplicate IKE SAs to keep (IKE thread only). */
    private final DuplicateIkeSas duplicates = new DuplicateIkeSas();
    private UdpTransport ikeSockets;
    private Dataplane dataplane;
    private IkeEngine engine;
    /** IKE from port 4500, on its way from the inbound packet thread to the IKE thread. */
    private InboundDatagrams ikeFromDataplane;
    /**
     * How many IKE datagrams from port 4500 may wait for the IKE thread. A peer retransmits
     * what is lost; a flood beyond this is dropped on the packet thread, before it is copied.
     */
    private static final int IKE_QUEUE = 256;
    private volatile boolean closing;

    private Gateway(GatewayConfig config, Instance instance) {
        this.config = config;
        this.instance = instance;
    }

    /** Starts instance {@code instanceName} (null: the first) of the configured gateway. */
    public static Gateway start(GatewayConfig config, String instanceName) throws Exception {
        Gateway g = new Gateway(config, config.instance(instanceName));
        try {
            g.startAll();
        } catch (Exception | Error e) {
            g.close();
            throw e;
        }
        return g;
    }

    public GatewayConfig config() {
        return config;
    }

    public Instance instance() {
        return instance;
    }

    private void startAll() throws Exception {
        GatewayConfig.Tunnel t = config.gateway().tunnel();
        InetAddress bind = instance.bindAddress();
        LOG.log(System.Logger.Level.INFO, "gateway {0} instance {1} starting on {2} ({3}, SKU {4}: up to {5} tunnels, {6} Mbit/s as Azure rates it)",
                config.gateway().name(), instance.name(), bind.getHostAddress(), config.gateway().vpnType(), config.gateway().sku().azureName(),
                config.gateway().sku().maxTunnels(), config.gateway().sku().megabitsPerSecond());
        config.warnings().forEach(w -> LOG.log(System.Logger.Level.WARNING, w));
        // Before anything is bound or made: a route that would cut this host off stops the start here.
        HostNetwork.read(config).refuseRoutesThatCutTheHostOff(config, t.device());
        ikeSockets = UdpTransport.bindIkePortOnly(List.of(bind), t.ikePort(), t.natTraversalPort());
        // The engine exists before the data plane reads port 4500, whose IKE it is handed.
        engine = new IkeEngine(new GatewayTransport(), ikeSockets, new DataplaneBridge());
        engine.natTraversalPort(t.natTraversalPort());
        IkeEngine ike = engine;
        ikeFromDataplane = new InboundDatagrams(IKE_QUEUE, ikeSockets::execute, (d, local, remote) -> ike.receive(d, 0, d.length, local, remote));
        dataplane = Dataplane.start(new Dataplane.Settings(t.device(), List.of(bind), t.natTraversalPort(), t.rawEsp(), t.pathMtu(),
                t.tcpMssClamp(), 4 << 20, t.offloads(), t.packetThreads()), new DataplaneEvents());
        configureKernel(t);
        List<Dataplane.TunnelSpec> tunnels = new ArrayList<>();
        for (GatewayConfig.Connection c : config.connections()) {
            LocalNetworkGateway site = config.localNetworkGateway(c.localNetworkGateway());
            tunnels.add(new Dataplane.TunnelSpec(c.name(), c.usePolicyBasedTrafficSelectors(), site.addressPrefixes()));
            connections.put(c.name(), ikeConnection(c, site));
        }
        dataplane.tunnels(tunnels);
        ikeSockets.attach(engine);
        onLoop(() -> {
            connections.values().forEach(engine::addConnection);
            return null;
        });
        // A little randomness, so two gateways started together do not both initiate at once.
        ikeSockets.schedule(Duration.ofMillis(ThreadLocalRandom.current().nextLong(2000)), this::keepConnectionsUp);
        for (Connection c : connections.values()) {
            LOG.log(System.Logger.Level.INFO, "{0}, mode {1}, IKE {2}, ESP {3}", c, c.mode(), c.ikeProposals(), c.childProposals());
        }
    }

    /** MTU, link up and a route into the TUN device for every site prefix, with ip(8) as an operator would. */
    private void configureKernel(GatewayConfig.Tunnel t) throws IOException, InterruptedException {
        // No IPv6 link-local address on the device: the kernel would send router solicitations into the tunnel.
        try {
            java.nio.file.Files.writeString(java.nio.file.Path.of("/proc/sys/net/ipv6/conf/" + t.device() + "/addr_gen_mode"), "1");
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, "IPv6 address generation on {0} stays on: {1}", t.device(), e.toString());
        }
        // A deeper queue towards our outbound thread: bursts wait rather than being dropped.
        run("ip", "link", "set", "dev", t.device(), "mtu", Integer.toString(t.mtu()), "txqueuelen", "4096", "up");
        for (LocalNetworkGateway site : config.localNetworkGateways()) {
            for (String prefix : site.addressPrefixes()) {
                run("ip", prefix.contains(":") ? "-6" : "-4", "route", "replace", prefix, "dev", t.device());
            }
        }
        for (String sysctl : List.of("/proc/sys/net/ipv4/ip_forward", "/proc/sys/net/ipv6/conf/all/forwarding")) {
            try {
                if (!java.nio.file.Files.readString(java.nio.file.Path.of(sysctl)).strip().equals("1")) {
                    LOG.log(System.Logger.Level.WARNING, "{0} is 0: this host will not forward its sites'' traffic into the tunnel", sysctl);
                }
            } catch (IOException ignored) {
                // not Linux-like enough to tell
            }
        }
    }

    static void run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes()).strip();
        if (p.waitFor() != 0) {
            throw new IOException(String.join(" ", command) + " failed: " + out);
        }
        LOG.log(System.Logger.Level.INFO, "{0}", String.join(" ", command));
    }

    /** The IKE connection a configured connection becomes. */
    Connection ikeConnection(GatewayConfig.Connection c, LocalNetworkGateway site) throws IOException {
        Connection.Builder b = Connection.builder(c.name());
        Identity remoteId;
        if (site.ikeIdentity() != null) {
            remoteId = Identity.parse(site.ikeIdentity());
        } else if (c.certificate() != null && c.certificate().inboundAuthCertificateSubjectName() != null) {
            remoteId = Identity.parse(c.certificate().inboundAuthCertificateSubjectName());
        } else {
            remoteId = Identity.of(site.gatewayIpAddress());
        }
        Identity localId = Identity.of(instance.publicIpAddress());
        if (c.sharedKey() != null) {
            b.preSharedKey(c.sharedKey());
        } else {
            var cert = c.certificate();
            List<X509Certificate> chain = Pem.certificates(cert.outboundAuthCertificate());
            List<X509Certificate> anchors = new ArrayList<>();
            for (var file : cert.inboundAuthCertificateChain()) {
                anchors.addAll(Pem.certificates(file));
            }
            b.authentication(new Authentication.Certificates(Pem.privateKey(cert.privateKey()), chain, anchors, false));
            localId = Identity.parse(org.bouncycastle.asn1.x500.X500Name.getInstance(chain.getFirst().getSubjectX500Principal().getEncoded())
                    .toString());
        }
        b.local(instance.bindAddress(), localId).remote(site.gatewayIpAddress(), remoteId);
        if (c.usePolicyBasedTrafficSelectors()) {
            config.gateway().addressSpace().forEach(b::localTs);
            site.addressPrefixes().forEach(b::remoteTs);
        } else {
            // Route-based: any to any (Azure's way); the tunnel table decides what goes in.
            b.localTs("0.0.0.0/0").localTs("::/0").remoteTs("0.0.0.0/0").remoteTs("::/0");
        }
        IpsecPolicy policy = c.ipsecPolicies().isEmpty() ? null : c.ipsecPolicies().getFirst();
        b.ike(policy == null ? io.isthmus.control.config.ConfigReader.DEFAULT_IKE : policy.ikeProposal());
        b.esp(policy == null ? io.isthmus.control.config.ConfigReader.DEFAULT_ESP : policy.espProposal());
        Duration childLife = policy == null ? io.isthmus.control.config.ConfigReader.DEFAULT_SA_LIFETIME : policy.saLifeTime();
        long kilobytes = policy == null ? io.isthmus.control.config.ConfigReader.DEFAULT_SA_KILOBYTES : policy.saDataSizeKilobytes();
        Duration ikeLife = Connection.Timers.AZURE.ikeLifetime();
        Duration margin = Duration.ofMillis(Math.min(540_000, Math.min(childLife.toMillis(), ikeLife.toMillis()) / 5));
        Connection.Timers az = Connection.Timers.AZURE;
        b.timers(new Connection.Timers(ikeLife, childLife, kilobytes, margin, az.rekeyJitter(), az.dpdDelay(), c.dpdTimeout(),
                az.retransmitBase(), az.retransmitTries(), az.natKeepalive()));
        b.forceUdpEncapsulation(c.forceUdpEncapsulation());
        b.mode(switch (c.connectionMode()) {
            case DEFAULT -> Connection.Mode.DEFAULT;
            case INITIATOR_ONLY -> Connection.Mode.INITIATOR_ONLY;
            case RESPONDER_ONLY -> Connection.Mode.RESPONDER_ONLY;
        });
        return b.build();
    }

    /**
     * Every few seconds, on the IKE thread: a connection that may initiate and has no IKE SA gets
     * one; an IKE SA that lost its last child SA gets a new one. Azure's tunnels are always on.
     */
    private void keepConnectionsUp() {
        if (closing) {
            return;
        }
        GatewayConfig.Tunnel t = config.gateway().tunnel();
        for (GatewayConfig.Connection c : config.connections()) {
            if (c.connectionMode() == ConnectionMode.RESPONDER_ONLY) {
                continue;
            }
            List<IkeSa> sas = engine.ikeSas().stream().filter(s -> s.connection().name().equals(c.name())
                    && s.state() != IkeSaState.DESTROYED).toList();
            if (sas.isEmpty()) {
                LocalNetworkGateway site = config.localNetworkGateway(c.localNetworkGateway());
                try {
                    engine.initiate(c.name(), new InetSocketAddress(instance.bindAddress(), t.ikePort()),
                            new InetSocketAddress(site.gatewayIpAddress(), t.ikePort()));
                } catch (RuntimeException e) {
                    LOG.log(System.Logger.Level.WARNING, "{0}: cannot initiate: {1}", c.name(), e.getMessage());
                }
                continue;
            }
            duplicates.settle(c.name(), sas.stream().filter(s -> s.state() == IkeSaState.ESTABLISHED).map(Duplicate::new).toList(),
                    ikeSockets.now(), c.dpdTimeout());
            for (IkeSa sa : sas) {
                if (sa.state() == IkeSaState.ESTABLISHED && sa.childSas().isEmpty() && sa.establishedAt() != null
                        && Duration.between(sa.establishedAt(), Instant.now()).compareTo(Duration.ofSeconds(10)) > 0) {
                    LOG.log(System.Logger.Level.INFO, "{0}: no child SA, making one", sa);
                    sa.createChild();
                }
            }
        }
        dataplane.reclaim();
        ikeSockets.schedule(KEEPER_PERIOD, this::keepConnectionsUp);
    }

    /** An IKE SA as the duplicate rule sees it. */
    private record Duplicate(IkeSa sa) implements DuplicateIkeSas.Candidate {
        @Override
        public long initiatorSpi() {
            return sa.initiatorSpi();
        }

        @Override
        public long responderSpi() {
            return sa.responderSpi();
        }

        @Override
        public Instant lastHeard() {
            return sa.lastHeard();
        }

        @Override
        public void probe() {
            sa.probe();
        }

        @Override
        public void delete(String why) {
            LOG.log(System.Logger.Level.INFO, "{0}: {1}, deleting it", sa, why);
            sa.delete();
        }

        @Override
        public String toString() {
            return sa.toString();
        }
    }

    <T> T onLoop(Callable<T> task) throws Exception {
        CompletableFuture<T> f = new CompletableFuture<>();
        ikeSockets.execute(() -> {
            try {
                f.complete(task.call());
            } catch (Throwable t) {
                f.completeExceptionally(t);
            }
        });
        return f.get(10, TimeUnit.SECONDS);
    }

    /** A snapshot of everything, for status. */
    public GatewayStatus status() throws Exception {
        List<Dataplane.TunnelStatus> tunnels = dataplane.status();
        return onLoop(() -> GatewayStatus.of(this, engine.ikeSas(), tunnels, dataplane.globalCounters(), startedAt,
                new GatewayStatus.Defense(engine.cookiesSent(), engine.halfOpenSas(), ikeFromDataplane.accepted(), ikeFromDataplane.dropped(),
                        io.isthmus.ike.crypto.KeyExchangeMethod.keyPairsGenerated())));
    }

    /** Deletes every IKE SA (telling the peers), then stops and wipes the shared keys. */
    @Override
    public void close() {
        closing = true;
        if (engine != null) {
            try {
                onLoop(() -> {
                    engine.ikeSas().forEach(IkeSa::delete);
                    return null;
                });
                long end = System.nanoTime() + 2_000_000_000L;
                while (System.nanoTime() < end && !onLoop(() -> engine.ikeSas().isEmpty())) {
                    Thread.sleep(50);
                }
            } catch (Exception e) {
                LOG.log(System.Logger.Level.WARNING, "while deleting the IKE SAs: {0}", e.toString());
            }
        }
        if (dataplane != null) {
            dataplane.close();
        }
        if (ikeSockets != null) {
            ikeSockets.close();
        }
        config.destroySecrets();
        LOG.log(System.Logger.Level.INFO, "gateway {0} instance {1} stopped", config.gateway().name(), instance.name());
    }

    // ------------------------------------------------------------------------------------------

    /** IKE out: port 500 through Netty, port 4500 through the data plane's socket. */
    private final class GatewayTransport implements Transport {
        @Override
        public void send(byte[] datagram, InetSocketAddress local, InetSocketAddress remote) {
            if (local.getPort() == config.gateway().tunnel().natTraversalPort()) {
                dataplane.sendIke(datagram, local, remote);
            } else {
                ikeSockets.send(datagram, local, remote);
            }
        }

        @Override
        public void sendNatKeepalive(InetSocketAddress local, InetSocketAddress remote) {
            dataplane.sendNatKeepalive(local, remote);
        }
    }

    /** The data plane's news, from its packet threads, handed to the IKE thread. */
    private final class DataplaneEvents implements Dataplane.Events {
        @Override
        public void ikeMessage(byte[] buffer, int offset, int length, InetSocketAddress local, InetSocketAddress remote) {
            ikeFromDataplane.offer(buffer, offset, length, local, remote);
        }

        @Override
        public void lifetime(int inboundSpi, boolean hard) {
            ikeSockets.execute(() -> {
                if (hard) {
                    engine.expireChild(inboundSpi);
                } else {
                    engine.rekeyChild(inboundSpi);
                }
            });
        }
    }

    /** Child SAs from IKE into the data plane, on the IKE thread. */
    private final class DataplaneBridge implements ChildSaListener {
        @Override
        public void installed(ChildSaDescription sa) {
            dataplane.install(pair(sa), true);
        }

        @Override
        public void rekeyed(ChildSaDescription old, ChildSaDescription replacement, boolean outboundNow) {
            dataplane.install(pair(replacement), outboundNow);
        }

        @Override
        public void deleted(ChildSaDescription sa) {
            // Stop sending on it now; take packets already on their way for a moment longer.
            int spi = sa.inbound().spi();
            dataplane.retire(spi);
            ikeSockets.schedule(INBOUND_GRACE, () -> dataplane.remove(spi));
        }
    }

    static SaPair pair(ChildSaDescription d) {
        return new SaPair(d.connection(), d.inbound(), d.outbound(), selectors(d.localSelectors()), selectors(d.remoteSelectors()),
                d.localAddress(), d.remoteAddress(), d.udpEncapsulation());
    }

    static List<Selector> selectors(List<TrafficSelector> ts) {
        return ts.stream().map(t -> new Selector(t.startAddress(), t.endAddress(), t.ipProtocol(), t.startPort(), t.endPort())).toList();
    }
}
