package io.isthmus.lab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.isthmus.lab.Lab.Side;
import io.isthmus.lab.LabGateways.IsthmusOptions;
import io.isthmus.lab.LabTraffic.Transfer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Interop rows of issue 17's configuration part against strongSwan 5.9.8 (kernel-libipsec) and
 * between two Isthmus gateways: PRF-SHA512 with AES-GCM and curve25519 in both roles; several
 * proposals and DH groups in different orders on each side (the responder's order decides);
 * ESN across 2^32 (Isthmus to Isthmus: kernel-libipsec refuses ESN SAs), the boundary reached
 * with the test hook; an IKE rekey Isthmus starts because of a short configured lifetime.
 */
class ProposalsLabTest extends LabTestBase {
    /** One ipsecPolicies entry, as YAML lines under {@code - }. */
    static final String GCM256_PRFSHA512_X25519 = """
            ikeEncryption: GCMAES256
            ikeIntegrity: GCMAES256
            ikePrf: SHA512
            dhGroup: X25519
            ipsecEncryption: GCMAES256
            ipsecIntegrity: GCMAES256
            """;
    static final String AES256_SHA384_ECP384 = """
            ikeEncryption: AES256
            ikeIntegrity: SHA384
            dhGroup: ECP384
            ipsecEncryption: AES256
            ipsecIntegrity: SHA384
            """;
    static final String GCM128_ECP256 = """
            ikeEncryption: GCMAES128
            ikeIntegrity: GCMAES128
            dhGroup: ECP256
            ipsecEncryption: GCMAES128
            ipsecIntegrity: GCMAES128
            """;

    Lab up() throws Exception {
        lab = Lab.up(Path.of("/tmp/proposals-lab-test"), false);
        return lab;
    }

    /** A lab gateway's configuration with these lines added to its connection (4 spaces in), e.g. several ipsecPolicies. */
    static String withConnectionLines(String config, String lines) {
        String anchor = "    forceUdpEncapsulation: false\n";
        assertTrue(config.contains(anchor), config);
        return config.replace(anchor, anchor + lines.lines().map(l -> "    " + l + "\n").reduce("", String::concat));
    }

    /** {@code ipsecPolicies:} with these entries, in this order. */
    static String policies(String... entries) {
        StringBuilder b = new StringBuilder("ipsecPolicies:\n");
        for (String e : entries) {
            List<String> lines = e.strip().lines().toList();
            b.append("  - ").append(lines.getFirst()).append('\n');
            lines.subList(1, lines.size()).forEach(l -> b.append("    ").append(l).append('\n'));
        }
        return b.toString();
    }

    String isthmus(Side side, String mode, String connectionLines) {
        return withConnectionLines(LabGateways.isthmusConfig(lab, side, IsthmusOptions.DEFAULT.withMode(mode)), connectionLines);
    }

    void awaitTunnel() throws Exception {
        assertTrue(lab.awaitPath(Duration.ofSeconds(40), false), "no path from host-a to host-b after 40 s; gateway logs in " + lab.work());
    }

    static JsonNode ikeSa(Path socket) throws Exception {
        return status(socket).path("connections").get(0).path("ikeSas").get(0);
    }

    /**
     * Ping, then 1 MB of TCP each way, checked by hash. TCP and not a paced UDP stream against
     * strongSwan: on this loaded 2-core machine kernel-libipsec drops some datagrams at 500 a second
     * (the Isthmus end's counters show them all sent), which says nothing about the proposals.
     */
    void tcpBothWays() throws Exception {
        lab.in(Lab.HOST_A, "ping", "-c", "3", "-i", "0.2", "-W", "2", Lab.HOST_B_IP);
        Transfer ab = LabTraffic.tcp(lab, Lab.HOST_A, Lab.HOST_B, Lab.HOST_B_IP, 1 << 20);
        assertTrue(ab.intact(), "TCP a -> b: " + ab + "; gw-a: " + statusText(Side.A));
        Transfer ba = LabTraffic.tcp(lab, Lab.HOST_B, Lab.HOST_A, Lab.HOST_A_IP, 1 << 20);
        assertTrue(ba.intact(), "TCP b -> a: " + ba + "; gw-a: " + statusText(Side.A));
    }

    /** Ping, then 1,000 UDP datagrams each way, every one of them delivered once: Isthmus to Isthmus, where a loss is ours. */
    void trafficBothWays() throws Exception {
        lab.in(Lab.HOST_A, "ping", "-c", "3", "-i", "0.2", "-W", "2", Lab.HOST_B_IP);
        Transfer ab = LabTraffic.udp(lab, Lab.HOST_A, Lab.HOST_B, Lab.HOST_B_IP, 1000, 1000, 500);
        assertTrue(ab.intact(), "UDP a -> b: " + ab + "; gw-a: " + statusText(Side.A));
        Transfer ba = LabTraffic.udp(lab, Lab.HOST_B, Lab.HOST_A, Lab.HOST_A_IP, 1000, 1000, 500);
        assertTrue(ba.intact(), "UDP b -> a: " + ba + "; gw-a: " + statusText(Side.A));
    }

    /** For a failure's message: the gateway's status (its drops say where packets went), or why there is none. */
    String statusText(Side side) {
        try {
            return status(LabGateways.socket(lab, side)).toString();
        } catch (Exception e) {
            return "no status: " + e;
        }
    }

    /** The IKE SA as strongSwan lists it (swanctl --list-sas), for the algorithms it agreed to. */
    String strongSwanSas() throws Exception {
        return LabGateways.swanctl(lab, Side.B, "--list-sas");
    }

    /** aes256gcm16-prfsha512-curve25519, Isthmus initiating (GCMAES256 with ikePrf SHA512, X25519). */
    @Test
    void prfSha512Curve25519IsthmusInitiates() throws Exception {
        up();
        LabGateways.startStrongSwan(lab, Side.B, LabGateways.strongSwanConfig(lab, Side.B, false, "aes256gcm16-prfsha512-curve25519",
                "aes256gcm16"));
        Path a = LabGateways.startIsthmus(lab, Side.A, isthmus(Side.A, "InitiatorOnly", policies(GCM256_PRFSHA512_X25519)));
        awaitTunnel();
        tcpBothWays();
        JsonNode sa = ikeSa(a);
        assertEquals("aes256gcm16-prfsha512-x25519", sa.path("proposal").asText(), sa.toPrettyString());
        assertFalse(sa.path("childSas").get(0).path("esn").asBoolean(), "strongSwan offered no ESN: " + sa);
        String swan = strongSwanSas();
        assertTrue(swan.contains("AES_GCM_16-256/PRF_HMAC_SHA2_512/CURVE_25519"), swan);
    }

    /** The same, strongSwan initiating to an Isthmus responder. */
    @Test
    void prfSha512Curve25519StrongSwanInitiates() throws Exception {
        up();
        Path a = LabGateways.startIsthmus(lab, Side.A, isthmus(Side.A, "ResponderOnly", policies(GCM256_PRFSHA512_X25519)));
        Thread.sleep(1500); // Isthmus listening before charon's first IKE_SA_INIT
        LabGateways.startStrongSwan(lab, Side.B, LabGateways.strongSwanConfig(lab, Side.B, true, "aes256gcm16-prfsha512-curve25519",
                "aes256gcm16"));
        awaitTunnel();
        tcpBothWays();
        JsonNode sa = ikeSa(a);
        assertFalse(sa.path("weInitiated").asBoolean());
        assertEquals("aes256gcm16-prfsha512-x25519", sa.path("proposal").asText(), sa.toPrettyString());
        assertTrue(strongSwanSas().contains("AES_GCM_16-256/PRF_HMAC_SHA2_512/CURVE_25519"));
    }

    /**
     * Isthmus initiates with three policies (X25519 first), strongSwan responds preferring another
     * order (ECP384 first): strongSwan's order decides, Isthmus retries its key share with ECP384
     * after INVALID_KE_PAYLOAD; ESP likewise (strongSwan's first ESP proposal, no ESN).
     */
    @Test
    void severalProposalsStrongSwanRespondsWithItsOwnOrder() throws Exception {
        up();
        LabGateways.startStrongSwan(lab, Side.B, LabGateways.strongSwanConfig(lab, Side.B, false,
                "aes256-sha384-ecp384,aes128gcm16-prfsha256-ecp256,aes256gcm16-prfsha512-curve25519", "aes256-sha384,aes256gcm16,aes128gcm16"));
        Path a = LabGateways.startIsthmus(lab, Side.A, isthmus(Side.A, "InitiatorOnly",
                policies(GCM256_PRFSHA512_X25519, GCM128_ECP256, AES256_SHA384_ECP384)));
        awaitTunnel();
        tcpBothWays();
        JsonNode sa = ikeSa(a);
        assertEquals("aes256-sha384-prfsha384-ecp384", sa.path("proposal").asText(), sa.toPrettyString());
        assertEquals("aes256-sha384", sa.path("childSas").get(0).path("suite").asText(), sa.toPrettyString());
        assertTrue(Files.readString(lab.work().resolve("sw-b").resolve("charon.log")).contains("DH group CURVE_25519 unacceptable, requesting ECP_384"),
                "strongSwan asked for its own group");
    }

    /**
     * strongSwan initiates with its list (curve25519 first); Isthmus responds with its policies'
     * order (ECP256 first): Isthmus's order decides, strongSwan retries with ECP256.
     */
    @Test
    void severalProposalsIsthmusRespondsWithItsOwnOrder() throws Exception {
        up();
        Path a = LabGateways.startIsthmus(lab, Side.A, isthmus(Side.A, "ResponderOnly",
                policies(GCM128_ECP256, AES256_SHA384_ECP384, GCM256_PRFSHA512_X25519)));
        Thread.sleep(1500);
        LabGateways.startStrongSwan(lab, Side.B, LabGateways.strongSwanConfig(lab, Side.B, true,
                "aes256gcm16-prfsha512-curve25519,aes256-sha384-ecp384,aes128gcm16-prfsha256-ecp256", "aes256gcm16,aes256-sha384,aes128gcm16"));
        awaitTunnel();
        tcpBothWays();
        JsonNode sa = ikeSa(a);
        assertEquals("aes128gcm16-prfsha256-ecp256", sa.path("proposal").asText(), sa.toPrettyString());
        assertEquals("aes128gcm16", sa.path("childSas").get(0).path("suite").asText(), sa.toPrettyString());
        assertFalse(sa.path("childSas").get(0).path("esn").asBoolean(), "strongSwan offered no ESN");
        assertTrue(strongSwanSas().contains("AES_GCM_16-128/PRF_HMAC_SHA2_256/ECP_256"));
        assertTrue(Files.readString(lab.work().resolve("sw-b").resolve("charon.log")).contains("peer didn't accept DH group CURVE_25519, it requested ECP_256"),
                "Isthmus asked for its own group");
    }

    /**
     * Isthmus to Isthmus with ESN (the default, both) and the test hook on both gateways: every
     * ESN SA sends from 2^32 - 255 on, so the traffic crosses 2^32 in both directions. The wire
     * carries the low halves, wrapping through 0; every datagram arrives, none is dropped.
     */
    @Test
    void esnAcrossTwoToTheThirtyTwoBetweenIsthmusGateways() throws Exception {
        up();
        List<String> hook = List.of("ISTHMUS_TEST_ESN_FIRST_SEQUENCE=0xffffff00");
        Path pcap = lab.work().resolve("wan.pcap");
        Process capture = lab.spawn(Lab.GW_B, lab.work().resolve("tcpdump.log"), List.of("tcpdump", "-i", "wan", "-U", "-s", "96", "-B", "8192",
                "-w", pcap.toString(), "esp"));
        try {
            Path a = LabGateways.startIsthmus(lab, Side.A, LabGateways.isthmusConfig(lab, Side.A, IsthmusOptions.DEFAULT.withMode("InitiatorOnly")),
                    hook);
            Path b = LabGateways.startIsthmus(lab, Side.B, LabGateways.isthmusConfig(lab, Side.B, IsthmusOptions.DEFAULT.withMode("ResponderOnly")),
                    hook);
            awaitTunnel();
            trafficBothWays();
            for (Path socket : List.of(a, b)) {
                JsonNode child = ikeSa(socket).path("childSas").get(0);
                assertTrue(child.path("esn").asBoolean(), "ESN negotiated by default: " + child);
                assertTrue(child.path("inPackets").asLong() > 1000 && child.path("outPackets").asLong() > 1000, child.toPrettyString());
                assertEquals("{}", child.path("drops").toString(), "nothing dropped across 2^32: " + child);
            }
            assertTrue(Files.readString(lab.work().resolve("gw-a.log")).contains("ESN child SAs send from sequence number 0xffffff01"));
        } finally {
            Thread.sleep(500);
            capture.destroy();
            capture.waitFor();
        }
        WanCapture wan = WanCapture.read(pcap);
        for (String from : List.of(lab.gatewayAWan(), Lab.GW_B_WAN)) {
            // tcpdump on a loaded machine may miss some (CI: 916 of over 1,000 once): the sequence numbers carry the proof, not the count.
            List<Long> seqs = wan.esp.stream().filter(e -> e.source().equals(from)).map(WanCapture.Esp::sequence).toList();
            assertTrue(seqs.size() > 500, from + ": " + seqs.size() + " ESP packets");
            assertTrue(seqs.getFirst() >= 0xFFFF_FF01L, from + " starts just below 2^32: " + seqs.getFirst());
            int wrap = 1;
            while (wrap < seqs.size() && seqs.get(wrap) > seqs.get(wrap - 1)) {
                wrap++;
            }
            assertTrue(wrap < seqs.size() && seqs.get(wrap - 1) >= 0xFFFF_FF01L && seqs.get(wrap) < 100,
                    from + ": just below 2^32, then the low half from 0 on the wire: " + seqs.subList(Math.max(0, wrap - 2), Math.min(seqs.size(), wrap + 2)));
            List<Long> after = new ArrayList<>(seqs.subList(wrap, seqs.size()));
            assertTrue(after.stream().allMatch(x -> x < 0xFFFF_FF00L), from + ": rising after the wrap");
            assertTrue(after.getLast() > 700, from + " went on well past 2^32: " + after.getLast());
        }
    }

    /**
     * ikeSaLifeTimeSeconds: 30 on Isthmus (initiator); strongSwan's own IKE lifetime is hours:
     * Isthmus starts the IKE rekey (CREATE_CHILD_SA from it, a new IKE SA with new SPIs on both
     * ends), and the tunnel keeps carrying traffic.
     */
    @Test
    void anIkeRekeyStartedByIsthmusWithAShortConfiguredLifetime() throws Exception {
        up();
        LabGateways.startStrongSwan(lab, Side.B, LabGateways.strongSwanConfig(lab, Side.B, false, "aes256gcm16-prfsha384-ecp384", "aes256gcm16"));
        Path pcap = lab.work().resolve("wan-ike.pcap");
        Process capture = lab.spawn(Lab.GW_B, lab.work().resolve("tcpdump-ike.log"), List.of("tcpdump", "-i", "wan", "-U", "-s", "128", "-w",
                pcap.toString(), "udp port 500 or udp port 4500"));
        Path a;
        String before;
        try {
            a = LabGateways.startIsthmus(lab, Side.A, isthmus(Side.A, "InitiatorOnly", "ikeSaLifeTimeSeconds: 30\n"));
            awaitTunnel();
            before = ikeSa(a).path("initiatorSpi").asText();
            JsonNode first = ikeSa(a);
            assertTrue(first.path("rekeyInSeconds").asLong() <= 30, "rekeyed within the configured lifetime: " + first);
            long end = System.nanoTime() + Duration.ofSeconds(90).toNanos();
            while (System.nanoTime() < end && ikeSa(a).path("initiatorSpi").asText().equals(before)) {
                Thread.sleep(500);
            }
            tcpBothWays();
        } finally {
            Thread.sleep(500);
            capture.destroy();
            capture.waitFor();
        }
        JsonNode now = ikeSa(a);
        assertFalse(now.path("initiatorSpi").asText().equals(before), "a new IKE SA: " + now);
        assertEquals(1, status(a).path("connections").get(0).path("ikeSas").size(), "the old one deleted");
        assertTrue(strongSwanSas().toLowerCase().contains(now.path("initiatorSpi").asText().toLowerCase()), strongSwanSas());
        List<WanCapture.Ike> requests = WanCapture.read(pcap).ike.stream()
                .filter(i -> i.exchangeType() == WanCapture.CREATE_CHILD_SA && !i.response()).toList();
        assertFalse(requests.isEmpty(), "a CREATE_CHILD_SA request");
        assertTrue(requests.stream().allMatch(i -> i.source().equals(lab.gatewayAWan())), "Isthmus started it: " + requests);
    }
}
