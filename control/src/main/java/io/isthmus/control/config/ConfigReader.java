package io.isthmus.control.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.isthmus.control.config.GatewayConfig.CertificateAuthentication;
import io.isthmus.control.config.GatewayConfig.Connection;
import io.isthmus.control.config.GatewayConfig.IkeDefense;
import io.isthmus.control.config.GatewayConfig.ConnectionMode;
import io.isthmus.control.config.GatewayConfig.Instance;
import io.isthmus.control.config.GatewayConfig.IpsecPolicy;
import io.isthmus.control.config.GatewayConfig.LocalNetworkGateway;
import io.isthmus.control.config.GatewayConfig.NatRuleType;
import io.isthmus.control.config.GatewayConfig.Sku;
import io.isthmus.control.config.GatewayConfig.Tunnel;
import io.isthmus.control.config.GatewayConfig.VirtualNetworkGateway;
import io.isthmus.control.config.GatewayConfig.VpnType;
import io.isthmus.esp.IntegrityAlgorithm;
import io.isthmus.ike.ChildProposal;
import io.isthmus.ike.IkeProposal;
import io.isthmus.ike.crypto.KeyExchangeMethod;
import io.isthmus.ike.crypto.PseudorandomFunction;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Reads a gateway configuration (YAML or JSON: YAML is a superset) and checks all of it before
 * anything starts. Every error names the file, the field (as a path such as
 * {@code connections[0].ipsecPolicies[0].dhGroup}) and what is allowed. Unknown fields are
 * errors too: a misspelt key must not silently fall back to a default.
 */
public final class ConfigReader extends ConfigFields {
    /** Proposals when a connection has no custom IPsec/IKE policy: strong ones strongSwan and Azure both speak. */
    /** IKE proposals of a connection without a custom ipsecPolicy, most preferred first. */
    public static final List<IkeProposal> DEFAULT_IKE = AzureAlgorithms.DEFAULT_IKE;
    /** ESP proposals of a connection without a custom ipsecPolicy, most preferred first. */
    public static final List<ChildProposal> DEFAULT_ESP = AzureAlgorithms.DEFAULT_ESP;
    public static final Duration DEFAULT_SA_LIFETIME = Duration.ofSeconds(27_000);
    public static final long DEFAULT_SA_KILOBYTES = 102_400_000L;
    /** Azure's fixed IKE SA lifetime, the default of {@code ikeSaLifeTimeSeconds}. */
    public static final int DEFAULT_IKE_SA_LIFETIME_SECONDS = 28_800;
    /** Azure's fixed DPD delay, the default of {@code dpdDelaySeconds}. */
    public static final int DEFAULT_DPD_DELAY_SECONDS = 15;
    /** ipsecPolicies entries per connection (Azure takes one): enough for any peer's list, few enough to keep IKE_SA_INIT unfragmented. */
    static final int MAX_IPSEC_POLICIES = 8;

    private final Function<String, String> environment;
    /** The configuration file's permissions, when it was read from one that has them. */
    private final FileAccess access;
    /** The fields that hold a shared key in the file itself. */
    private final List<String> inlineKeys = new ArrayList<>();

    /** Set once a field names a systemd credential. */
    private boolean usesCredentials;

    private ConfigReader(Path file, Function<String, String> environment, FileAccess access) {
        super(file);
        this.environment = environment;
        this.access = access;
    }

    public static GatewayConfig read(Path file) {
        return read(file, System::getenv);
    }

    /** With the environment given, for tests of sharedKeyEnv. */
    public static GatewayConfig read(Path file, Function<String, String> environment) {
        // One open file gives both the text and the mode judged below; bounded, and never a FIFO's wait.
        ConfigFile.Contents contents = ConfigFile.read(file);
        return parse(file, contents.text(), environment, contents.access());
    }

    public static GatewayConfig parse(Path file, String text, Function<String, String> environment) {
        return parse(file, text, environment, null);
    }

    private static GatewayConfig parse(Path file, String text, Function<String, String> environment, FileAccess access) {
        JsonNode root;
        try {
            root = new ObjectMapper(new YAMLFactory()).readTree(text);
        } catch (JsonProcessingException e) {
            throw new ConfigException(file, "", "not valid YAML or JSON: " + withoutSnippets(e.getOriginalMessage())
                    + (e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")"));
        }
        if (root == null || !root.isObject()) {
            throw new ConfigException(file, "", "expected a mapping with virtualNetworkGateway, localNetworkGateways and connections");
        }
        return new ConfigReader(file, environment, access).gatewayConfig(root);
    }

