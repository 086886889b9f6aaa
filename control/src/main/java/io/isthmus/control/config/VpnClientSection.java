package io.isthmus.control.config;

import com.fasterxml.jackson.databind.JsonNode;
import io.isthmus.control.config.GatewayConfig.Connection;
import io.isthmus.control.config.GatewayConfig.Instance;
import io.isthmus.control.config.GatewayConfig.LocalNetworkGateway;
import io.isthmus.control.config.GatewayConfig.Sku;
import io.isthmus.control.config.GatewayConfig.VirtualNetworkGateway;
import io.isthmus.control.config.GatewayConfig.VpnType;
import io.isthmus.control.config.VpnClientConfiguration.AuthenticationType;
import io.isthmus.control.config.VpnClientConfiguration.Protocol;
import io.isthmus.control.config.VpnClientConfiguration.RadiusServer;
import io.isthmus.control.config.VpnClientConfiguration.RevokedCertificate;
import io.isthmus.control.config.VpnClientConfiguration.RootCertificate;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Point-to-site in Azure's words, read and checked ({@link VpnClientConfiguration}):
 *
 * <pre>
 * virtualNetworkGateway:
 *   vpnClientConfiguration:
 *     vpnClientAddressPool: {addressPrefixes: [172.16.201.0/24, fd00:201::/112]}
 *     vpnClientProtocols: [IkeV2]                 # SSTP and OpenVPN are Azure's too; not served here yet
 *     vpnAuthenticationTypes: [Certificate]       # and/or Radius
 *     vpnClientRootCertificates:                  # up to 20, as Azure
 *       - {name: P2SRoot, publicCertData: MIIC5zCCAc+gAwIBAgIQ...}   # Azure's: base64 DER
 *       - {name: LabRoot, publicCertFile: roots/lab.pem}             # Isthmus: a PEM file
 *     vpnClientRevokedCertificates:
 *       - {name: lost-laptop, thumbprint: 5A1B...}  # SHA-1 of the client certificate, 40 hex digits
 *     radiusServers:
 *       - {radiusServerAddress: 10.1.0.10, radiusServerScore: 30, radiusServerSecretFile: radius.secret}
 *     customRoutes: [10.60.0.0/16]                # Isthmus: pushed besides the address space (Azure: the gateway's customRoutes)
 *     dnsServers: [10.1.0.4]
 *     maxClients: 500                             # Isthmus: at most the SKU's count
 *     serverCertificate: gw.pem                   # Isthmus: the gateway's own, as Azure's gateway presents one
 *     serverPrivateKey: gw.key
 * </pre>
 */
final class VpnClientSection {
    /** Azure's limit of uploaded roots. */
    static final int MAX_ROOT_CERTIFICATES = 20;
    /** Isthmus's bound on revoked thumbprints: each is compared per client connection. */
    static final int MAX_REVOKED = 10_000;
    static final int RADIUS_PORT = 1812;
    private static final List<String> OTHER_PROTOCOLS = List.of("SSTP", "OpenVPN");

    private VpnClientSection() {
    }

    /**
     * Azure's point-to-site connection counts per SKU (IKEv2). Basic takes none: Azure's Basic
     * speaks SSTP only, which Isthmus does not serve.
     */
    static int maxClients(Sku sku) {
        return switch (sku) {
            case BASIC -> 0;
            case VPN_GW1, VPN_GW1_AZ -> 250;
            case VPN_GW2, VPN_GW2_AZ -> 500;
            case VPN_GW3, VPN_GW3_AZ -> 1000;
            case VPN_GW4, VPN_GW4_AZ -> 5000;
            case VPN_GW5, VPN_GW5_AZ -> 10_000;
            // Not Azure's: as many as its largest SKU, and maxClients lowers it.
            case ISTHMUS -> 10_000;
        };
    }

