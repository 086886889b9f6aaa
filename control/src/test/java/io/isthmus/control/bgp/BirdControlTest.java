package io.isthmus.control.bgp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The control-socket client against sockets that do not behave as BIRD: garbage, a line without
 * end, a reply without end, silence, a close in the middle. Each ends with an IOException saying
 * what was wrong, within the timeout, and nothing hangs; and BIRD's real reply text is read right.
 */
class BirdControlTest {
    private static final Duration TIMEOUT = Duration.ofMillis(500);

    @TempDir
    Path dir;

    /** What a fake BIRD does with one accepted connection. */
    interface Behaviour {
        void serve(SocketChannel ch) throws Exception;
    }

    /** Serves one connection with {@code b} on a fresh socket, asks {@code command}, and returns what the client threw (or null). */
    private IOException ask(Behaviour b, String command) throws Exception {
        Path socket = dir.resolve("bgpcfg-" + ProcessHandle.current().pid() + ".ctl");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(socket));
            AtomicReference<Throwable> serverFailed = new AtomicReference<>();
            Thread t = Thread.ofVirtual().start(() -> {
                try (SocketChannel ch = server.accept()) {
                    b.serve(ch);
                } catch (Throwable e) {
                    serverFailed.set(e);
                }
            });
            long start = System.nanoTime();
            IOException thrown = null;
            try {
                new BirdControl(socket, TIMEOUT).command(command);
            } catch (IOException e) {
                thrown = e;
            }
            long ms = (System.nanoTime() - start) / 1_000_000;
            assertTrue(ms < TIMEOUT.toMillis() + 5000, "the client took " + ms + " ms (its deadline, with room for a loaded machine)");
            t.interrupt();
            return thrown;
        } finally {
            java.nio.file.Files.deleteIfExists(socket);
        }
    }

    private static void send(SocketChannel ch, String text) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    private static void stall() throws InterruptedException {
        Thread.sleep(5_000);
    }

    @Test
    void garbageIsNotBirdsProtocol() throws Exception {
        IOException e = ask(ch -> {
            send(ch, "HTTP/1.1 200 OK\r\n\r\n");
            stall();
        }, "show status");
        assertTrue(e.getMessage().contains("not BIRD's protocol") && e.getMessage().contains("HTTP/1.1 200 OK?"), e.getMessage());
    }

    @Test
    void aGreetingThatIsNotBirdsIsRefused() throws Exception {
        IOException e = ask(ch -> send(ch, "0000 hello\n"), "show status");
        assertTrue(e.getMessage().contains("did not greet as BIRD does"), e.getMessage());
    }

    @Test
    void aLineWithoutEndIsCutOff() throws Exception {
        IOException e = ask(ch -> {
            send(ch, "0001 BIRD 2.0.12 ready.\n");
            byte[] a = new byte[1024];
            java.util.Arrays.fill(a, (byte) 'a');
            for (int i = 0; i < 10_000; i++) {
                send(ch, new String(a, StandardCharsets.US_ASCII));
            }
        }, "show status");
        assertTrue(e.getMessage().contains("a line of over 4096 bytes"), e.getMessage());
    }

    @Test
    void aReplyWithoutEndIsCutOff() throws Exception {
        IOException e = ask(ch -> {
            send(ch, "0001 BIRD 2.0.12 ready.\n2002-Name Proto\n");
            String block = " c_x        BGP        ---        start  2026-12-03 03:27:57  Active\n".repeat(1000);
            for (int i = 0; i < 100; i++) {
                send(ch, block);
            }
        }, "show protocols");
        assertTrue(e.getMessage().contains("over 1048576 bytes"), e.getMessage());
    }

    /** A listener that never accepts, its backlog full: the connect itself must end at the timeout, not block for ever. */
    @Test
    void aFullBacklogTimesOutInsteadOfBlocking() throws Exception {
        Path socket = dir.resolve("fixbgp-" + ProcessHandle.current().pid() + "-full.ctl");
        java.util.List<SocketChannel> queued = new java.util.ArrayList<>();
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(socket), 1);
            for (int i = 0; i < 64; i++) {
                SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX);
                c.configureBlocking(false);
                queued.add(c);
                try {
                    if (!c.connect(UnixDomainSocketAddress.of(socket))) {
                        break; // the backlog is full
                    }
                } catch (IOException full) {
                    break;
                }
            }
            BirdControl control = new BirdControl(socket, TIMEOUT);
            java.util.concurrent.CompletableFuture<Throwable> outcome = new java.util.concurrent.CompletableFuture<>();
            Thread t = Thread.ofPlatform().daemon().start(() -> {
                try {
                    control.command("show status");
                    outcome.complete(null);
                } catch (Throwable e) {
                    outcome.complete(e);
                }
            });
            long began = System.nanoTime();
            Throwable e = outcome.get(5, java.util.concurrent.TimeUnit.SECONDS);
            long tookMillis = (System.nanoTime() - began) / 1_000_000;
            assertTrue(e instanceof IOException, "an IOException, not " + e);
            assertTrue(tookMillis < 4000, tookMillis + " ms (the deadline, with room for a loaded machine)");
            t.join(1000);
        } finally {
            for (SocketChannel c : queued) {
                c.close();
            }
        }
    }

    @Test
    void silenceTimesOut() throws Exception {
        IOException e = ask(ch -> stall(), "show status");
        assertTrue(e.getMessage().contains("did not answer") && e.getMessage().contains("500 ms"), e.getMessage());
    }

    @Test
    void aStallInTheMiddleOfAReplyTimesOut() throws Exception {
        IOException e = ask(ch -> {
            send(ch, "0001 BIRD 2.0.12 ready.\n");
            ByteBuffer command = ByteBuffer.allocate(100);
            ch.read(command);
            send(ch, "2002-Name       Proto      Table      State  Since         Info\n1002-c_x  BGP");
            stall();
        }, "show protocols");
        assertTrue(e.getMessage().contains("did not answer"), e.getMessage());
    }

    @Test
    void aCloseInTheMiddleOfAReplyIsAnError() throws Exception {
        IOException e = ask(ch -> {
            send(ch, "0001 BIRD 2.0.12 ready.\n");
            ch.read(ByteBuffer.allocate(100));
            send(ch, "1002-c_x  BGP\n");
        }, "show protocols");
        assertTrue(e.getMessage().contains("closed") && e.getMessage().contains("in the middle of a reply"), e.getMessage());
    }

    @Test
    void aGoodExchangeWithContinuationLines() throws Exception {
        Path socket = dir.resolve("good.ctl");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(socket));
            AtomicReference<String> asked = new AtomicReference<>();
            Thread t = Thread.ofVirtual().start(() -> {
                try (SocketChannel ch = server.accept()) {
                    send(ch, "0001 BIRD 2.0.12 ready.\n");
                    ByteBuffer b = ByteBuffer.allocate(100);
                    ch.read(b);
                    asked.set(new String(b.array(), 0, b.position(), StandardCharsets.US_ASCII));
                    send(ch, SHOW_PROTOCOLS_ALL);
                } catch (IOException e) {
                    // the test's assertions say it
                }
            });
            BirdControl.Reply r = new BirdControl(socket, TIMEOUT).command("show protocols all");
            t.join();
            assertEquals("show protocols all\n", asked.get());
            assertEquals(0, r.code());
            Map<String, BgpPeerStatus> peers = BgpPeerStatus.parse(r, Instant.parse("2026-12-03T03:30:57Z"), ZoneId.of("UTC"));
            assertEquals(2, peers.size(), peers.toString());
            BgpPeerStatus up = peers.get("c_to_branch");
            assertEquals(BgpPeerStatus.CONNECTED, up.state());
            assertEquals("Established", up.birdState());
            assertEquals("169.254.21.2", up.neighbor());
            assertEquals(65010L, up.asn());
            assertEquals("169.254.21.1", up.localAddress());
            assertEquals(180L, up.connectedSeconds());
            assertEquals(1L, up.routesReceived());
            assertEquals(2L, up.routesFiltered());
            assertEquals(2L, up.routesAdvertised());
            BgpPeerStatus down = peers.get("c_to_depot");
            assertEquals(BgpPeerStatus.CONNECTING, down.state());
            assertEquals("Active", down.birdState());
            assertEquals("Socket: No route to host", down.lastError());
            assertNull(down.connectedSeconds());
            assertNull(down.routesReceived(), "no channel up, no counts");
        }
    }

    @Test
    void birdsStatesInAzuresWords() {
        assertEquals("Connected", BgpPeerStatus.azureState("up", "Established"));
        assertEquals("Connecting", BgpPeerStatus.azureState("start", "Connect"));
        assertEquals("Connecting", BgpPeerStatus.azureState("start", "OpenSent"));
        assertEquals("Idle", BgpPeerStatus.azureState("start", "Idle"));
        assertEquals("Stopped", BgpPeerStatus.azureState("down", "Idle"));
        assertEquals("Stopped", BgpPeerStatus.azureState("flush", "Established"));
        assertEquals("Unknown", BgpPeerStatus.azureState("up", "Bogus"));
    }

    /** As BIRD 2.0.12 answers on its socket (taken from a run), one session up and one trying. */
    static final String SHOW_PROTOCOLS_ALL = """
            2002-Name       Proto      Table      State  Since         Info
            1002-device1    Device     ---        up     2026-12-03 03:27:57 \s
            1006-
            1002-c_to_branch BGP        ---        up     2026-12-03 03:27:57  Established  \s
            1006-  Description:    to-branch
               BGP state:          Established
                 Neighbor address: 169.254.21.2
                 Neighbor AS:      65010
                 Local AS:         65515
                 Neighbor ID:      169.254.21.2
                 Local capabilities
                   Multiprotocol
                     AF announced: ipv4
                 Session:          external multihop AS4
                 Source address:   169.254.21.1
                 Hold timer:       200.118/240
                 Keepalive timer:  63.526/80
               Channel ipv4
                 State:          UP
                 Table:          master4
                 Preference:     100
                 Input filter:   isthmus_import_c_to_branch
                 Output filter:  isthmus_export
                 Receive limit:  4000
                   Action:       restart
                 Routes:         1 imported, 2 filtered, 2 exported, 1 preferred
                 Route change stats:     received   rejected   filtered    ignored   accepted
                   Import updates:              3          0          2          0          1
                   Import withdraws:            0          0        ---          0          0
                   Export updates:              3          1          0        ---          2
                   Export withdraws:            0        ---        ---        ---          0
                 BGP Next hop:   169.254.21.1
                 IGP IPv4 table: isthmus_igp4
            \s
            1002-c_to_depot BGP        ---        start  2026-12-03 03:27:57  Active        Socket: No route to host
            1006-  Description:    to-depot
               BGP state:          Active
                 Neighbor address: 192.168.30.254
                 Neighbor AS:      65020
                 Local AS:         65515
                 Connect delay:    3.136/5
                 Last error:       Socket: No route to host
               Channel ipv4
                 State:          DOWN
                 Table:          master4
                 Preference:     100
                 Input filter:   isthmus_import_c_to_depot
                 Output filter:  isthmus_export
                 Receive limit:  4000
                   Action:       restart
                 IGP IPv4 table: isthmus_igp4
            \s
            0000\s
            """;
}