    /**
     * SnakeYAML quotes the offending line of the file, indented by four spaces with a caret
     * below; that line may be the shared key's. Line and column say where without it.
     */
    private static String withoutSnippets(String message) {
        return message.lines().filter(line -> !line.startsWith("    "))
                .map(line -> line.replaceFirst("^ in 'reader', (line \\d+, column \\d+):$", " at $1"))
                .collect(java.util.stream.Collectors.joining("\n"));
    }

    // ------------------------------------------------------------------------------------------

    // ------------------------------------------------------------------------------------------

    private GatewayConfig gatewayConfig(JsonNode root) {
        onlyFields(root, "", "virtualNetworkGateway", "localNetworkGateways", "connections", "logging", "pair", "metrics", "control");
        VirtualNetworkGateway gateway = gateway(required(root, "", "virtualNetworkGateway"));
        NatSection nat = NatSection.read(this, root.get("virtualNetworkGateway").get("natRules"), gateway.instances());
        GatewayConfig.Metrics metrics = MetricsSection.read(file, root.get("metrics"));
        List<LocalNetworkGateway> sites = new ArrayList<>();
        List<JsonNode> siteNodes = list(root, "", "localNetworkGateways", 1, Sku.mostTunnels());
        Set<String> names = new HashSet<>();
        for (int i = 0; i < siteNodes.size(); i++) {
            LocalNetworkGateway l = localNetworkGateway(siteNodes.get(i), "localNetworkGateways[" + i + "]");
            if (!names.add(l.name())) {
                throw error("localNetworkGateways[" + i + "].name", "'" + l.name() + "' is used twice");
            }
            sites.add(l);
        }
        List<Connection> connections = new ArrayList<>();
        List<JsonNode> connectionNodes = list(root, "", "connections", 1, Sku.mostTunnels());
        if (connectionNodes.size() > gateway.sku().maxTunnels()) {
            throw error("connections", connectionNodes.size() + " connections, but SKU " + gateway.sku().azureName() + " takes at most "
                    + gateway.sku().maxTunnels() + " site-to-site tunnels");
        }
        Set<String> connectionNames = new HashSet<>();
        GatewayConfig.Pair pair;
        try {
            for (int i = 0; i < connectionNodes.size(); i++) {
                String path = "connections[" + i + "]";
                Connection c = connection(connectionNodes.get(i), path, names, gateway);
                connections.add(c);
                if (!connectionNames.add(c.name())) {
                    throw error(path + ".name", "'" + c.name() + "' is used twice");
                }
            }
            // Indexed by name for the checks, each of which looks every connection's site up.
            sites = NamedList.of(sites, LocalNetworkGateway::name);
            connections = NamedList.of(connections, Connection::name);
            gateway = nat.check(gateway, sites, connections);
            if (gateway.tunnel().packetThreads() > 1 && gateway.natRules().stream().anyMatch(r -> r.type() == NatRuleType.DYNAMIC)) {
                // A Dynamic rule's flow table has one writer: the one packet thread that translates.
                throw error("virtualNetworkGateway.tunnel.packetThreads", gateway.tunnel().packetThreads() + " is not allowed with a Dynamic NAT"
                        + " rule, whose flows one packet thread keeps; 1, or auto (which then means 1)");
            }
            TunnelRoutes.check(file, gateway, sites, connections);
            BgpSection.check(file, gateway, sites, connections);
            VpnClientSection.check(file, gateway, sites, connections);
            pair = PairSection.read(this, root.get("pair"), gateway, bool(root.get("virtualNetworkGateway"), "virtualNetworkGateway", "activeActive", false));
            for (int i = 0; pair != null && i < gateway.natRules().size(); i++) {
                if (gateway.natRules().get(i).ipConfigurationId() != null) {
                    // The survivor of a takeover carries the partner's SAs: a rule pinned to the partner would not travel with them.
                    throw error("virtualNetworkGateway.natRules[" + i + "].ipConfigurationId", "a pair's instances carry each other's"
                            + " tunnels after a takeover, so a NAT rule applies on both; leave out ipConfigurationId");
                }
            }
            for (int i = 0; i < connections.size(); i++) {
                Connection c = connections.get(i);
                LocalNetworkGateway site = sites.get(NamedList.indexOf(sites, c.localNetworkGateway(), LocalNetworkGateway::name));
                if (site.gatewayRange() != null && c.connectionMode() != ConnectionMode.RESPONDER_ONLY) {
                    throw error("connections[" + i + "].connectionMode", "'" + c.connectionMode() + "' is not allowed: the devices of "
                            + site.name() + " come from a range (" + site.peerText() + "), which the gateway cannot initiate to; ResponderOnly");
                }
                if (pair == null && connections.get(i).pairInstance() != null) {
                    throw error("connections[" + i + "].pairInstance", "only a gateway with a pair section has floating addresses to choose from");
                }
            }
        } catch (RuntimeException e) {
            // A file refused after some keys were read (at start, or by a reload while the gateway runs): wiped now, not some day by the GC.
            connections.forEach(Connection::destroySharedKey);
            if (gateway.vpnClientConfiguration() != null) {
                gateway.vpnClientConfiguration().radiusServers().forEach(VpnClientConfiguration.RadiusServer::destroySecret);
            }
            throw e;
        }
        List<String> warnings = new ArrayList<>(NatSection.unused(file, gateway, connections));
        if (gateway.vpnClientConfiguration() != null && gateway.activeActive()) {
            // Said rather than refused: each instance serves the clients that reach it, which is useful; only a takeover is not seamless.
            warnings.add(VpnClientSection.activeActiveNote(file, gateway, pair != null));
        }
        if (access != null && access.readableByOthers() && !inlineKeys.isEmpty()) {
            // A warning, not a refusal: the file is the operator's to place, and sharedKeyFile is the cure.
            // The first few fields: a file of 10,000 connections would make this one warning 250 KB.
            String fields = inlineKeys.size() <= 5 ? String.join(", ", inlineKeys)
                    : String.join(", ", inlineKeys.subList(0, 5)) + " and " + (inlineKeys.size() - 5) + " more";
            warnings.add(file + ": " + fields + ": the file holds " + (inlineKeys.size() == 1 ? "a shared key" : inlineKeys.size()
                    + " shared keys") + " and its mode " + access.mode() + " " + access.othersMay() + "; chmod 600 " + file
                    + ", or move the key" + (inlineKeys.size() == 1 ? "" : "s") + " to sharedKeyFile or sharedKeyEnv");
        }
        return new GatewayConfig(file, gateway, sites, connections, warnings, LoggingSection.read(file, root.get("logging")), usesCredentials, pair,
                metrics, ControlSection.read(file, root.get("control")));
    }

