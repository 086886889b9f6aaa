package io.isthmus.lab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.isthmus.lab.Lab.Side;
import io.isthmus.lab.LabTraffic.Transfer;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Point-to-site with certificates (issue 16): Isthmus on gw-a serves road-warrior clients from its
 * vpnClientConfiguration (pool 172.16.201.0/24, address space 192.168.10.0/24 with host-a); strongSwan
 * 5.9.8 clients ({@code vips = 0.0.0.0}, certificates from {@code pki}) connect from gw-b (alice,
 * and mallory, whose certificate is revoked by thumbprint) and gw-c (carol; then dave and erin with
 * EAP-MSCHAPv2, which the gateway relays to FreeRADIUS on host-a). One lab for all rows: alice gets
 * an IPv4 and an IPv6 address (vips = 0.0.0.0,::), pings host-a over both and is pinged back, and 1 MiB of TCP crosses each way
 * checked by hash, which her status entry counts; carol gets another; alice reconnects and gets hers
 * again; mallory is refused and takes no address; dave gets the address his RADIUS entry names
 * (Framed-IP-Address), pings and carries TCP both ways as alice; erin's wrong password is refused (Access-Reject, charon told
 * AUTHENTICATION_FAILED, the pools as they were); the
 * operator disconnects dave with {@code isthmus p2s disconnect}; frank connects with EAP-TLS (his
 * certificate inside EAP, FreeRADIUS terminating TLS, the gateway relaying) and pings both ways;
 * grace's certificate from a CA FreeRADIUS does not know is refused; with the first RADIUS server
 * stopped, dave connects through the second (failover); with both stopped, dave is refused once
 * the RADIUS tries are over, and the pool is as it was.
 */
class RemoteAccessLabTest extends LabTestBase {
    static final String CA_DN = "C=CH, O=HX Interop, CN=HX P2S Root";
    static final String GW_DN = "C=CH, O=HX Interop, CN=gw.hx";
    private static final Pattern VIP = Pattern.compile("\\[(172\\.16\\.201\\.\\d+)[ \\]]");

