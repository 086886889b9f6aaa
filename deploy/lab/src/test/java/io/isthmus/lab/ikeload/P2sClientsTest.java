package io.isthmus.lab.ikeload;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.control.Pem;
import io.isthmus.ike.Authentication;
import io.isthmus.ike.ChildSaDescription;
import io.isthmus.ike.ChildSaKeys;
import io.isthmus.ike.ChildSaListener;
import io.isthmus.ike.Connection;
import io.isthmus.ike.Identity;
import io.isthmus.ike.UdpTransport;
import io.isthmus.ike.engine.IkeEngine;
import io.isthmus.ike.message.IdPayload;
import io.isthmus.ike.remoteaccess.RemoteAccess;
import io.isthmus.ike.remoteaccess.RevokedCertificates;
import io.isthmus.ike.remoteaccess.VirtualAddressPool;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The load generator's point-to-site clients ({@code --p2s}, what {@code isthmus bench p2s-load}
 * runs) against a remote-access responder engine in this JVM, on loopback addresses of this
 * run's own: 25 clients, each its own identity and certificate, against a pool whose maxClients
 * is 20. The first 20 get an address each, all different, and the last 5 are refused with
 * INTERNAL_ADDRESS_FAILURE, as the generator counts them; no root, no namespace.
 */
class P2sClientsTest {
    @Test
    void eachClientGetsAnAddressOfItsOwnAndThoseBeyondMaxClientsAreRefused(@TempDir Path dir) throws Exception {
        LoadPki.Certificates pki = LoadPki.make(dir);
        // Addresses of this run's own (from its pid), so two builds on one machine do not meet on a port.
        long pid = ProcessHandle.current().pid();
        String net = "127." + (pid >> 8 & 0xFF) + "." + (pid & 0xFF) + ".";
        InetAddress resp = InetAddress.ofLiteral(net + "1");
        // A pool of 126 addresses; 20 clients at most.
        VirtualAddressPool pool = new VirtualAddressPool(List.of(InetAddress.ofLiteral("10.90.0.0")), List.of(25), 20, Duration.ofMinutes(5),
                System::nanoTime);
        RemoteAccess ra = new RemoteAccess(pool, null, List.of(), List.of(), new RevokedCertificates(List.of()));
        var chain = Pem.certificates(pki.responderCertificate());
        Identity gateway = new Identity(IdPayload.ID_DER_ASN1_DN, chain.getFirst().getSubjectX500Principal().getEncoded());
        Connection c = Connection.builder("p2s").local(resp, gateway).remote(null, null)
                .authentication(new Authentication.Certificates(Pem.privateKey(pki.responderKey()), chain, Pem.certificates(pki.ca()), false))
                .ike("aes128gcm16-prfsha256-x25519").esp("aes128gcm16").remoteAccess(ra).localTs("172.19.0.0/24").remoteTs("10.90.0.0/25").build();
        UdpTransport t = UdpTransport.bind(List.of(resp), 15600, 15601);
        ChildSaListener wipe = new ChildSaListener() {
            @Override
            public void installed(ChildSaDescription sa, ChildSaKeys keys) {
                keys.inbound().destroy();
                keys.outbound().destroy();
            }

            @Override
            public void rekeyed(ChildSaDescription old, ChildSaDescription replacement, ChildSaKeys keys, boolean outboundNow) {
                keys.inbound().destroy();
                keys.outbound().destroy();
            }

            @Override
            public void deleted(ChildSaDescription sa) {
            }
        };
        IkeEngine engine = new IkeEngine(t, t, wipe);
        engine.cookies(false);
        engine.addConnection(c);
        t.attach(engine::receive);
        try {
            IkeLoadGenerator g = new IkeLoadGenerator();
            new picocli.CommandLine(g).parseArgs("--responder", resp.getHostAddress(), "--responder-port", "15600", "--first-source", net + "10",
                    "--sources", "25", "--attempts", "25", "--threads", "2", "--window", "8", "--warmup", "0", "--seconds", "60", "--auth", "ecdsa", "--p2s",
                    "--certificate", pki.generatorCertificate().toString(), "--key", pki.generatorKey().toString(), "--ca", pki.ca().toString(),
                    "--ca-key", pki.caKey().toString(), "--responder-id", LoadPki.RESPONDER_DN, "--no-delete-at-end", "--priming", "3");
            LoadReport r = g.run();
            assertEquals(25, r.attempts(), r.summary());
            assertTrue(r.p2s() && r.accountedFor(), r.summary());
            assertEquals(20, r.clientsWithAddress());
            assertEquals(20, r.distinctAddresses());
            assertEquals(0, r.duplicateAddresses());
            assertEquals(0, r.clientsWithoutAddress());
            assertEquals(5, r.refusedWith("INTERNAL_ADDRESS_FAILURE"), r.refusals().toString());
            assertEquals(20, pool.liveClients());
        } finally {
            t.close();
        }
    }
}