    private VirtualNetworkGateway gateway(JsonNode n) {
        String p = "virtualNetworkGateway";
        onlyFields(n, p, "name", "gatewayType", "vpnType", "sku", "activeActive", "addressSpace", "instances", "tunnel", "natRules", "bgpSettings",
                "vpnClientConfiguration", "ikeDefense");
        String name = string(n, p, "name", null);
        choice(n, p, "gatewayType", "Vpn", Map.of("Vpn", "Vpn"));
        VpnType vpnType = choice(n, p, "vpnType", null, AzureAlgorithms.ordered("RouteBased", VpnType.ROUTE_BASED, "PolicyBased", VpnType.POLICY_BASED));
        Map<String, Sku> skus = new LinkedHashMap<>();
        for (Sku s : Sku.values()) {
            skus.put(s.azureName(), s);
        }
        Sku sku = choice(n, p, "sku", null, skus);
        boolean activeActive = bool(n, p, "activeActive", false);
        List<String> addressSpace = prefixes(n, p, "addressSpace", vpnType == VpnType.POLICY_BASED);
        List<JsonNode> instanceNodes = list(n, p, "instances", 1, 2);
        if (activeActive && instanceNodes.size() != 2) {
            throw error(p + ".instances", "an active-active gateway has two instances");
        }
        List<Instance> instances = new ArrayList<>();
        for (int i = 0; i < instanceNodes.size(); i++) {
            String ip = p + ".instances[" + i + "]";
            JsonNode in = instanceNodes.get(i);
            onlyFields(in, ip, "name", "publicIpAddress", "privateIpAddress", "floatingIpAddress");
            instances.add(new Instance(string(in, ip, "name", name + "-" + i), address(in, ip, "publicIpAddress", true),
                    address(in, ip, "privateIpAddress", false), address(in, ip, "floatingIpAddress", false)));
        }
        JsonNode t = n.get("tunnel");
        Tunnel tunnel;
        if (t == null || t.isNull()) {
            tunnel = new Tunnel("isthmus0", 1400, 1500, 1350, true, 4500, 500, true, Tunnel.AUTO, 0);
        } else {
            String tp = p + ".tunnel";
            onlyFields(t, tp, "device", "mtu", "pathMtu", "tcpMssClamp", "rawEsp", "natTraversalPort", "ikePort", "offloads", "packetThreads",
                    "busyPoll");
            String device = string(t, tp, "device", "isthmus0");
            if (device.length() > 15 || !device.matches("[A-Za-z0-9_.-]+")) {
                throw error(tp + ".device", "'" + device + "' is not allowed; 1 to 15 letters, digits, '-', '_' or '.'");
            }
            tunnel = new Tunnel(device, integer(t, tp, "mtu", 1400, 576, 9000), integer(t, tp, "pathMtu", 1500, 576, 9216),
                    integer(t, tp, "tcpMssClamp", 1350, 536, 8960), bool(t, tp, "rawEsp", true),
                    integer(t, tp, "natTraversalPort", 4500, 1, 65535), integer(t, tp, "ikePort", 500, 1, 65535), bool(t, tp, "offloads", true),
                    packetThreads(t, tp), busyPoll(t, tp));
        }
        // Its natRules are read apart (NatSection), their problems told with the connections' use of them.
        return new VirtualNetworkGateway(name, vpnType, sku, addressSpace, instances, tunnel, List.of(),
                BgpSection.gateway(this, n.get("bgpSettings"), p + ".bgpSettings", instances),
                VpnClientSection.read(this, n.get("vpnClientConfiguration"), p + ".vpnClientConfiguration", sku, vpnType),
                ikeDefense(n.get("ikeDefense"), p + ".ikeDefense"), activeActive);
    }