    @Test
    void roadWarriorsWithCertificatesOrEapGetAddressesAndReachTheSite() throws Exception {
        lab = Lab.up(Path.of("/tmp/isthmus-lab-p2s"), false);
        lab.addSiteC();
        Path pki = Files.createDirectories(lab.work().resolve("pki"));
        certificates(pki);
        eapTlsCertificates(pki);
        startFreeRadius(pki);
        Path a = LabGateways.startIsthmus(lab, Side.A, isthmusConfig(pki, thumbprint(pki.resolve("mallory.crt"))));
        Path swanB = lab.work().resolve("sw-b");
        Path swanC = lab.work().resolve("sw-c");
        client(pki, swanB, "alice", "mallory");
        client(pki, swanC, "carol", "frank", "grace");
        LabGateways.startStrongSwan(lab, Lab.GW_B, swanB, strongSwanConfig("alice", "mallory"));
        // eap-mschapv2 comes with libcharon-extauth-plugins (deploy/lib/packages.sh).
        List<String> plugins = new java.util.ArrayList<>(LabGateways.STRONGSWAN_PLUGINS);
        plugins.add("eap-mschapv2");
        plugins.add("eap-tls"); // libcharon-extra-plugins
        LabGateways.startStrongSwan(lab, Lab.GW_C, swanC, strongSwanConfig("carol") + eapClients(), "", plugins);
        awaitListening(a);

        String alice = connect(swanB, "alice");
        assertTrue(alice.startsWith("172.16.201."), alice);
        // Charon's route to the site leaves from the virtual address; host-a answers it through the client's host route.
        lab.in(Lab.GW_B, "ping", "-c", "3", "-W", "2", Lab.HOST_A_IP);
        lab.in(Lab.HOST_A, "ping", "-c", "3", "-W", "2", alice);
        // Her IPv6 address too (vips = 0.0.0.0,::): a /128 of the pool's IPv6 prefix, both ways.
        String alice6 = address6(swanB, "alice");
        assertTrue(alice6.startsWith("fd00:201::"), alice6);
        lab.in(Lab.GW_B, "ping", "-6", "-c", "2", "-W", "2", Lab.HOST_A_IP6);
        lab.in(Lab.HOST_A, "ping", "-6", "-c", "2", "-W", "2", alice6);
        // TCP checked by hash both ways, and status counts her bytes.
        tcpBothWays(a, Lab.GW_B, alice);

        String carol = connect(swanC, "carol");
        assertNotEquals(alice, carol, "two clients, two addresses");
        lab.in(Lab.GW_C, "ping", "-c", "2", "-W", "2", Lab.HOST_A_IP);
        lab.in(Lab.HOST_A, "ping", "-c", "2", "-W", "2", carol);

        LabGateways.swanctl(swanB, "--terminate", "--ike", "alice", "--timeout", "20");
        assertEquals(alice, connect(swanB, "alice"), "a reconnect keeps the address");
        lab.in(Lab.HOST_A, "ping", "-c", "2", "-W", "2", alice);

        JsonNode p2s = status(a).path("pointToSite");
        assertEquals(2, p2s.path("connectedClients").asInt(), p2s.toPrettyString());
        assertEquals(2, p2s.path("ipv4Pool").path("heldAddresses").asInt(), p2s.toPrettyString());
        assertTrue(p2s.path("clients").toString().contains(alice) && p2s.path("clients").toString().contains(carol), p2s.toPrettyString());
        IOException refused = assertThrows(IOException.class, () -> connect(swanB, "mallory"));
        String log = Files.readString(lab.work().resolve("gw-a.log"));
        assertTrue(log.contains("CN=mallory\" is revoked"), "the gateway's reason; logs in " + lab.work() + "; " + refused.getMessage());
        assertFalse(log.contains("client C=CH,O=HX Interop,CN=mallory gets"), "mallory took an address");
        assertTrue(Files.readString(swanB.resolve("charon.log")).contains("AUTHENTICATION_FAILED"), "charon heard AUTHENTICATION_FAILED");
        assertEquals(p2s.path("ipv4Pool"), status(a).path("pointToSite").path("ipv4Pool"), "the pool as it was");
        // The pool as it was: the others keep theirs and are still reached.
        lab.in(Lab.HOST_A, "ping", "-c", "1", "-W", "2", carol);
        lab.in(Lab.HOST_A, "ping", "-c", "1", "-W", "2", alice);

        // EAP-MSCHAPv2 through FreeRADIUS on host-a (behind the gateway): dave's server gives him 172.16.201.200 (Framed-IP-Address,
        // honoured over the pool); erin's client has a wrong password. From gw-c, once carol has gone (one client a namespace).
        LabGateways.swanctl(swanC, "--terminate", "--ike", "carol", "--timeout", "20");
        String dave = connect(swanC, "dave");
        assertEquals(DAVE_FRAMED, dave, "the RADIUS server's address for dave");
        lab.in(Lab.GW_C, "ping", "-c", "2", "-W", "2", "-I", dave, Lab.HOST_A_IP);
        lab.in(Lab.HOST_A, "ping", "-c", "2", "-W", "2", dave);
        tcpBothWays(a, Lab.GW_C, dave);
        JsonNode pools = pools(a);
        int notified = authenticationFailed(swanC);
        IOException wrong = assertThrows(IOException.class, () -> connect(swanC, "erin"));
        log = Files.readString(lab.work().resolve("gw-a.log"));
        assertTrue(log.contains("AUTHENTICATION_FAILED for erin: EAP failed"), "the gateway's reason; logs in " + lab.work() + "; " + wrong.getMessage());
        assertFalse(log.contains("client erin gets"), "erin took an address");
        assertTrue(authenticationFailed(swanC) > notified, "charon heard AUTHENTICATION_FAILED for erin; logs in " + lab.work());
        assertEquals(pools, pools(a), "the pools as they were");
        lab.in(Lab.HOST_A, "ping", "-c", "1", "-W", "2", dave);

        // The operator disconnects dave by his address; a client nobody has is refused (exit 2).
        Cli disconnected = isthmus("p2s", "disconnect", dave, "--control-socket", a.toString());
        assertEquals(0, disconnected.exit(), disconnected.err());
        assertTrue(disconnected.out().contains("client dave"), disconnected.out());
        assertEquals(2, isthmus("p2s", "disconnect", "nobody", "--control-socket", a.toString()).exit());
        long end = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (LabGateways.swanctl(swanC, "--list-sas", "--ike", "dave").contains("ESTABLISHED")) {
            assertTrue(System.nanoTime() < end, "dave's charon still has its IKE SA");
            Thread.sleep(200);
        }
        assertFalse(status(a).path("pointToSite").path("clients").toString().contains(dave), status(a).path("pointToSite").toPrettyString());

        // EAP-TLS: frank proves himself with his certificate inside EAP; FreeRADIUS terminates TLS (its server certificate,
        // checked by charon against aaa_id), the gateway relays some 1 KB EAP messages in several EAP-Message attributes.
        String frank = connect(swanC, "frank");
        assertTrue(frank.startsWith("172.16.201."), frank);
        lab.in(Lab.GW_C, "ping", "-c", "1", "-W", "2", "-I", frank, Lab.HOST_A_IP);
        lab.in(Lab.HOST_A, "ping", "-c", "1", "-W", "2", frank);
        tcpBothWays(a, Lab.GW_C, frank);
        assertTrue(Files.readString(lab.work().resolve("radius/log")).contains("eap_tls"), "FreeRADIUS ran EAP-TLS");
        LabGateways.swanctl(swanC, "--terminate", "--ike", "frank", "--timeout", "20");
        // grace's certificate comes from a CA FreeRADIUS does not trust: refused, no address.
        JsonNode before = status(a).path("pointToSite").path("ipv4Pool");
        notified = authenticationFailed(swanC);
        IOException untrusted = assertThrows(IOException.class, () -> connect(swanC, "grace"));
        assertTrue(authenticationFailed(swanC) > notified, "charon heard AUTHENTICATION_FAILED for grace; logs in " + lab.work());
        log = Files.readString(lab.work().resolve("gw-a.log"));
        assertTrue(log.contains("AUTHENTICATION_FAILED for grace@hx: EAP failed"), "the gateway's reason; logs in " + lab.work() + "; " + untrusted.getMessage());
        assertFalse(log.contains("client grace@hx gets"), "grace took an address");
        assertEquals(before, status(a).path("pointToSite").path("ipv4Pool"));

        // RADIUS failover: the first server (score 30) is gone, no server on its port; dave still connects through the
        // second (score 20) once the first's tries are over (3 x 2 s, within charon's retransmissions).
        radius.destroy();
        assertTrue(radius.waitFor(10, java.util.concurrent.TimeUnit.SECONDS), "FreeRADIUS did not stop");
        String again = connect(swanC, "dave");
        assertEquals(DAVE_FRAMED, again, "the second server's answer for dave");
        assertTrue(Files.readString(lab.work().resolve("gw-a.log")).contains("RADIUS server /" + Lab.HOST_A_IP + ":1812 did not answer 3 tries"),
                "the first server was tried; logs in " + lab.work());
        assertTrue(Files.readString(lab.work().resolve("radius2/log")).contains("dave"), "the second server answered dave");
        lab.in(Lab.HOST_A, "ping", "-c", "1", "-W", "2", again);
        LabGateways.swanctl(swanC, "--terminate", "--ike", "dave", "--timeout", "20");

        // No RADIUS server answers (both stopped): after the client's tries, AUTHENTICATION_FAILED; the pool as it was.
        radius2.destroy();
        assertTrue(radius2.waitFor(10, java.util.concurrent.TimeUnit.SECONDS), "the second FreeRADIUS did not stop");
        JsonNode pool = pools(a);
        notified = authenticationFailed(swanC);
        IOException unanswered = assertThrows(IOException.class, () -> connect(swanC, "dave"));
        assertTrue(Files.readString(lab.work().resolve("gw-a.log")).contains("AUTHENTICATION_FAILED for dave: no RADIUS server answered"),
                "the gateway's reason; logs in " + lab.work() + "; " + unanswered.getMessage());
        assertTrue(authenticationFailed(swanC) > notified, "charon heard AUTHENTICATION_FAILED for dave; logs in " + lab.work());
        assertEquals(pool, pools(a), "the pools as they were");
    }

