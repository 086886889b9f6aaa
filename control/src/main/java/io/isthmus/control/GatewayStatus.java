package io.isthmus.control;

import io.isthmus.dataplane.Counters;
import io.isthmus.dataplane.Dataplane;
import io.isthmus.dataplane.Drop;
import io.isthmus.ike.IkeSa;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a running gateway reports, as {@code isthmus status} shows it and the control socket
 * sends it (JSON): per connection its IKE SAs and their child SAs with traffic, and the
 * tunnel's counters under Azure's metric names.
 */
public record GatewayStatus(String gateway, String instance, String vpnType, String sku, int skuMaxTunnels, long uptimeSeconds,
                            List<ConnectionStatus> connections, Map<String, Long> unattributedDrops, Defense defense, ProcessStatus process,
                            io.isthmus.control.ha.GatewayPair.Status pair) {

    /**
     * How the gateway holds up against what anyone can send it: cookies asked for, responder IKE
     * SAs waiting for IKE_AUTH, IKE datagrams from port 4500 dropped because the IKE thread was
     * behind, key pairs generated since start.
     */
    public record Defense(long cookiesSent, int halfOpenIkeSas, long ikeFromPort4500, long ikeFromPort4500Dropped, long keyPairsGenerated) {
    }

    /** This process: heap in use, heap still live after the last collection, resident memory, threads. */
    public record ProcessStatus(long heapUsedBytes, long heapLiveAfterLastGcBytes, long residentBytes, int threads) {
        static ProcessStatus now() {
            Runtime r = Runtime.getRuntime();
            long live = 0;
            for (var pool : java.lang.management.ManagementFactory.getMemoryPoolMXBeans()) {
                var after = pool.getType() == java.lang.management.MemoryType.HEAP ? pool.getCollectionUsage() : null;
                live += after == null ? 0 : after.getUsed();
            }
            return new ProcessStatus(r.totalMemory() - r.freeMemory(), live, readResidentBytes(),
                    java.lang.management.ManagementFactory.getThreadMXBean().getThreadCount());
        }

        private static long readResidentBytes() {
            try {
                for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/status"))) {
                    if (line.startsWith("VmRSS:")) {
                        return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                    }
                }
            } catch (java.io.IOException | NumberFormatException e) {
                // not Linux: unknown
            }
            return -1;
        }
    }

    public record ConnectionStatus(String name, String mode, String peer, boolean policyBased, List<IkeSaStatus> ikeSas,
                                   Map<String, Long> metrics, Map<String, Long> drops) {
    }

    public record IkeSaStatus(String initiatorSpi, String responderSpi, boolean weInitiated, String state, String proposal,
                              String local, String remote, String localId, String remoteId, boolean natDetected, long establishedSecondsAgo,
                              List<ChildSaStatus> childSas) {
    }

    public record ChildSaStatus(String inboundSpi, String outboundSpi, String suite, boolean esn, String encapsulation,
                                List<String> localSelectors, List<String> remoteSelectors, long establishedSecondsAgo,
                                long inBytes, long inPackets, long outBytes, long outPackets, boolean carriesOutbound, Map<String, Long> drops) {
    }

    static GatewayStatus of(Gateway g, Collection<IkeSa> ikeSas, List<Dataplane.TunnelStatus> tunnels, Counters global, Instant startedAt,
                            Defense defense, io.isthmus.control.ha.GatewayPair.Status pair) {
        HexFormat hex = HexFormat.of();
        Instant now = Instant.now();
        List<ConnectionStatus> connections = new ArrayList<>();
        for (var c : g.config().connections()) {
            Dataplane.TunnelStatus tunnel = tunnels.stream().filter(t -> t.name().equals(c.name())).findFirst().orElse(null);
            List<IkeSaStatus> sas = new ArrayList<>();
            for (IkeSa sa : ikeSas) {
                if (!sa.connection().name().equals(c.name())) {
                    continue;
                }
                List<ChildSaStatus> children = new ArrayList<>();
                for (var d : sa.childSas()) {
                    Dataplane.SaStatus s = tunnel == null ? null : tunnel.sas().stream()
                            .filter(x -> x.inboundSpi() == d.inbound().spi()).findFirst().orElse(null);
                    Instant made = sa.childEstablishedAt(d.inbound().spi());
                    Map<String, Long> drops = new LinkedHashMap<>();
                    if (s != null) {
                        s.drops().forEach((k, v) -> drops.put(k.name(), v));
                    }
                    children.add(new ChildSaStatus(hex.toHexDigits(d.inbound().spi()), hex.toHexDigits(d.outbound().spi()),
                            d.inbound().suite().toString(), d.inbound().esn(), d.udpEncapsulation() ? "UDP" : "ESP",
                            d.localSelectors().stream().map(Object::toString).toList(), d.remoteSelectors().stream().map(Object::toString).toList(),
                            made == null ? 0 : Duration.between(made, now).toSeconds(), s == null ? 0 : s.inBytes(), s == null ? 0 : s.inPackets(),
                            s == null ? 0 : s.outBytes(), s == null ? 0 : s.outPackets(), s != null && s.carriesOutbound(), drops));
                }
                sas.add(new IkeSaStatus(hex.toHexDigits(sa.initiatorSpi()), hex.toHexDigits(sa.responderSpi()), sa.isInitiator(),
                        sa.state().name(), String.valueOf(sa.proposal()), text(sa.localAddress()), text(sa.remoteAddress()),
                        sa.connection().localId().toString(), sa.peerIdentity() == null ? "" : sa.peerIdentity().toString(), sa.natDetected(),
                        sa.establishedAt() == null ? 0 : Duration.between(sa.establishedAt(), now).toSeconds(), children));
            }
            Map<String, Long> metrics = new LinkedHashMap<>();
            Map<String, Long> drops = new LinkedHashMap<>();
            if (tunnel != null) {
                metrics.put("TunnelIngressPackets", tunnel.ingressPackets());
                metrics.put("TunnelIngressBytes", tunnel.ingressBytes());
                metrics.put("TunnelEgressPackets", tunnel.egressPackets());
                metrics.put("TunnelEgressBytes", tunnel.egressBytes());
                long ingressDrops = 0;
                long egressDrops = 0;
                for (var e : tunnel.drops().entrySet()) {
                    drops.put(e.getKey().name(), e.getValue());
                    if (e.getKey().isEgress()) {
                        egressDrops += e.getValue();
                    } else {
                        ingressDrops += e.getValue();
                    }
                }
                metrics.put("TunnelIngressPacketDropCount", ingressDrops);
                metrics.put("TunnelEgressPacketDropCount", egressDrops);
                metrics.put("TunnelIngressPacketDropTSMismatch", tunnel.drops().getOrDefault(Drop.TS_MISMATCH, 0L));
            }
            String peer = g.config().localNetworkGateway(c.localNetworkGateway()).gatewayIpAddress().getHostAddress();
            connections.add(new ConnectionStatus(c.name(), c.connectionMode().name(), peer, c.usePolicyBasedTrafficSelectors(), sas, metrics, drops));
        }
        Map<String, Long> unattributed = new LinkedHashMap<>();
        for (Drop d : Drop.values()) {
            long n = global.drops(d);
            if (n > 0) {
                unattributed.put(d.name(), n);
            }
        }
        return new GatewayStatus(g.config().gateway().name(), g.instance().name(), g.config().gateway().vpnType().name(),
                g.config().gateway().sku().azureName(), g.config().gateway().sku().maxTunnels(),
                Duration.between(startedAt, now).toSeconds(), connections, unattributed, defense, ProcessStatus.now(), pair);
    }


    private static String text(java.net.InetSocketAddress a) {
        return a.getAddress().getHostAddress() + "[" + a.getPort() + "]";
    }
}