    private IkeDefense ikeDefense(JsonNode n, String p) {
        if (n == null || n.isNull()) {
            return IkeDefense.DEFAULT;
        }
        onlyFields(n, p, "cookies", "cookieThreshold", "cookieRate", "halfOpenPerPeer", "halfOpenLimit");
        IkeDefense d = IkeDefense.DEFAULT;
        return new IkeDefense(bool(n, p, "cookies", d.cookies()), integer(n, p, "cookieThreshold", d.cookieThreshold(), 0, 1_000_000),
                integer(n, p, "cookieRate", d.cookieRate(), 1, 100_000), integer(n, p, "halfOpenPerPeer", d.halfOpenPerPeer(), 1, 1_000_000),
                integer(n, p, "halfOpenLimit", d.halfOpenLimit(), 1, 1_000_000));
    }

    /** {@code packetThreads}: a number of lanes, or {@code auto} (the default): as many as the cores the gateway may use. */
    private int packetThreads(JsonNode t, String tp) {
        JsonNode n = t.get("packetThreads");
        if (n != null && n.isTextual() && n.asText().equals("auto")) {
            return Tunnel.AUTO;
        }
        if (n != null && !n.isNull() && !n.isIntegralNumber()) {
            throw error(tp + ".packetThreads", "'" + n.asText() + "' is not allowed; auto, or a whole number from 1 to "
                    + io.isthmus.dataplane.Dataplane.Settings.MAX_PACKET_THREADS);
        }
        return integer(t, tp, "packetThreads", Tunnel.AUTO, 1, io.isthmus.dataplane.Dataplane.Settings.MAX_PACKET_THREADS);
    }

    /** {@code busyPoll}: false (the default), true ({@link Tunnel#BUSY_POLL_MICROS} µs), or how many µs packet threads poll before they sleep. */
    private int busyPoll(JsonNode t, String tp) {
        JsonNode n = t.get("busyPoll");
        if (n != null && n.isBoolean()) {
            return n.asBoolean() ? Tunnel.BUSY_POLL_MICROS : 0;
        }
        if (n != null && !n.isNull() && !n.isIntegralNumber()) {
            throw error(tp + ".busyPoll", "'" + n.asText() + "' is not allowed; true, false, or microseconds from 0 to "
                    + io.isthmus.dataplane.Dataplane.Settings.MAX_BUSY_POLL_MICROS);
        }
        return integer(t, tp, "busyPoll", 0, 0, io.isthmus.dataplane.Dataplane.Settings.MAX_BUSY_POLL_MICROS);
    }

    private LocalNetworkGateway localNetworkGateway(JsonNode n, String p) {
        onlyFields(n, p, "name", "gatewayIpAddress", "ikeIdentity", "addressPrefixes", "bgpSettings");
        String identity = n.hasNonNull("ikeIdentity") ? string(n, p, "ikeIdentity", null) : null;
        if (identity != null) {
            try {
                io.isthmus.ike.Identity.parse(identity);
            } catch (IllegalArgumentException e) {
                throw error(p + ".ikeIdentity", e.getMessage());
            }
        }
        AddressPrefix range = null;
        InetAddress device;
        if (n.hasNonNull("gatewayIpAddress") && n.get("gatewayIpAddress").asText().contains("/")) {
            String text = n.get("gatewayIpAddress").asText().strip();
            try {
                range = AddressPrefix.parse(text);
                device = InetAddress.getByAddress(range.firstAddress());
            } catch (IllegalArgumentException | java.net.UnknownHostException e) {
                throw error(p + ".gatewayIpAddress", "'" + text + "' is neither an IPv4 or IPv6 address nor a range of them such as 10.80.0.0/16 ("
                        + e.getMessage() + ")");
            }
            if (range.length() == device.getAddress().length * 8) {
                range = null; // 198.51.100.7/32 is one device
            } else if (n.hasNonNull("bgpSettings")) {
                throw error(p + ".bgpSettings", "not with peers from a range (gatewayIpAddress " + text + "): BGP peers with one device");
            }
        } else {
            device = address(n, p, "gatewayIpAddress", true);
        }
        return new LocalNetworkGateway(string(n, p, "name", null), device, identity, prefixes(n, p, "addressPrefixes", !n.hasNonNull("bgpSettings")),
                BgpSection.site(this, n.get("bgpSettings"), p + ".bgpSettings"), range);
    }