    /**
     * 1 MiB over TCP from the client's virtual address to host-a and 1 MiB back, each checked by
     * SHA-256; then the client's entry in status has counted at least that much each way.
     */
    void tcpBothWays(Path socket, String clientNs, String address) throws Exception {
        Transfer up = LabTraffic.tcp(lab, clientNs, Lab.HOST_A, Lab.HOST_A_IP, 1 << 20);
        assertTrue(up.intact(), "TCP " + address + " -> host-a: " + up + "; logs in " + lab.work());
        Transfer down = LabTraffic.tcp(lab, Lab.HOST_A, clientNs, address, 1 << 20);
        assertTrue(down.intact(), "TCP host-a -> " + address + ": " + down + "; logs in " + lab.work());
        JsonNode p2s = status(socket).path("pointToSite");
        JsonNode client = null;
        for (JsonNode c : p2s.path("clients")) {
            if (c.path("addresses").toString().contains("\"" + address + "\"")) {
                client = c;
            }
        }
        assertTrue(client != null, address + " not among the clients: " + p2s.toPrettyString());
        // inBytes: from the client into the gateway; outBytes: to it. A mebibyte of payload each way at least.
        assertTrue(client.path("inBytes").asLong() >= 1 << 20 && client.path("outBytes").asLong() >= 1 << 20, client.toPrettyString());
    }

