package io.isthmus.lab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.isthmus.control.GatewayClient;
import io.isthmus.lab.Lab.Side;
import io.isthmus.lab.LabGateways.IsthmusOptions;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The gateway's own packet capture, read by tshark (Wireshark 4.0, Debian's) as an engineer
 * would: gw-a captures everything with its keys while gw-b brings the tunnel up, host-a pings
 * host-b, and a child rekey (forced through the API) makes new SAs mid-capture. tshark, given the
 * exported esp_sa and ikev2_decryption_table lines, must find IKE_AUTH decrypted (its AUTH payload
 * visible), the pings inside the ESP of the outer interface before and after the rekey, and no
 * Malformed Packet anywhere. A second capture's filters (inner only, ICMP only, ingress only) and a
 * third's (TCP SYNs) must keep what they say and nothing else.
 */
class CaptureLabTest extends LabTestBase {
    @Test
    void tsharkDecryptsTheCaptureWithItsKeysAndFiltersKeepWhatTheySay() throws Exception {
        lab = Lab.up(Path.of("/tmp/isthmus-lab-capture"), false);
        Path socket = LabGateways.startIsthmus(lab, Side.A, LabGateways.isthmusConfig(lab, Side.A, IsthmusOptions.DEFAULT.withMode("ResponderOnly")));
        awaitRunning(socket);

        // Everything, with keys, before the peer's first IKE_SA_INIT.
        Cli started = isthmus("capture", "start", "--keys", "--duration", "120", "--control-socket", socket.toString());
        assertEquals(0, started.exit(), started.err());
        JsonNode running = GatewayClient.captures(socket).path("running");
        Path pcap = Path.of(running.path("file").asText());
        assertTrue(pcap.startsWith(lab.work()), "into the --capture-directory the lab gave: " + pcap);
        LabGateways.startIsthmus(lab, Side.B, LabGateways.isthmusConfig(lab, Side.B, IsthmusOptions.DEFAULT.withMode("InitiatorOnly")));
        assertTrue(lab.awaitPath(Duration.ofSeconds(90), false), "no path from host-a to host-b; logs in " + lab.work());
        lab.in(Lab.HOST_A, "ping", "-c", "3", "-i", "0.2", Lab.HOST_B_IP);
        JsonNode rekey = GatewayClient.post(socket, "connections/to-site-b/rekey?sa=child");
        assertEquals(200, rekey.path("httpStatus").asInt(), rekey.toPrettyString());
        Thread.sleep(1200); // the exporter looks for new SAs every 500 ms
        lab.in(Lab.HOST_A, "ping", "-c", "3", "-i", "0.2", Lab.HOST_B_IP);
        Cli stopped = isthmus("capture", "stop", "--control-socket", socket.toString());
        assertEquals(0, stopped.exit(), stopped.err());
        assertTrue(stopped.out().contains(" dropped; ended: stopped"), stopped.out());

        Path espSa = Path.of(pcap.toString().replace(".pcapng", ".esp_sa"));
        Path ike = Path.of(pcap.toString().replace(".pcapng", ".ikev2_decryption_table"));
        for (Path p : List.of(pcap, espSa, ike)) {
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(p)), p.toString());
        }
        List<String> espLines = Files.readAllLines(espSa);
        assertEquals(4, espLines.size(), "two child SAs (the first, and the rekey's), each way: " + espLines);
        assertTrue(Files.readString(lab.work().resolve("gw-a.log")).contains("whoever reads them can decrypt this gateway's traffic"),
                "the export is logged as a warning");

        List<String[]> frames = tshark(pcap, espLines, Files.readAllLines(ike), "frame.interface_name", "isakmp.exchangetype",
                "isakmp.enc.decrypted", "isakmp.auth.method", "esp.spi", "icmp.type", "_ws.malformed", "frame.packet_flags_direction");
        assertTrue(frames.stream().anyMatch(f -> f[1].equals("outer") && f[2].equals("35") && !f[3].isEmpty() && !f[4].isEmpty()),
                "IKE_AUTH decrypted, its AUTH payload read: " + show(frames));
        List<String> echoSpis = frames.stream().filter(f -> f[1].equals("outer") && !f[5].isEmpty() && f[6].equals("8")).map(f -> f[5]).toList();
        assertTrue(echoSpis.size() >= 6, "the pings, inside ESP: " + show(frames));
        String first = echoSpis.getFirst();
        assertTrue(echoSpis.stream().filter(spi -> !spi.equals(first)).count() >= 3, "and the three after the rekey, in the new SA's ESP: " + show(frames));
        assertTrue(frames.stream().anyMatch(f -> f[1].equals("inner") && f[6].equals("0") && inbound(f[8])), "the replies, inner, inbound");
        assertFalse(frames.stream().anyMatch(f -> !f[7].isEmpty()), "no Malformed Packet: " + show(frames));

        // Inner only, ICMP only, from the peer only.
        Cli icmp = isthmus("capture", "start", "--layers", "inner", "--protocol", "icmp", "--direction", "ingress", "--control-socket", socket.toString());
        assertEquals(0, icmp.exit(), icmp.err());
        lab.in(Lab.HOST_A, "ping", "-c", "2", "-i", "0.2", Lab.HOST_B_IP);
        LabTraffic.tcp(lab, Lab.HOST_B, Lab.HOST_A, Lab.HOST_A_IP, 64 * 1024);
        Path second = Path.of(stop(socket).path("file").asText());
        List<String[]> inner = tshark(second, List.of(), List.of(), "frame.interface_name", "ip.proto", "frame.packet_flags_direction");
        assertEquals(2, inner.size(), "the two replies and nothing else: " + show(inner));
        assertTrue(inner.stream().allMatch(f -> f[1].equals("inner") && f[2].equals("1") && inbound(f[3])), show(inner));

        // TCP SYNs only: one connection, one SYN each way (SYN, SYN-ACK).
        Cli syns = isthmus("capture", "start", "--layers", "inner", "--tcp-flags", "SYN", "--control-socket", socket.toString());
        assertEquals(0, syns.exit(), syns.err());
        LabTraffic.tcp(lab, Lab.HOST_B, Lab.HOST_A, Lab.HOST_A_IP, 64 * 1024);
        Path third = Path.of(stop(socket).path("file").asText());
        List<String[]> synFrames = tshark(third, List.of(), List.of(), "tcp.flags.syn", "tcp.flags.ack");
        assertEquals(2, synFrames.size(), show(synFrames));
        assertTrue(synFrames.stream().allMatch(f -> f[1].equals("1") || f[1].equals("True")), show(synFrames));
    }

    /** tshark prints epb_flags as 0x00000001; the direction is its low two bits, 1 inbound. */
    private static boolean inbound(String flags) {
        return !flags.isEmpty() && (Integer.decode(flags) & 3) == 1;
    }

    private void awaitRunning(Path socket) throws Exception {
        long end = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < end) {
            try {
                if (!GatewayClient.status(socket).path("connections").isEmpty()) {
                    return;
                }
            } catch (java.io.IOException starting) {
                // not yet
            }
            Thread.sleep(200);
        }
        throw new AssertionError("gw-a did not start; see " + lab.work().resolve("gw-a.log"));
    }

    private static JsonNode stop(Path socket) throws Exception {
        JsonNode s = GatewayClient.post(socket, "captures/stop");
        assertEquals(200, s.path("httpStatus").asInt(), s.toPrettyString());
        return s;
    }

    /** tshark's fields per frame, the frame number first; fails on a key line tshark refuses. */
    private List<String[]> tshark(Path pcap, List<String> espSa, List<String> ike, String... fields) throws Exception {
        List<String> command = new ArrayList<>(List.of("tshark", "-n", "-r", pcap.toString(), "-o", "esp.enable_encryption_decode:TRUE"));
        espSa.forEach(l -> command.addAll(List.of("-o", "uat:esp_sa:" + l)));
        ike.forEach(l -> command.addAll(List.of("-o", "uat:ikev2_decryption_table:" + l)));
        command.addAll(List.of("-T", "fields", "-E", "separator=|", "-E", "occurrence=f", "-e", "frame.number"));
        for (String f : fields) {
            command.addAll(List.of("-e", f));
        }
        Path err = Files.createTempFile(lab.work(), "tshark", ".err");
        Process p = new ProcessBuilder(command).redirectError(err.toFile()).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        String said = Files.readString(err);
        assertEquals(0, p.exitValue(), said);
        assertFalse(said.contains("Error loading table"), said);
        List<String[]> frames = new ArrayList<>();
        for (String line : out.split("\n")) {
            if (!line.isBlank()) {
                frames.add(line.split("\\|", -1));
            }
        }
        System.out.println("tshark " + pcap.getFileName() + ":\n" + out);
        return frames;
    }

    private static String show(List<String[]> frames) {
        StringBuilder b = new StringBuilder();
        frames.forEach(f -> b.append(String.join("|", f)).append('\n'));
        return b.toString();
    }
}