    private Connection connection(JsonNode n, String p, Set<String> sites, VirtualNetworkGateway gateway) {
        onlyFields(n, p, "name", "localNetworkGateway", "connectionType", "connectionProtocol", "sharedKey", "sharedKeyFile", "sharedKeyEnv",
                "sharedKeyCredential", "certificateAuthentication", "connectionMode", "usePolicyBasedTrafficSelectors", "dpdTimeoutSeconds", "dpdDelaySeconds",
                "ikeSaLifeTimeSeconds", "ipsecPolicies", "forceUdpEncapsulation", "pairInstance", "ingressNatRules", "egressNatRules", "enableBgp");
        String name = string(n, p, "name", null);
        String site = string(n, p, "localNetworkGateway", null);
        if (!sites.contains(site)) {
            throw error(p + ".localNetworkGateway", "'" + site + "' is not one of the localNetworkGateways " + sites);
        }
        choice(n, p, "connectionType", "IPsec", Map.of("IPsec", "IPsec"));
        choice(n, p, "connectionProtocol", "IKEv2", Map.of("IKEv2", "IKEv2"));
        List<String> given = new ArrayList<>();
        for (String f : List.of("sharedKey", "sharedKeyFile", "sharedKeyEnv", "sharedKeyCredential", "certificateAuthentication")) {
            if (n.hasNonNull(f)) {
                given.add(f);
            }
        }
        if (given.size() != 1) {
            throw error(p, given.isEmpty() ? "how the peers authenticate is missing: one of sharedKey, sharedKeyFile, sharedKeyEnv, "
                    + "sharedKeyCredential, certificateAuthentication" : "only one of " + given + " may be given");
        }
        byte[] sharedKey = null;
        CertificateAuthentication certificate = null;
        switch (given.getFirst()) {
            case "sharedKey" -> {
                sharedKey = sharedKey(string(n, p, "sharedKey", null), p + ".sharedKey");
                inlineKeys.add(p + ".sharedKey");
            }
            case "sharedKeyFile", "sharedKeyCredential" -> {
                String field = p + "." + given.getFirst();
                Path keyFile = given.getFirst().equals("sharedKeyFile") ? resolve(string(n, p, "sharedKeyFile", null))
                        : credential(string(n, p, "sharedKeyCredential", null), field);
                ownerOnly(keyFile, field);
                // Bytes, not a String: a String cannot be wiped, and this one would hold the key.
                byte[] text;
                try {
                    text = Files.readAllBytes(keyFile);
                } catch (IOException e) {
                    throw error(field, "cannot read " + keyFile + ": " + e.getMessage());
                }
                try {
                    sharedKey = sharedKey(text, field);
                } finally {
                    Arrays.fill(text, (byte) 0);
                }
            }
            case "sharedKeyEnv" -> {
                String variable = string(n, p, "sharedKeyEnv", null);
                String value = environment.apply(variable);
                if (value == null) {
                    throw error(p + ".sharedKeyEnv", "environment variable " + variable + " is not set");
                }
                sharedKey = sharedKey(value.strip(), p + ".sharedKeyEnv");
            }
            default -> certificate = certificateAuthentication(n.get("certificateAuthentication"), p + ".certificateAuthentication");
        }
        try {
            return connection(n, p, name, site, sharedKey, certificate, gateway);
        } catch (RuntimeException e) {
            if (sharedKey != null) {
                Arrays.fill(sharedKey, (byte) 0);
            }
            throw e;
        }
    }

