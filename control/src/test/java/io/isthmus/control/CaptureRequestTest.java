package io.isthmus.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.dataplane.Dataplane;
import io.isthmus.dataplane.capture.CaptureFilter;
import io.isthmus.esp.CipherSuite;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A capture's request as the API reads it, and its keys as Wireshark 4.0 reads them. */
class CaptureRequestTest {
    @TempDir
    Path dir;

    static CaptureRequest parse(String json) throws Exception {
        return CaptureRequest.parse(ControlSocket.JSON.readTree(json));
    }

    static String problem(String json) {
        return assertThrows(IllegalArgumentException.class, () -> parse(json)).getMessage();
    }

    @Test
    void everyFilterAsAzureNamesIt() throws Exception {
        CaptureRequest r = parse("""
                {"connection": "to-hq", "layers": "inner", "direction": "egress", "sourceSubnets": ["192.168.10.0/24"],
                 "destinationSubnets": ["fd20::/64"], "sourcePorts": [5000], "destinationPorts": [443, 53], "protocols": ["tcp", "ICMP", 50],
                 "tcpFlags": ["SYN", "fin"], "snapLength": 128, "maxBytes": 1048576, "durationSeconds": 60, "keys": true}""");
        CaptureFilter f = r.filter();
        assertEquals("to-hq", f.connection());
        assertEquals(CaptureFilter.Layers.INNER, f.layers());
        assertEquals(CaptureFilter.Direction.EGRESS, f.direction());
        assertEquals("[192.168.10.0/24]", f.sources().toString());
        assertEquals(List.of(io.isthmus.dataplane.capture.IpPrefix.parse("fd20::/64")), f.destinations());
        assertEquals(Set.of(5000), f.sourcePorts());
        assertEquals(Set.of(443, 53), f.destinationPorts());
        assertEquals(Set.of(6, 1, 50), f.protocols());
        assertEquals(3, f.tcpFlags());
        assertEquals(128, f.snapLength());
        assertEquals(Duration.ofMinutes(1), f.duration());
        assertTrue(r.keys());
        // Said back in the request's own terms, which read back to the same filter.
        assertEquals(f, CaptureRequest.parse(ControlSocket.JSON.valueToTree(CaptureRequest.describe(f))).filter());
        CaptureRequest none = CaptureRequest.parse(null);
        assertFalse(none.keys(), "keys never by default");
        assertEquals(CaptureFilter.everything(), none.filter());
    }

    @Test
    void mistakesAreNamed() {
        assertEquals("unknown field 'file'; the fields are connection, destinationPorts, destinationSubnets, direction, durationSeconds, keys, layers, "
                + "maxBytes, protocols, snapLength, sourcePorts, sourceSubnets, tcpFlags", problem("{\"file\": \"/etc/shadow\"}"));
        assertEquals("layers: one of outer, inner, both, not 'all'", problem("{\"layers\": \"all\"}"));
        assertEquals("sourceSubnets: '10.0.0.0/33' is not an IP prefix such as 192.168.10.0/24", problem("{\"sourceSubnets\": [\"10.0.0.0/33\"]}"));
        assertEquals("protocols: numbers or esp, gre, icmp, icmpv6, sctp, tcp, udp, not \"ospf\"", problem("{\"protocols\": [\"ospf\"]}"));
        assertEquals("port: 0 to 65535, not 70000", problem("{\"destinationPorts\": [70000]}"));
        assertEquals("duration: more than 0 s and at most 60 minutes, not 7200 s", problem("{\"durationSeconds\": 7200}"));
        assertEquals("duration: more than 0 s and at most 60 minutes, not 0 s", problem("{\"durationSeconds\": 0}"));
        assertEquals("maxBytes: 4096 to 1073741824, not 10000000000", problem("{\"maxBytes\": 10000000000}"));
        assertEquals("snapLength: 64 to 65535 bytes, not 10", problem("{\"snapLength\": 10}"));
        assertEquals("keys: true or false", problem("{\"keys\": \"yes\"}"));
        assertEquals("destinationPorts: at most 64 entries", problem("{\"destinationPorts\": " + java.util.stream.IntStream.range(0, 65).boxed().toList() + "}"));
    }