    /** The gateway's {@code vpnClientConfiguration}, or null when there is none (no point-to-site). */
    static VpnClientConfiguration read(ConfigReader f, JsonNode n, String p, Sku sku, VpnType vpnType) {
        if (n == null || n.isNull()) {
            return null;
        }
        f.onlyFields(n, p, "vpnClientAddressPool", "vpnClientProtocols", "vpnAuthenticationTypes", "vpnClientRootCertificates",
                "vpnClientRevokedCertificates", "radiusServers", "customRoutes", "dnsServers", "maxClients", "serverCertificate", "serverPrivateKey");
        if (vpnType == VpnType.POLICY_BASED) {
            throw f.error(p, "point-to-site needs a RouteBased gateway (as Azure's): vpnType is PolicyBased");
        }
        int skuMax = maxClients(sku);
        if (skuMax == 0) {
            throw f.error(p, "SKU " + sku.azureName() + " takes no IKEv2 clients (Azure's Basic speaks SSTP only); VpnGw1 and up do");
        }
        JsonNode pool = f.required(n, p, "vpnClientAddressPool");
        f.onlyFields(pool, p + ".vpnClientAddressPool", "addressPrefixes");
        List<String> prefixes = f.prefixes(pool, p + ".vpnClientAddressPool", "addressPrefixes", true);
        Set<Protocol> protocols = EnumSet.noneOf(Protocol.class);
        List<JsonNode> protocolNodes = f.list(n, p, "vpnClientProtocols", 1, 3);
        for (int i = 0; i < protocolNodes.size(); i++) {
            String text = protocolNodes.get(i).asText().strip();
            String field = p + ".vpnClientProtocols[" + i + "]";
            if (text.equalsIgnoreCase(Protocol.IKEV2.azureName())) {
                protocols.add(Protocol.IKEV2);
            } else if (OTHER_PROTOCOLS.stream().anyMatch(text::equalsIgnoreCase)) {
                throw f.error(field, "'" + text + "' is Azure's but not supported by Isthmus; supported: IkeV2");
            } else {
                throw f.error(field, "'" + text + "' is not allowed; supported: IkeV2 (Azure's others, SSTP and OpenVPN, are not served here)");
            }
        }
        Set<AuthenticationType> types = EnumSet.noneOf(AuthenticationType.class);
        List<JsonNode> typeNodes = f.list(n, p, "vpnAuthenticationTypes", 1, 2);
        for (int i = 0; i < typeNodes.size(); i++) {
            String text = typeNodes.get(i).asText().strip();
            AuthenticationType t = null;
            for (AuthenticationType a : AuthenticationType.values()) {
                if (a.azureName().equalsIgnoreCase(text)) {
                    t = a;
                }
            }
            if (t == null) {
                throw f.error(p + ".vpnAuthenticationTypes[" + i + "]", "'" + text + "' is not allowed; one of Certificate, Radius"
                        + (text.equalsIgnoreCase("AAD") ? " (Azure's AAD needs OpenVPN, which is not served here)" : ""));
            }
            types.add(t);
        }
        List<RootCertificate> roots = roots(f, n, p);
        List<RevokedCertificate> revoked = revoked(f, n, p);
        List<String> routes = f.prefixes(n, p, "customRoutes", false);
        List<InetAddress> dns = new ArrayList<>();
        List<JsonNode> dnsNodes = f.list(n, p, "dnsServers", 0, 4);
        for (int i = 0; i < dnsNodes.size(); i++) {
            String text = dnsNodes.get(i).asText().strip();
            try {
                dns.add(InetAddress.ofLiteral(text));
            } catch (IllegalArgumentException e) {
                throw f.error(p + ".dnsServers[" + i + "]", "'" + text + "' is not an IPv4 or IPv6 address (names are not resolved)");
            }
        }
        int max = f.integer(n, p, "maxClients", skuMax, 1, Integer.MAX_VALUE);
        if (max > skuMax) {
            throw f.error(p + ".maxClients", max + " is more than SKU " + sku.azureName() + " takes: at most " + skuMax
                    + " (Azure's point-to-site counts: VpnGw1 250, VpnGw2 500, VpnGw3 1000, VpnGw4 5000, VpnGw5 10000)");
        }
        Path cert = f.readableFile(n, p, "serverCertificate");
        Path key = f.keyFile(n, p, "serverPrivateKey");
        List<RadiusServer> radius = radius(f, n, p);
        try {
            if (types.contains(AuthenticationType.CERTIFICATE) && roots.isEmpty()) {
                throw f.error(p + ".vpnClientRootCertificates", "Certificate authentication needs at least one root certificate");
            }
            if (types.contains(AuthenticationType.RADIUS) && radius.isEmpty()) {
                throw f.error(p + ".radiusServers", "Radius authentication needs at least one RADIUS server");
            }
            if (!types.contains(AuthenticationType.RADIUS) && !radius.isEmpty()) {
                throw f.error(p + ".radiusServers", "given, but vpnAuthenticationTypes does not name Radius: add it or leave the servers out");
            }
            return new VpnClientConfiguration(prefixes, protocols, types, roots, revoked, radius, routes, dns, max, cert, key);
        } catch (RuntimeException e) {
            radius.forEach(RadiusServer::destroySecret);
            throw e;
        }
    }