    /** The rest of a connection, once its key is read (and wiped by the caller if this throws). */
    private Connection connection(JsonNode n, String p, String name, String site, byte[] sharedKey, CertificateAuthentication certificate,
                                  VirtualNetworkGateway gateway) {
        ConnectionMode mode = choice(n, p, "connectionMode", "Default", AzureAlgorithms.ordered("Default", ConnectionMode.DEFAULT,
                "InitiatorOnly", ConnectionMode.INITIATOR_ONLY, "ResponderOnly", ConnectionMode.RESPONDER_ONLY));
        boolean policyBased = bool(n, p, "usePolicyBasedTrafficSelectors", gateway.vpnType() == VpnType.POLICY_BASED);
        if (policyBased && gateway.addressSpace().isEmpty()) {
            throw error(p + ".usePolicyBasedTrafficSelectors", "policy-based traffic selectors need virtualNetworkGateway.addressSpace");
        }
        if (gateway.vpnType() == VpnType.POLICY_BASED && !policyBased) {
            throw error(p + ".usePolicyBasedTrafficSelectors", "a PolicyBased gateway only has policy-based connections");
        }
        Duration dpd = Duration.ofSeconds(integer(n, p, "dpdTimeoutSeconds", 45, 9, 3600));
        // Isthmus additions; Azure fixes both (15 s, 28,800 s). Under 300 s the IKE lifetime is for labs and tests of IKE rekeys.
        Duration dpdDelay = Duration.ofSeconds(integer(n, p, "dpdDelaySeconds", DEFAULT_DPD_DELAY_SECONDS, 2, 3600));
        Duration ikeLife = Duration.ofSeconds(integer(n, p, "ikeSaLifeTimeSeconds", DEFAULT_IKE_SA_LIFETIME_SECONDS, 10, 86_400));
        List<JsonNode> policies = list(n, p, "ipsecPolicies", 0, MAX_IPSEC_POLICIES);
        List<IpsecPolicy> ipsec = new ArrayList<>();
        for (int i = 0; i < policies.size(); i++) {
            String pp = p + ".ipsecPolicies[" + i + "]";
            IpsecPolicy policy = ipsecPolicy(policies.get(i), pp);
            if (i > 0) {
                policy = withFirstLifetimes(ipsec.getFirst(), policy, policies.get(i), pp);
            }
            ipsec.add(policy);
        }
        // An Isthmus addition: ESP in UDP 4500 even without a NAT, for paths that drop IP protocol 50.
        boolean forceUdp = bool(n, p, "forceUdpEncapsulation", false);
        String pairInstance = n.hasNonNull("pairInstance") ? string(n, p, "pairInstance", null) : null;
        if (pairInstance != null && gateway.instances().stream().noneMatch(i -> i.name().equals(pairInstance))) {
            throw error(p + ".pairInstance", "'" + pairInstance + "' is not one of virtualNetworkGateway.instances");
        }
        return new Connection(name, site, sharedKey, certificate, mode, policyBased, dpd, dpdDelay, ikeLife, ipsec, forceUdp, pairInstance,
                NatSection.references(this, n, p, "ingressNatRules"), NatSection.references(this, n, p, "egressNatRules"),
                bool(n, p, "enableBgp", false));
    }

    /**
     * A later ipsecPolicies entry with the first entry's lifetimes: the engine keeps one child
     * lifetime per connection, whichever policy a child SA negotiates. An entry may leave them
     * out; one that gives others is refused rather than silently overruled.
     */
    private IpsecPolicy withFirstLifetimes(IpsecPolicy first, IpsecPolicy policy, JsonNode node, String p) {
        String why = ": a connection's child SAs have one lifetime, whichever policy they negotiate; give it in the first entry only";
        if (node.hasNonNull("saLifeTimeSeconds") && !policy.saLifeTime().equals(first.saLifeTime())) {
            throw error(p + ".saLifeTimeSeconds", policy.saLifeTime().toSeconds() + " differs from ipsecPolicies[0]'s "
                    + first.saLifeTime().toSeconds() + why);
        }
        if (node.hasNonNull("saDataSizeKilobytes") && policy.saDataSizeKilobytes() != first.saDataSizeKilobytes()) {
            throw error(p + ".saDataSizeKilobytes", policy.saDataSizeKilobytes() + " differs from ipsecPolicies[0]'s "
                    + first.saDataSizeKilobytes() + why);
        }
        return new IpsecPolicy(policy.ikeProposal(), policy.espProposal(), policy.esn(), first.saLifeTime(), first.saDataSizeKilobytes());
    }

    /**
     * Azure's rule: 1 to 128 printable ASCII characters. The String (from YAML or the
     * environment) cannot be wiped; it is dropped with the parsed tree once reading ends, and the
     * bytes returned are the only copy the gateway keeps.
     */
    private byte[] sharedKey(String key, String field) {
        if (key.isEmpty() || key.length() > 128 || !key.chars().allMatch(c -> c >= 0x20 && c < 0x7F)) {
            throw error(field, "a shared key is 1 to 128 printable ASCII characters");
        }
        return key.getBytes(StandardCharsets.US_ASCII);
    }

