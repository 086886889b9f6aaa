package io.isthmus.control;

import io.isthmus.control.config.GatewayConfig;
import io.isthmus.control.config.VpnClientConfiguration;
import io.isthmus.control.p2s.VpnClientPools;
import io.isthmus.control.radius.RadiusClient;
import io.isthmus.control.radius.RadiusCounters;
import io.isthmus.control.radius.RadiusEapAuthenticator;
import io.isthmus.control.radius.RadiusSecret;
import io.isthmus.control.radius.RadiusServer;
import io.isthmus.dataplane.Dataplane;
import io.isthmus.ike.Connection;
import io.isthmus.ike.EapAuthenticator;
import io.isthmus.ike.IkeSa;
import io.isthmus.ike.IkeSaState;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * The gateway's point-to-site side as it runs (Azure's {@code vpnClientConfiguration}): the
 * clients' connection ({@link ClientConnection}), their address pools, the RADIUS client their
 * EAP goes to, what status shows of them, and the operator's disconnect. Made at start; a change
 * needs a restart (ConfigDiff).
 */
final class PointToSite implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("io.isthmus.control");
    /** How long one try waits for a RADIUS answer (3 tries per server, as strongSwan's eap-radius). */
    static final Duration RADIUS_TIMEOUT = Duration.ofSeconds(2);

    private final VpnClientPools pools;
    private final int maxClients;
    private final RadiusClient radius;
    private final Connection connection;

    private PointToSite(VpnClientPools pools, int maxClients, RadiusClient radius, Connection connection) {
        this.pools = pools;
        this.maxClients = maxClients;
        this.radius = radius;
        this.connection = connection;
    }

    /** Null when the gateway has no vpnClientConfiguration; RADIUS is asked from {@code bind}, the address its servers know the gateway by. */
    static PointToSite start(GatewayConfig config, GatewayConfig.Instance instance, InetAddress bind) throws Exception {
        VpnClientConfiguration v = config.gateway().vpnClientConfiguration();
        if (v == null) {
            return null;
        }
        RadiusClient radius = null;
        EapAuthenticator eap = null;
        if (v.allows(VpnClientConfiguration.AuthenticationType.RADIUS)) {
            radius = RadiusClient.open(v.radiusServers().stream().map(r -> new RadiusServer(new InetSocketAddress(r.address(), r.port()),
                    new RadiusSecret(r.secret()), r.score())).toList(), new InetSocketAddress(bind, 0), RADIUS_TIMEOUT, 3, new RadiusCounters());
            eap = new RadiusEapAuthenticator(radius, config.gateway().name());
        }
        try {
            // Active-active: both instances serve clients at once, each from its half of the pool (instance 0 the lower).
            VpnClientPools pools = VpnClientPools.forInstance(config, instance, System::nanoTime);
            LOG.log(System.Logger.Level.INFO, "point-to-site: up to {0} clients, addresses from {1}{2}", v.maxClients(),
                    String.join(", ", pools.prefixes()), config.gateway().activeActive() ? " (this instance's half of the pool)" : "");
            return new PointToSite(pools, v.maxClients(), radius, ClientConnection.of(config, instance, pools, eap));
        } catch (Exception | Error e) {
            if (radius != null) {
                radius.close();
            }
            throw e;
        }
    }

    Connection connection() {
        return connection;
    }

    /** The clients as status shows them; IKE thread only. */
    GatewayStatus.PointToSite status(Collection<IkeSa> ikeSas, List<Dataplane.TunnelStatus> tunnels) {
        return GatewayStatus.pointToSite(connection.name(), pools, maxClients, ikeSas, tunnels, Instant.now());
    }

    /**
     * {@code isthmus p2s disconnect CLIENT}: the IKE SAs of the client whose identity (as status
     * shows it) or virtual address is {@code client} are deleted, the client told; its address
     * waits in the pool for its reconnect as after any disconnection. IKE thread only.
     */
    Reload.Outcome disconnect(Collection<IkeSa> ikeSas, String client) {
        InetAddress address;
        try {
            address = InetAddress.ofLiteral(client);
        } catch (IllegalArgumentException e) {
            address = null; // an identity
        }
        List<String> lines = new ArrayList<>();
        for (IkeSa sa : ikeSas) {
            boolean his = sa.connection().name().equals(connection.name()) && sa.state() != IkeSaState.DESTROYED
                    && (client.equals(String.valueOf(sa.peerIdentity())) || address != null && sa.virtualAddresses().addresses().contains(address));
            if (his) {
                lines.add("client " + sa.peerIdentity() + " " + sa.virtualAddresses() + " from " + sa.remoteAddress().getAddress().getHostAddress()
                        + ": IKE SA deleted");
                sa.delete();
            }
        }
        if (lines.isEmpty()) {
            return new Reload.Outcome(false, List.of("no point-to-site client " + client + " is connected (isthmus status --json lists them)"));
        }
        LOG.log(System.Logger.Level.INFO, "p2s disconnect {0}: {1}", client, lines);
        return new Reload.Outcome(true, lines);
    }

    @Override
    public void close() {
        if (radius != null) {
            radius.close();
        }
    }
}