    /** Each pool's use as status tells it (live clients, addresses held, capacity), IPv4 and IPv6. */
    static JsonNode pools(Path socket) throws Exception {
        JsonNode p2s = status(socket).path("pointToSite");
        com.fasterxml.jackson.databind.node.ObjectNode both = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode();
        both.set("ipv4Pool", p2s.path("ipv4Pool"));
        both.set("ipv6Pool", p2s.path("ipv6Pool"));
        assertTrue(both.path("ipv4Pool").has("heldAddresses") && both.path("ipv6Pool").has("heldAddresses"), p2s.toPrettyString());
        return both;
    }

    /** How often the client's charon has heard AUTHENTICATION_FAILED so far (its log grows across the test). */
    static int authenticationFailed(Path swan) throws IOException {
        return (int) Files.readAllLines(swan.resolve("charon.log")).stream().filter(l -> l.contains("AUTHENTICATION_FAILED")).count();
    }

    /** The FreeRADIUS processes (the first on 1812 with score 30, the second on 1813 with 20), stopped by the test for failover and the unreachable row. */
    Process radius;
    Process radius2;

    static final String DAVE_FRAMED = "172.16.201.200";
    static final String RADIUS_SECRET = "lab-radius-secret";

    /**
     * Two FreeRADIUS in host-a, each with its own directory: EAP-MSCHAPv2 for dave and erin, EAP-TLS for clients with
     * a certificate of the lab's CA; the first on the standard port, the second on 1813 for the failover row.
     */
    void startFreeRadius(Path pki) throws Exception {
        Path one = freeRadiusFiles(pki, "radius", 1812);
        Path two = freeRadiusFiles(pki, "radius2", 1813);
        radius = lab.spawn(Lab.HOST_A, one.resolve("log"), List.of("/usr/sbin/freeradius", "-X", "-d", one.toString()));
        radius2 = lab.spawn(Lab.HOST_A, two.resolve("log"), List.of("/usr/sbin/freeradius", "-X", "-d", two.toString()));
        long end = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        for (Path dir : List.of(one, two)) {
            while (!Files.readString(dir.resolve("log")).contains("Ready to process requests")) {
                assertTrue(System.nanoTime() < end, "FreeRADIUS did not start: " + Files.readString(dir.resolve("log")));
                Thread.sleep(100);
            }
        }
    }

    private Path freeRadiusFiles(Path pki, String name, int port) throws IOException {
        Path dir = Files.createDirectories(lab.work().resolve(name));
        Files.writeString(dir.resolve("users"), """
                dave Cleartext-Password := "dave's password"
                \tFramed-IP-Address = %s
                erin Cleartext-Password := "erin's password"
                """.formatted(DAVE_FRAMED));
        Files.writeString(dir.resolve("radiusd.conf"), freeRadiusConfig(dir, pki, port));
        return dir;
    }