    @Test
    void keysInWiresharksFormsWrittenForRootOnly() throws Exception {
        byte[] gcmKey = new byte[36];
        gcmKey[0] = (byte) 0xab;
        gcmKey[35] = 0x01;
        var esp = new Dataplane.ExportedKeys("to-hq", 0xc1000001, new InetSocketAddress("10.77.0.1", 4500), new InetSocketAddress("10.77.0.2", 4500),
                CipherSuite.AES256_GCM16, false, gcmKey.clone(), new byte[0], true);
        assertEquals("\"IPv4\",\"10.77.0.1\",\"10.77.0.2\",\"0xc1000001\",\"AES-GCM with 16 octet ICV [RFC4106]\",\"0xab"
                + "00".repeat(34) + "01\",\"NULL\",\"\"", KeyExport.espLine(esp));
        var cbc = new Dataplane.ExportedKeys("to-hq", 0x0000abcd, new InetSocketAddress("fd00::1", 0), new InetSocketAddress("fd00::2", 0),
                CipherSuite.AES128_SHA256, true, new byte[16], new byte[32], false);
        assertEquals("\"IPv6\",\"fd00::1\",\"fd00::2\",\"0x0000abcd\",\"AES-CBC [RFC3602]\",\"0x" + "00".repeat(16)
                + "\",\"HMAC-SHA-256-128 [RFC4868]\",\"0x" + "00".repeat(32) + "\"", KeyExport.espLine(cbc));
        assertEquals(null, KeyExport.espLine(new Dataplane.ExportedKeys("to-hq", 1, new InetSocketAddress("10.0.0.1", 0),
                new InetSocketAddress("10.0.0.2", 0), CipherSuite.CHACHA20_POLY1305, false, new byte[36], new byte[0], false)), "4.0 has no ChaCha20");
        assertEquals("2001:db8::1:0:0:1", KeyExport.text(java.net.InetAddress.getByName("2001:db8:0:0:1:0:0:1")));
        assertEquals("::1", KeyExport.text(java.net.InetAddress.getByName("::1")));
        assertEquals("fe80::", KeyExport.text(java.net.InetAddress.getByName("fe80::")));
        assertEquals("1:2:3:4:5:6:7:8", KeyExport.text(java.net.InetAddress.getByName("1:2:3:4:5:6:7:8")));
        var ike = new KeyExport.IkeKeys(0x0102030405060708L, 0x1112131415161718L, CipherSuite.AES256_GCM16, new byte[36], new byte[36], new byte[0],
                new byte[0]);
        assertEquals("0102030405060708,1112131415161718," + "00".repeat(36) + "," + "00".repeat(36)
                + ",\"AES-GCM-256 with 16 octet ICV [RFC5282]\",,,\"NONE [RFC4306]\"", KeyExport.ikeLine(ike));

        Path pcap = dir.resolve("gw-20261202T230000.000Z.pcapng");
        KeyExport export = new KeyExport(pcap, null);
        byte[] copy = gcmKey.clone();
        export.add(new KeyExport.Keys(List.of(new Dataplane.ExportedKeys("to-hq", 0xc1000001, new InetSocketAddress("10.77.0.1", 4500),
                new InetSocketAddress("10.77.0.2", 4500), CipherSuite.AES256_GCM16, false, copy, new byte[0], true)), List.of(ike)));
        assertEquals(new byte[36].length, copy.length);
        assertTrue(java.util.Arrays.equals(new byte[36], copy), "the copies it was given are wiped");
        assertEquals(1, Files.readAllLines(export.espSaFile()).size());
        assertEquals(1, Files.readAllLines(export.ikeFile()).size());
        for (Path p : List.of(export.espSaFile(), export.ikeFile())) {
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(p)));
        }
    }
}