    /** As {@link #sharedKey(String, String)} for a key file's bytes, without the white space (a final newline) around the key. */
    private byte[] sharedKey(byte[] text, String field) {
        int from = 0;
        int to = text.length;
        while (from < to && Character.isWhitespace(text[from])) {
            from++;
        }
        while (to > from && Character.isWhitespace(text[to - 1])) {
            to--;
        }
        boolean printable = true;
        for (int i = from; i < to; i++) {
            printable &= text[i] >= 0x20 && text[i] < 0x7F;
        }
        if (from == to || to - from > 128 || !printable) {
            throw error(field, "a shared key is 1 to 128 printable ASCII characters");
        }
        return Arrays.copyOfRange(text, from, to);
    }

    /**
     * A secret given as {@code base}, {@code baseFile}, {@code baseEnv} or {@code baseCredential}
     * (exactly one), as a connection's shared key is: 1 to 128 printable ASCII characters.
     */
    byte[] secret(JsonNode n, String p, String base) {
        List<String> given = java.util.stream.Stream.of("", "File", "Env", "Credential").map(s -> base + s).filter(n::hasNonNull).toList();
        if (given.size() != 1) {
            throw error(p, given.isEmpty() ? "the secret is missing: one of " + base + ", " + base + "File, " + base + "Env, " + base + "Credential"
                    : "only one of " + given + " may be given");
        }
        String name = given.getFirst();
        String field = p + "." + name;
        if (name.equals(base)) {
            inlineKeys.add(field);
            return sharedKey(string(n, p, name, null), field);
        }
        if (name.endsWith("Env")) {
            String value = environment.apply(string(n, p, name, null));
            if (value == null) {
                throw error(field, "environment variable " + string(n, p, name, null) + " is not set");
            }
            return sharedKey(value.strip(), field);
        }
        Path keyFile = name.endsWith("File") ? resolve(string(n, p, name, null)) : credential(string(n, p, name, null), field);
        ownerOnly(keyFile, field);
        byte[] text;
        try {
            text = Files.readAllBytes(keyFile);
        } catch (IOException e) {
            throw error(field, "cannot read " + keyFile + ": " + e.getMessage());
        }
        try {
            return sharedKey(text, field);
        } finally {
            Arrays.fill(text, (byte) 0);
        }
    }

    /** A readable file named by a field, relative to the configuration's folder. */
    Path readableFile(JsonNode n, String p, String field) {
        return existing(resolve(string(n, p, field, null)), p + "." + field);
    }

    /** A private key's file: readable, and by its owner alone. */
    Path keyFile(JsonNode n, String p, String field) {
        Path key = readableFile(n, p, field);
        ownerOnly(key, p + "." + field);
        return key;
    }

    /** The file of a systemd credential ({@link Credential}). */
    private Path credential(String name, String field) {
        usesCredentials = true;
        try {
            return Credential.file(name, environment);
        } catch (IllegalArgumentException e) {
            throw error(field, e.getMessage());
        }
    }

    private Path resolve(String path) {
        Path p = Path.of(path);
        return p.isAbsolute() || file == null || file.getParent() == null ? p : file.getParent().resolve(p);
    }

    private CertificateAuthentication certificateAuthentication(JsonNode n, String p) {
        onlyFields(n, p, "outboundAuthCertificate", "privateKey", "privateKeyCredential", "inboundAuthCertificateChain",
                "inboundAuthCertificateSubjectName");
        Path cert = existing(resolve(string(n, p, "outboundAuthCertificate", null)), p + ".outboundAuthCertificate");
        if (n.hasNonNull("privateKey") == n.hasNonNull("privateKeyCredential")) {
            throw error(p, "one of privateKey and privateKeyCredential, not " + (n.hasNonNull("privateKey") ? "both" : "neither"));
        }
        String keyField = p + (n.hasNonNull("privateKey") ? ".privateKey" : ".privateKeyCredential");
        Path key = n.hasNonNull("privateKey") ? existing(resolve(string(n, p, "privateKey", null)), keyField)
                : credential(string(n, p, "privateKeyCredential", null), keyField);
        ownerOnly(key, keyField);
        List<Path> chain = new ArrayList<>();
        List<JsonNode> cas = list(n, p, "inboundAuthCertificateChain", 1, 16);
        for (int i = 0; i < cas.size(); i++) {
            chain.add(existing(resolve(cas.get(i).asText()), p + ".inboundAuthCertificateChain[" + i + "]"));
        }
        String subject = n.hasNonNull("inboundAuthCertificateSubjectName") ? string(n, p, "inboundAuthCertificateSubjectName", null) : null;
        return new CertificateAuthentication(cert, key, chain, subject);
    }