    static String freeRadiusConfig(Path d, Path pki, int port) {
        return """
                prefix = /usr
                exec_prefix = /usr
                sysconfdir = /etc
                localstatedir = /var
                sbindir = /usr/sbin
                raddbdir = %1$s
                confdir = %1$s
                modconfdir = %1$s
                logdir = %1$s
                run_dir = %1$s
                db_dir = %1$s
                radacctdir = %1$s
                libdir = /usr/lib/freeradius
                pidfile = %1$s/radiusd.pid
                name = freeradius
                max_request_time = 30
                cleanup_delay = 5
                max_requests = 1024
                hostname_lookups = no
                log {
                  destination = stdout
                }
                security {
                  allow_core_dumps = no
                  max_attributes = 200
                  reject_delay = 0
                  status_server = no
                }
                thread pool {
                  start_servers = 1
                  max_servers = 2
                  min_spare_servers = 1
                  max_spare_servers = 2
                }
                client gateway {
                  ipaddr = 10.77.0.1
                  secret = %2$s
                  require_message_authenticator = yes
                }
                modules {
                  eap {
                    default_eap_type = mschapv2
                    timer_expire = 60
                    max_sessions = 100
                    mschapv2 {
                    }
                    # EAP-TLS: the client's certificate must chain to the lab's CA; TLS 1.2, as strongSwan 5.9's libtls.
                    tls-config tls-common {
                      private_key_file = %4$s/radius.key
                      certificate_file = %4$s/radius.crt
                      ca_file = %4$s/ca.crt
                      cipher_list = "DEFAULT"
                      tls_min_version = "1.2"
                      tls_max_version = "1.2"
                      ecdh_curve = "prime256v1"
                    }
                    tls {
                      tls = tls-common
                    }
                  }
                  mschap {
                  }
                  files {
                    filename = %1$s/users
                  }
                }
                server default {
                  listen {
                    type = auth
                    ipaddr = %3$s
                    port = %5$s
                  }
                  authorize {
                    files
                    eap {
                      ok = return
                    }
                  }
                  authenticate {
                    eap
                    Auth-Type MS-CHAP {
                      mschap
                    }
                  }
                  post-auth {
                    Post-Auth-Type REJECT {
                      eap
                    }
                  }
                }
                """.formatted(d, RADIUS_SECRET, Lab.HOST_A_IP, pki, port);
    }

    /** Until the gateway answers status: its IKE socket is bound by then. */
    static void awaitListening(Path socket) throws InterruptedException {
        long end = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        while (System.nanoTime() < end) {
            try {
                status(socket);
                return;
            } catch (IOException e) {
                Thread.sleep(200);
            }
        }
        throw new AssertionError("the gateway did not start in 90 s");
    }

    /** Initiates {@code name}'s connection and returns the virtual address it was given. */
    static String connect(Path swan, String name) throws IOException, InterruptedException {
        LabGateways.swanctl(swan, "--initiate", "--child", name, "--timeout", "60");
        String sas = LabGateways.swanctl(swan, "--list-sas", "--ike", name);
        Matcher m = VIP.matcher(sas);
        assertTrue(m.find(), "no virtual address in " + sas);
        return m.group(1);
    }

    private static final Pattern VIP6 = Pattern.compile("[ \\[](fd00:201::[0-9a-f]+)]");

    /** The IPv6 virtual address {@code name}'s IKE SA was given. */
    static String address6(Path swan, String name) throws IOException, InterruptedException {
        String sas = LabGateways.swanctl(swan, "--list-sas", "--ike", name);
        Matcher m = VIP6.matcher(sas);
        assertTrue(m.find(), "no IPv6 virtual address in " + sas);
        return m.group(1);
    }

