package io.isthmus.ike;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.ike.engine.IkeEngine;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Two engines on real Netty sockets over loopback (127.0.0.1 and 127.0.0.2), on ports other than
 * 500 and 4500, so it needs no root: the transport, its event loop as the engines' scheduler,
 * and a rekey on real timers.
 */
class UdpTransportTest {

    static <T> T on(UdpTransport t, java.util.concurrent.Callable<T> task) throws Exception {
        CompletableFuture<T> f = new CompletableFuture<>();
        t.execute(() -> {
            try {
                f.complete(task.call());
            } catch (Throwable e) {
                f.completeExceptionally(e);
            }
        });
        return f.get(10, TimeUnit.SECONDS);
    }

    /**
     * Loopback addresses of this run's own (all of 127/8 is loopback on Linux): the gateways need the same
     * ports on two addresses, and another build on this machine (a second checkout's tests) binds them too.
     */
    static InetAddress loopback(int host) throws java.net.UnknownHostException {
        long pid = ProcessHandle.current().pid();
        return InetAddress.getByAddress(new byte[] {127, (byte) (1 + pid % 250), (byte) (pid / 250 % 250), (byte) host});
    }

    /** A burst of IKE_SA_INIT waits in the kernel while the engine computes: room for thousands (root may pass net.core.rmem_max). */
    @Test
    void theSocketsHoldABurst() throws Exception {
        InetAddress a = loopback(1);
        try (UdpTransport t = UdpTransport.bind(List.of(a), 15_510, 14_510)) {
            int got = t.receiveBuffer(new InetSocketAddress(a, 15_510));
            int max = Integer.parseInt(java.nio.file.Files.readString(java.nio.file.Path.of("/proc/sys/net/core/rmem_max")).strip());
            boolean root = "root".equals(System.getProperty("user.name"));
            assertTrue(got >= (root ? UdpTransport.RECEIVE_BUFFER : Math.min(UdpTransport.RECEIVE_BUFFER, max)), got + " bytes (rmem_max " + max + ")");
        }
    }

    @Test
    void twoGatewaysOverLoopbackOnTheirOwnPorts() throws Exception {
        InetAddress a = loopback(1);
        InetAddress b = loopback(2);
        InMemoryChildSaListener childrenA = new InMemoryChildSaListener();
        InMemoryChildSaListener childrenB = new InMemoryChildSaListener();
        try (UdpTransport ta = UdpTransport.bind(List.of(a), 15_500, 14_500);
             UdpTransport tb = UdpTransport.bind(List.of(b), 15_500, 14_500)) {
            IkeEngine ea = new IkeEngine(ta, ta, childrenA);
            IkeEngine eb = new IkeEngine(tb, tb, childrenB);
            ea.natTraversalPort(14_500);
            eb.natTraversalPort(14_500);
            ta.attach(ea);
            tb.attach(eb);
            on(ta, () -> {
                ea.addConnection(EnginePair.connection(a, b, "192.168.10.0/24", "192.168.20.0/24", "aes128gcm16-prfsha256-x25519",
                        "aes128gcm16").build());
                return null;
            });
            on(tb, () -> {
                eb.addConnection(EnginePair.connection(b, a, "192.168.20.0/24", "192.168.10.0/24", "aes128gcm16-prfsha256-x25519",
                        "aes128gcm16").build());
                return null;
            });
            IkeSa sa = on(ta, () -> ea.initiate("site", new InetSocketAddress(a, 15_500), new InetSocketAddress(b, 15_500)));
            StrongSwanHarness.await("the child SA at both ends", Duration.ofSeconds(10),
                    () -> childrenA.current().size() == 1 && childrenB.current().size() == 1);
            assertEquals(IkeSaState.ESTABLISHED, sa.state());
            EnginePair.assertCarriesTraffic(childrenA.keys(childrenA.current().getFirst()), childrenB.keys(childrenB.current().getFirst()));
            on(ta, () -> {
                sa.rekeyChild(childrenA.current().getFirst().inbound().spi());
                sa.rekey();
                return null;
            });
            StrongSwanHarness.await("both rekeys", Duration.ofSeconds(10), () -> sa.state() == IkeSaState.DESTROYED
                    && childrenB.events(InMemoryChildSaListener.Kind.DELETED).size() == 1 && childrenA.current().size() == 1);
            assertTrue(on(tb, () -> eb.ikeSas().size()) == 1);
            EnginePair.assertCarriesTraffic(childrenB.keys(childrenB.current().getFirst()), childrenA.keys(childrenA.current().getFirst()));
        }
    }

    @Test
    void aPortThatCannotBeBoundIsNamedWithWhatToCheck() throws Exception {
        InetAddress loopback = InetAddress.getByName("127.0.0.1");
        try (UdpTransport first = UdpTransport.bindIkePortOnly(List.of(loopback), 15_510, 14_510)) {
            var inUse = assertThrows(BindException.class, () -> UdpTransport.bindIkePortOnly(List.of(loopback), 15_510, 14_510));
            assertEquals("cannot bind IKE to 127.0.0.1:15510: Address already in use (is another IKE daemon, e.g. charon, using the port?)",
                    inUse.getMessage());
        }
        // TEST-NET-1: on no host.
        var notHere = assertThrows(BindException.class, () -> UdpTransport.bindIkePortOnly(List.of(InetAddress.getByName("192.0.2.1")), 15_510, 14_510));
        assertEquals("cannot bind IKE to 192.0.2.1:15510: Cannot assign requested address (is the address on this host?)", notHere.getMessage());
    }

    @Test
    void aFloatingAddressIsBoundBeforeTheHostHasIt() throws Exception {
        InetAddress loopback = InetAddress.getByName("127.0.0.1");
        InetAddress floating = InetAddress.getByName("192.0.2.1"); // TEST-NET-1: on no host, as a pair's address before keepalived moves it here
        // Bound where a plain bind fails (below); packets reach it once keepalived adds the address, which the pair's lab test shows.
        UdpTransport.bindIkePortOnly(List.of(loopback), List.of(floating), 15_512, 14_512).close();
        // The instance's own addresses keep the plain bind and its error: a typo there is not taken for a floating address.
        var notHere = assertThrows(BindException.class, () -> UdpTransport.bindIkePortOnly(List.of(floating), List.of(), 15_512, 14_512));
        assertEquals("cannot bind IKE to 192.0.2.1:15512: Cannot assign requested address (is the address on this host?)", notHere.getMessage());
    }
}
