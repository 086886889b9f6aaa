package io.isthmus.control;

import io.isthmus.control.config.ConfigReader;
import io.isthmus.control.config.GatewayConfig;
import io.isthmus.control.ha.GatewayPair;
import io.isthmus.control.ha.KeepalivedConfig;
import io.isthmus.control.ha.KeepalivedConfig.FloatingAddress;
import io.isthmus.control.ha.KeepalivedConfig.FloatingGroup;
import io.isthmus.control.ha.KeepalivedConfig.HealthCheck;
import io.isthmus.control.ha.KeepalivedConfig.ParameterMatch;
import io.isthmus.control.ha.KeepalivedConfig.Preemption;
import io.isthmus.control.ha.KeepalivedConfig.TrackedProcess;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code isthmus ha keepalived-config}: the keepalived.conf of one instance of a pair, from the
 * gateway's own file and what only the machine knows (its interfaces), so the two never drift:
 * the floating addresses, the sync addresses, the FIFO, alive and handover files are the
 * gateway's, the VRRP instances named after its groups.
 */
@Command(name = "keepalived-config", description = {
        "Print the keepalived.conf of this instance of an active-active pair: one VRRPv3 instance per floating address (this "
                + "instance's at priority 150, the partner's at 100), unicast over the sync link, the gateway tracked by its process and by "
                + "/usr/lib/isthmus/alive-check, its transitions written to the gateway's FIFO, a planned handover through its track file, "
                + "and preemption after a delay so a returning instance takes its address back.",
        "Run keepalived with it: keepalived --use-file FILE (or save it as /etc/keepalived/keepalived.conf)."})
final class PairKeepalivedCommand implements Callable<Integer> {
    @Option(names = "--config", required = true, description = "The gateway's configuration file.")
    Path config;

    @Option(names = "--instance", required = true, description = "Which of the pair this machine is.")
    String instance;

    @Option(names = "--sync-interface", required = true, description = "The device that holds this instance's sync address.")
    String syncInterface;

    @Option(names = "--wan-interface", required = true, description = "The device the floating addresses go on.")
    String wanInterface;

    @Option(names = "--wan-prefix", defaultValue = "24", description = "Their prefix length on it (default ${DEFAULT-VALUE}).")
    int wanPrefix;

    @Option(names = "--network-interface", description = "The network-side device, for floating gateway addresses of the hosts behind.")
    String networkInterface;

    @Option(names = "--network-address", description = "A group's network-side floating address: GROUP=ADDRESS/PREFIX (repeatable).")
    Map<String, String> networkAddresses = Map.of();

    @Option(names = "--advert-ms", defaultValue = "100", description = "VRRPv3 advert interval, 10 ms steps (default ${DEFAULT-VALUE}).")
    long advertMillis;

    @Option(names = "--preempt-delay-ms", defaultValue = "1000", description = "How long a returning instance waits before it takes "
            + "its address back (default ${DEFAULT-VALUE}).")
    long preemptMillis;

    @Option(names = "--virtual-router-ids", split = ",", defaultValue = "51,52", description = "VRRP ids of the groups, in the order "
            + "of virtualNetworkGateway.instances (default ${DEFAULT-VALUE}).")
    List<Integer> routerIds;

    @Option(names = "--alive-limit-ms", defaultValue = "1000", description = "How stale the gateway's alive file may be (default ${DEFAULT-VALUE}).")
    int aliveLimit;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        GatewayConfig c = ConfigReader.read(config);
        try {
            spec.commandLine().getOut().print(render(c));
            spec.commandLine().getOut().flush();
            return 0;
        } finally {
            c.destroySecrets();
        }
    }

    String render(GatewayConfig c) {
        if (c.pair() == null) {
            throw new IllegalArgumentException(config + " has no pair section: keepalived moves a pair's floating addresses");
        }
        GatewayConfig.Instance self = c.instance(instance);
        List<GatewayConfig.Instance> all = c.gateway().instances();
        if (routerIds.size() != all.size()) {
            throw new IllegalArgumentException("--virtual-router-ids needs " + all.size() + " ids, one per instance");
        }
        List<FloatingGroup> groups = new ArrayList<>();
        for (int i = 0; i < all.size(); i++) {
            GatewayConfig.Instance g = all.get(i);
            List<FloatingAddress> addresses = new ArrayList<>(List.of(new FloatingAddress(g.floatingIpAddress().getHostAddress() + "/" + wanPrefix,
                    wanInterface)));
            String net = networkAddresses.get(g.name());
            if (net != null) {
                if (networkInterface == null) {
                    throw new IllegalArgumentException("--network-address needs --network-interface");
                }
                addresses.add(new FloatingAddress(net, networkInterface));
            }
            groups.add(new FloatingGroup(g.name(), routerIds.get(i), g.equals(self) ? FloatingGroup.OWNER_PRIORITY : FloatingGroup.PARTNER_PRIORITY, addresses));
        }
        GatewayConfig.Pair p = c.pair();
        List<String> words = GatewayPair.PACKAGED_GATEWAY_COMMAND_LINE;
        TrackedProcess process = new TrackedProcess(words.getFirst(), words.subList(1, words.size()),
                ParameterMatch.INITIAL);
        HealthCheck check = new HealthCheck(List.of("/usr/lib/isthmus/alive-check", GatewayPair.aliveFile(c, self).toString(),
                Integer.toString(aliveLimit)), 1, 1, 1, 2);
        KeepalivedConfig k = new KeepalivedConfig(self.name(), new KeepalivedConfig.SyncLink(syncInterface,
                p.instance(self.name()).syncAddress().getHostAddress(), p.partnerOf(self.name()).syncAddress().getHostAddress()), groups,
                Duration.ofMillis(advertMillis), Preemption.after(Duration.ofMillis(preemptMillis)), process, check, List.of(),
                GatewayPair.keepalivedFifo(c, self), GatewayPair.handoverFile(c, self));
        return k.render();
    }
}