    /** The CA, the gateway's certificate and the clients', by pki, ECDSA P-256, PEM. */
    static void certificates(Path dir) throws IOException, InterruptedException {
        pki(dir, "ca.key", "pki --gen --type ecdsa --size 256 --outform pem");
        pki(dir, "ca.crt", "pki --self --ca --lifetime 30 --in ca.key --dn '" + CA_DN + "' --outform pem");
        for (String[] c : new String[][] {{"gw", GW_DN, "gw.hx"}, {"alice", dn("alice"), "alice@hx"}, {"carol", dn("carol"), "carol@hx"},
                {"mallory", dn("mallory"), "mallory@hx"}}) {
            pki(dir, c[0] + ".key", "pki --gen --type ecdsa --size 256 --outform pem");
            pki(dir, c[0] + ".crt", "pki --pub --in " + c[0] + ".key | pki --issue --lifetime 30 --cacert ca.crt --cakey ca.key --dn '"
                    + c[1] + "' --san " + c[2] + " --outform pem");
        }
        Files.setPosixFilePermissions(dir.resolve("gw.key"), PosixFilePermissions.fromString("rw-------"));
    }

    static final String RADIUS_DN = "C=CH, O=HX Interop, CN=radius.hx";

    /**
     * EAP-TLS: FreeRADIUS's server certificate and frank's client certificate from the lab's CA; grace's from a CA of
     * her own that FreeRADIUS does not know. ECDSA P-256 as the others.
     */
    static void eapTlsCertificates(Path dir) throws IOException, InterruptedException {
        pki(dir, "rogue.key", "pki --gen --type ecdsa --size 256 --outform pem");
        pki(dir, "rogue.crt", "pki --self --ca --lifetime 30 --in rogue.key --dn 'C=CH, O=Rogue, CN=Rogue Root' --outform pem");
        for (String[] c : new String[][] {{"radius", RADIUS_DN, "radius.hx", "serverAuth", "ca"}, {"frank", dn("frank"), "frank@hx", "clientAuth", "ca"},
                {"grace", dn("grace"), "grace@hx", "clientAuth", "rogue"}}) {
            pki(dir, c[0] + ".key", "pki --gen --type ecdsa --size 256 --outform pem");
            pki(dir, c[0] + ".crt", "pki --pub --in " + c[0] + ".key | pki --issue --lifetime 30 --cacert " + c[4] + ".crt --cakey " + c[4]
                    + ".key --dn '" + c[1] + "' --san " + c[2] + " --flag " + c[3] + " --outform pem");
        }
    }

    static String dn(String name) {
        return "C=CH, O=HX Interop, CN=" + name;
    }

    private static void pki(Path dir, String out, String command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("sh", "-c", command).directory(dir.toFile()).redirectOutput(dir.resolve(out).toFile())
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        assertEquals(0, p.waitFor(), command);
        assertTrue(Files.size(dir.resolve(out)) > 0, command);
    }

    /** Azure's thumbprint: SHA-1 of the certificate's DER. */
    static String thumbprint(Path pem) throws Exception {
        try (InputStream in = Files.newInputStream(pem)) {
            X509Certificate c = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
            return HexFormat.of().withUpperCase().formatHex(MessageDigest.getInstance("SHA-1").digest(c.getEncoded()));
        }
    }