    private static List<RootCertificate> roots(ConfigReader f, JsonNode n, String p) {
        List<JsonNode> nodes = f.list(n, p, "vpnClientRootCertificates", 0, MAX_ROOT_CERTIFICATES);
        List<RootCertificate> roots = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (int i = 0; i < nodes.size(); i++) {
            String rp = p + ".vpnClientRootCertificates[" + i + "]";
            JsonNode r = nodes.get(i);
            f.onlyFields(r, rp, "name", "publicCertData", "publicCertFile");
            String name = f.string(r, rp, "name", null);
            if (!names.add(name)) {
                throw f.error(rp + ".name", "'" + name + "' is used twice");
            }
            if (r.hasNonNull("publicCertData") == r.hasNonNull("publicCertFile")) {
                throw f.error(rp, "one of publicCertData (base64 DER, as Azure takes it) and publicCertFile (PEM), not "
                        + (r.hasNonNull("publicCertData") ? "both" : "neither"));
            }
            X509Certificate c;
            if (r.hasNonNull("publicCertData")) {
                String data = f.string(r, rp, "publicCertData", null).replaceAll("\\s+", "");
                byte[] der;
                try {
                    der = Base64.getDecoder().decode(data);
                } catch (IllegalArgumentException e) {
                    throw f.error(rp + ".publicCertData", "not base64: the certificate's DER bytes, as Azure takes them (a PEM file without its"
                            + " BEGIN/END lines)");
                }
                c = certificate(f, new ByteArrayInputStream(der), rp + ".publicCertData");
            } else {
                Path file = f.readableFile(r, rp, "publicCertFile");
                try (InputStream in = Files.newInputStream(file)) {
                    c = certificate(f, in, rp + ".publicCertFile");
                } catch (IOException e) {
                    throw f.error(rp + ".publicCertFile", "cannot read " + file + ": " + e.getMessage());
                }
            }
            if (c.getBasicConstraints() < 0 && !c.getSubjectX500Principal().equals(c.getIssuerX500Principal())) {
                throw f.error(rp, c.getSubjectX500Principal().getName() + " is neither a CA (basicConstraints) nor self-signed: a root"
                        + " certificate signs the clients' certificates");
            }
            roots.add(new RootCertificate(name, c));
        }
        return roots;
    }

    private static X509Certificate certificate(ConfigReader f, InputStream in, String field) {
        try {
            return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        } catch (CertificateException | RuntimeException e) {
            throw f.error(field, "not an X.509 certificate: " + e.getMessage());
        }
    }