    /** A key file others may read (or replace) is refused, as ssh refuses such a private key. */
    private void ownerOnly(Path keyFile, String field) {
        FileAccess a;
        try {
            a = FileAccess.of(keyFile);
        } catch (IOException e) {
            throw error(field, "cannot read " + keyFile + ": " + e.getMessage());
        }
        if (a != null && a.openToOthers()) {
            throw error(field, keyFile + " has mode " + a.mode() + ", which " + a.othersMay() + "; a key file must be for its owner alone, as ssh"
                    + " requires of a private key: chmod 600 " + keyFile);
        }
    }

    private Path existing(Path file, String field) {
        if (!Files.isReadable(file)) {
            throw error(field, "cannot read " + file);
        }
        return file;
    }

    /*
     * Azure's custom policy names, mapped to proposals. What Azure still offers but is broken
     * (DES, 3DES, MD5, SHA1, DH groups 1, 2 and 24) is refused by name.
     */
    private IpsecPolicy ipsecPolicy(JsonNode n, String p) {
        onlyFields(n, p, "saLifeTimeSeconds", "saDataSizeKilobytes", "ipsecEncryption", "ipsecIntegrity", "ikeEncryption", "ikeIntegrity",
                "ikePrf", "dhGroup", "pfsGroup", "esn");
        AzureAlgorithms.Cipher ikeEnc = choice(n, p, "ikeEncryption", null, AzureAlgorithms.IKE_ENCRYPTION);
        AzureAlgorithms.IkeIntegrity ikeInt = choice(n, p, "ikeIntegrity", null, AzureAlgorithms.IKE_INTEGRITY);
        KeyExchangeMethod dh = choice(n, p, "dhGroup", null, AzureAlgorithms.DH_GROUP);
        if (ikeInt.aeadOnly() && !ikeEnc.isAead()) {
            throw error(p + ".ikeIntegrity", "GCMAES integrity goes with GCMAES encryption; with " + n.get("ikeEncryption").asText()
                    + " use SHA256, SHA384 or SHA512");
        }
        PseudorandomFunction prf = n.hasNonNull("ikePrf") ? choice(n, p, "ikePrf", null, AzureAlgorithms.IKE_PRF) : null;
        if (prf != null && !ikeInt.aeadOnly() && prf != ikeInt.prf()) {
            // A SHA name is both the HMAC and the PRF: two fields that disagree would leave the reader guessing which one wins.
            throw error(p + ".ikePrf", "'" + n.get("ikePrf").asText() + "' disagrees with ikeIntegrity " + n.get("ikeIntegrity").asText()
                    + ", which names " + ikeInt.prf().keyword() + "; ikePrf chooses the PRF of GCMAES integrity (GCMAES256 means"
                    + " prfsha384, GCMAES128 prfsha256 without it)");
        }
        AzureAlgorithms.Cipher espEnc = choice(n, p, "ipsecEncryption", null, AzureAlgorithms.ESP_ENCRYPTION);
        IntegrityAlgorithm espInt = choice(n, p, "ipsecIntegrity", null, AzureAlgorithms.ESP_INTEGRITY);
        String espIntName = n.get("ipsecIntegrity").asText();
        if (espEnc.isAead() != (espInt == IntegrityAlgorithm.NONE)
                || (espEnc.isAead() && !espIntName.equalsIgnoreCase(n.get("ipsecEncryption").asText()))) {
            throw error(p + ".ipsecIntegrity", "'" + espIntName + "' does not go with ipsecEncryption " + n.get("ipsecEncryption").asText()
                    + ": GCMAES (and CHACHA20POLY1305) encryption takes the same name for integrity; AES-CBC takes SHA256, SHA384 or SHA512");
        }
        KeyExchangeMethod pfs = choice(n, p, "pfsGroup", "None", AzureAlgorithms.PFS_GROUP);
        GatewayConfig.Esn esn = choice(n, p, "esn", "both", AzureAlgorithms.ESN);
        // Azure allows 300 s and up; shorter ones are for labs and tests of rekeying.
        Duration life = Duration.ofSeconds(longValue(n, p, "saLifeTimeSeconds", DEFAULT_SA_LIFETIME.toSeconds(), 10, 172_799));
        long kilobytes = longValue(n, p, "saDataSizeKilobytes", DEFAULT_SA_KILOBYTES, 1024, 2_147_483_647L);
        return new IpsecPolicy(AzureAlgorithms.ike(ikeEnc, ikeInt, prf, dh), AzureAlgorithms.esp(espEnc, espInt, pfs), esn, life, kilobytes);
    }
}