    /** Where swanctl looks beside its swanctl.conf: x509, x509ca, ecdsa. */
    static void client(Path pki, Path dir, String... names) throws IOException {
        Files.copy(pki.resolve("ca.crt"), Files.createDirectories(dir.resolve("x509ca")).resolve("ca.crt"),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        for (String n : names) {
            Files.copy(pki.resolve(n + ".crt"), Files.createDirectories(dir.resolve("x509")).resolve(n + ".crt"),
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            Files.copy(pki.resolve(n + ".key"), Files.createDirectories(dir.resolve("ecdsa")).resolve(n + ".key"),
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** A site connection is required by the file; this one's peer never comes (responder only, an address nobody has). */
    static String isthmusConfig(Path pki, String revoked) {
        return """
                virtualNetworkGateway:
                  name: lab-p2s
                  vpnType: RouteBased
                  sku: VpnGw1
                  addressSpace: [192.168.10.0/24, "fd10::/64"]
                  instances:
                    - name: lab-p2s-0
                      publicIpAddress: 10.77.0.1
                  tunnel:
                    device: isthmus0
                    mtu: 1400
                  vpnClientConfiguration:
                    vpnClientAddressPool: {addressPrefixes: [172.16.201.0/24, "fd00:201::/112"]}
                    vpnClientProtocols: [IkeV2]
                    vpnAuthenticationTypes: [Certificate, Radius]
                    radiusServers:
                      - {radiusServerAddress: %4$s, radiusServerScore: 30, radiusServerSecret: "%5$s"}
                      - {radiusServerAddress: %4$s, radiusServerPort: 1813, radiusServerScore: 20, radiusServerSecret: "%5$s"}
                    vpnClientRootCertificates:
                      - {name: HxRoot, publicCertFile: %1$s/ca.crt}
                    vpnClientRevokedCertificates:
                      - {name: mallory, thumbprint: %2$s}
                    dnsServers: [192.168.10.53]
                    serverCertificate: %1$s/gw.crt
                    serverPrivateKey: %1$s/gw.key
                localNetworkGateways:
                  - name: nobody
                    gatewayIpAddress: 10.99.0.2
                    addressPrefixes: [192.168.99.0/24]
                connections:
                  - name: to-nobody
                    localNetworkGateway: nobody
                    connectionMode: ResponderOnly
                    sharedKey: "%3$s"
                """.formatted(pki, revoked, LabGateways.PSK, Lab.HOST_A_IP, RADIUS_SECRET);
    }

    /** EAP-MSCHAPv2 road warriors (the gateway still proves itself with its certificate): dave, and erin with a password her server does not know. */
    static String eapClients() {
        StringBuilder sb = new StringBuilder("connections {\n");
        for (String n : List.of("frank", "grace")) {
            sb.append("""
                      %1$s {
                        remote_addrs = 10.77.0.1
                        vips = 0.0.0.0
                        version = 2
                        proposals = aes256gcm16-prfsha384-ecp384
                        local { auth = eap-tls
                          id = %1$s@hx
                          certs = %1$s.crt
                          aaa_id = "%3$s" }
                        remote { auth = pubkey
                          id = "%2$s"
                          cacerts = ca.crt }
                        children { %1$s {
                            remote_ts = 192.168.10.0/24
                            esp_proposals = aes256gcm16
                            start_action = none
                            mode = tunnel } } }
                    """.formatted(n, GW_DN, RADIUS_DN));
        }
        for (String n : List.of("dave", "erin")) {
            sb.append("""
                      %1$s {
                        remote_addrs = 10.77.0.1
                        vips = 0.0.0.0
                        version = 2
                        proposals = aes256gcm16-prfsha384-ecp384
                        local { auth = eap-mschapv2
                          id = %1$s }
                        remote { auth = pubkey
                          id = "%2$s"
                          cacerts = ca.crt }
                        children { %1$s {
                            remote_ts = 192.168.10.0/24
                            esp_proposals = aes256gcm16
                            start_action = none
                            mode = tunnel } } }
                    """.formatted(n, GW_DN));
        }
        return sb.append("""
                }
                secrets {
                  eap-dave { id = dave
                    secret = "dave's password" }
                  eap-erin { id = erin
                    secret = "not erin's password" }
                }
                """).toString();
    }

    /** strongSwan road warriors: a virtual address asked for (vips = 0.0.0.0), the site's prefix through the tunnel. */
    static String strongSwanConfig(String... names) {
        StringBuilder sb = new StringBuilder("connections {\n");
        for (String n : names) {
            sb.append("""
                      %1$s {
                        remote_addrs = 10.77.0.1
                        vips = %3$s
                        version = 2
                        proposals = aes256gcm16-prfsha384-ecp384
                        local { auth = pubkey
                          certs = %1$s.crt }
                        remote { auth = pubkey
                          id = "%2$s"
                          cacerts = ca.crt }
                        children { %1$s {
                            remote_ts = %4$s
                            esp_proposals = aes256gcm16
                            start_action = none
                            mode = tunnel } } }
                    """.formatted(n, GW_DN, n.equals("alice") ? "0.0.0.0,::" : "0.0.0.0",
                    n.equals("alice") ? "192.168.10.0/24,fd10::/64" : "192.168.10.0/24"));
        }
        return sb.append("}\n").toString();
    }
}