    private static List<RevokedCertificate> revoked(ConfigReader f, JsonNode n, String p) {
        List<JsonNode> nodes = f.list(n, p, "vpnClientRevokedCertificates", 0, MAX_REVOKED);
        List<RevokedCertificate> out = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < nodes.size(); i++) {
            String rp = p + ".vpnClientRevokedCertificates[" + i + "]";
            JsonNode r = nodes.get(i);
            f.onlyFields(r, rp, "name", "thumbprint");
            String name = f.string(r, rp, "name", null);
            // Windows' certificate dialog shows the thumbprint in pairs with spaces (and once with an invisible mark before it).
            String thumbprint = f.string(r, rp, "thumbprint", null).replaceAll("[\\s:\\u200e]", "").toUpperCase(Locale.ROOT);
            if (!thumbprint.matches("[0-9A-F]{40}")) {
                throw f.error(rp + ".thumbprint", "'" + f.string(r, rp, "thumbprint", null) + "' is not a thumbprint: the SHA-1 of the"
                        + " client certificate, 40 hexadecimal digits");
            }
            if (!seen.add(thumbprint)) {
                throw f.error(rp + ".thumbprint", thumbprint + " is revoked twice");
            }
            out.add(new RevokedCertificate(name, thumbprint));
        }
        return out;
    }

    private static List<RadiusServer> radius(ConfigReader f, JsonNode n, String p) {
        List<JsonNode> nodes = f.list(n, p, "radiusServers", 0, 3);
        List<RadiusServer> out = new ArrayList<>();
        try {
            for (int i = 0; i < nodes.size(); i++) {
                String rp = p + ".radiusServers[" + i + "]";
                JsonNode r = nodes.get(i);
                f.onlyFields(r, rp, "radiusServerAddress", "radiusServerPort", "radiusServerScore", "radiusServerSecret", "radiusServerSecretFile",
                        "radiusServerSecretEnv", "radiusServerSecretCredential");
                InetAddress address = f.address(r, rp, "radiusServerAddress", true);
                int port = f.integer(r, rp, "radiusServerPort", RADIUS_PORT, 1, 65535);
                int score = f.integer(r, rp, "radiusServerScore", 1, 1, 30);
                for (RadiusServer o : out) {
                    if (o.address().equals(address) && o.port() == port) {
                        throw f.error(rp + ".radiusServerAddress", address.getHostAddress() + ":" + port + " is given twice");
                    }
                }
                out.add(new RadiusServer(address, port, f.secret(r, rp, "radiusServerSecret"), score));
            }
        } catch (RuntimeException e) {
            out.forEach(RadiusServer::destroySecret);
            throw e;
        }
        // Stable: servers of one score keep the file's order.
        out.sort(Comparator.comparingInt(RadiusServer::score).reversed());
        return out;
    }

    /**
     * What an active-active gateway's instances do with the pool: each leases from its half of
     * every prefix (instance 0 the lower, 1 the upper), as Azure splits it, so the two never give
     * one address twice and the network behind can route each half to its instance.
     */
    static String activeActiveNote(Path file, VirtualNetworkGateway gateway, boolean pair) {
        List<String> halves = new ArrayList<>();
        for (int i = 0; i < gateway.instances().size(); i++) {
            int half = i;
            halves.add(gateway.instances().get(i).name() + " " + String.join(", ", gateway.vpnClientConfiguration().addressPrefixes().stream()
                    .map(a -> AddressPrefix.parse(a).half(half).toString()).toList()));
        }
        return file + ": virtualNetworkGateway.vpnClientConfiguration: each instance of the active-active gateway serves its own point-to-site"
                + " clients from its half of the pool (as Azure splits it), so no address is given twice: " + String.join("; ", halves)
                + (pair ? "; their SAs are not synced, so a takeover drops them and they reconnect" : "");
    }

    /**
     * Every problem of the pool against the rest of the file, listed at once: a client's address
     * that is also on this side or behind a site would be routed two ways.
     */
    static void check(Path file, VirtualNetworkGateway gateway, List<LocalNetworkGateway> sites, List<Connection> connections) {
        VpnClientConfiguration v = gateway.vpnClientConfiguration();
        if (v == null) {
            return;
        }
        String p = "virtualNetworkGateway.vpnClientConfiguration";
        List<ConfigException> problems = new ArrayList<>();
        List<AddressPrefix> pool = new ArrayList<>();
        List<TunnelRoutes.SiteRoute> siteRoutes = TranslatedPrefixes.of(gateway, sites, connections).routes();
        for (int i = 0; i < v.addressPrefixes().size(); i++) {
            AddressPrefix a = AddressPrefix.parse(v.addressPrefixes().get(i));
            String field = p + ".vpnClientAddressPool.addressPrefixes[" + i + "]";
            int hostBits = (a.isIpv4() ? 32 : 128) - a.length();
            if (hostBits < 2) {
                problems.add(new ConfigException(file, field, a + " is too small: a pool needs room for clients (IPv4 /30 or shorter, IPv6 /126)"));
            } else if (hostBits < 3 && gateway.activeActive()) {
                // Each instance leases from its half, itself a prefix with room for clients.
                problems.add(new ConfigException(file, field, a + " is too small to split between the active-active gateway's two instances,"
                        + " each of which leases from its half: IPv4 /29 or shorter, IPv6 /125 or shorter"));
            }
            if (a.isDefault()) {
                problems.add(new ConfigException(file, field, a + " is every address: the pool must be a range of its own"));
            }
            for (int k = 0; k < pool.size(); k++) {
                if (pool.get(k).overlaps(a)) {
                    problems.add(new ConfigException(file, field, a + " overlaps addressPrefixes[" + k + "] " + pool.get(k)));
                }
            }
            pool.add(a);
            for (int k = 0; k < gateway.addressSpace().size(); k++) {
                AddressPrefix s = AddressPrefix.parse(gateway.addressSpace().get(k));
                if (s.overlaps(a)) {
                    problems.add(new ConfigException(file, field, a + " overlaps the gateway's addressSpace " + s + " (virtualNetworkGateway"
                            + ".addressSpace[" + k + "]): clients' addresses must not be on this side already (as Azure requires)"));
                }
            }
            for (TunnelRoutes.SiteRoute r : siteRoutes) {
                if (r.prefix().overlaps(a)) {
                    problems.add(new ConfigException(file, field, a + " overlaps " + r.site() + "'s " + r.prefix() + " (" + r.field()
                            + "): a client's address would also be routed into the site's tunnel"));
                }
            }
            for (Instance in : gateway.instances()) {
                for (InetAddress own : new InetAddress[] {in.publicIpAddress(), in.privateIpAddress(), in.floatingIpAddress()}) {
                    if (own != null && a.contains(own)) {
                        problems.add(new ConfigException(file, field, a + " holds instance " + in.name() + "'s own address " + own.getHostAddress()));
                    }
                }
            }
        }
        for (int i = 0; i < v.customRoutes().size(); i++) {
            AddressPrefix r = AddressPrefix.parse(v.customRoutes().get(i));
            for (AddressPrefix a : pool) {
                if (r.overlaps(a)) {
                    problems.add(new ConfigException(file, p + ".customRoutes[" + i + "]", r + " overlaps the client pool " + a
                            + ": clients would route their own addresses into the tunnel"));
                }
            }
        }
        for (RadiusServer r : v.radiusServers()) {
            for (AddressPrefix a : pool) {
                if (a.contains(r.address())) {
                    problems.add(new ConfigException(file, p + ".radiusServers", r.address().getHostAddress() + " is inside the client pool " + a));
                }
            }
        }
        ConfigException.throwIfAny(problems);
    }
}
