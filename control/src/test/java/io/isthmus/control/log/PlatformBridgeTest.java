package io.isthmus.control.log;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.spi.ILoggingEvent;
import io.isthmus.dataplane.Dataplane;
import io.isthmus.dataplane.conn.InMemoryEspPort;
import io.isthmus.dataplane.tun.InMemoryTun;
import io.isthmus.ike.Connection;
import io.isthmus.ike.Identity;
import io.isthmus.ike.InMemoryChildSaListener;
import io.isthmus.ike.InMemoryNetwork;
import io.isthmus.ike.ManualScheduler;
import io.isthmus.ike.engine.IkeEngine;
import io.netty.util.internal.logging.InternalLoggerFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every line of the process reaches Logback: IKE's and the data plane's System.Logger calls
 * through slf4j-jdk-platform-logging, as they run in the daemon (real engine and data plane code,
 * not a logger made up here), and Netty's through SLF4J.
 */
class PlatformBridgeTest {
    static final InetAddress A = InetAddress.ofLiteral("10.0.0.1");
    static final InetAddress B = InetAddress.ofLiteral("10.0.0.2");

    @BeforeAll
    static void setUp() {
        LogOutput.install();
    }

    @AfterEach
    void defaultLevels() {
        LogOutput.process().apply(LoggingSettings.DEFAULT);
    }

    @Test
    void theJdksLoggerFinderIsTheSlf4jBridge() {
        assertEquals("org.slf4j.jdk.platform.logging.SLF4JSystemLoggerFinder", System.LoggerFinder.getLoggerFinder().getClass().getName());
    }

    @Test
    void anIkeLineReachesLogback() {
        IkeEngine engine = new IkeEngine(new InMemoryNetwork().transport(), new ManualScheduler(), new InMemoryChildSaListener());
        engine.addConnection(Connection.builder("to-b").local(A, null).remote(B, Identity.of(B))
                .preSharedKey("a shared secret that is long enough".getBytes(StandardCharsets.US_ASCII)).ike("aes128gcm16-prfsha256-ecp256")
                .esp("aes128gcm16").localTs("192.168.10.0/24").remoteTs("192.168.20.0/24").build());
        try (CapturedLines log = CapturedLines.open(LineFormat.HUMAN, true)) {
            engine.initiate("to-b", new InetSocketAddress(A, 500), new InetSocketAddress(B, 500));
            ILoggingEvent e = only(log, "initiating IKE SA");
            assertEquals("io.isthmus.ike", e.getLoggerName());
            assertEquals("<6>ike: to-b: initiating IKE SA to /10.0.0.2:500\n", log.texts().get(log.events().indexOf(e)));
        }
    }

    @Test
    void aDataPlaneLineReachesLogback() {
        Dataplane dataplane = Dataplane.overMemory(new Dataplane.Settings("test0", List.of(A), 4500, true, 1500, 1350, 1 << 20),
                new NoEvents(), new InMemoryTun(false, false, (b, o, l) -> { }), new InMemoryEspPort());
        try (CapturedLines log = CapturedLines.open(LineFormat.HUMAN, false)) {
            dataplane.tunnels(List.of(new Dataplane.TunnelSpec("to-b", false, List.of("192.168.20.0/24"))));
            ILoggingEvent e = only(log, "tunnel table");
            assertEquals("io.isthmus.dataplane", e.getLoggerName());
            assertTrue(log.all().contains(" INFO dataplane: tunnel table: "), log.all());
        } finally {
            dataplane.close();
        }
    }

    /** A level set on the subsystem reaches the System.Logger IKE holds (made long before, in a static field). */
    @Test
    void aSubsystemsLevelReachesItsSystemLoggers() {
        System.Logger ike = System.getLogger("io.isthmus.ike");
        System.Logger exchange = System.getLogger("io.isthmus.ike.exchange");
        assertFalse(ike.isLoggable(System.Logger.Level.DEBUG));
        LogOutput.process().level(Subsystem.IKE, LogLevel.DEBUG);
        assertTrue(ike.isLoggable(System.Logger.Level.DEBUG));
        assertTrue(exchange.isLoggable(System.Logger.Level.DEBUG), "a child logger follows its subsystem");
        assertFalse(ike.isLoggable(System.Logger.Level.TRACE));
        assertFalse(System.getLogger("io.isthmus.dataplane").isLoggable(System.Logger.Level.DEBUG), "other subsystems keep theirs");
    }

    @Test
    void nettyLogsThroughSlf4j() {
        try (CapturedLines log = CapturedLines.open(LineFormat.HUMAN, true)) {
            InternalLoggerFactory.getInstance("io.netty.channel.test").warn("bound {} of {}", 1, 2);
            assertEquals(List.of("<4>netty: bound 1 of 2\n"), log.texts());
        }
    }

    /**
     * The bridge formats a System.Logger message itself and passes its arguments on too; a
     * literal {} that a peer put into its identity must not be filled a second time.
     */
    @Test
    void aSystemLoggerMessageIsFormattedOnce() {
        try (CapturedLines log = CapturedLines.open(LineFormat.HUMAN, true)) {
            System.getLogger("io.isthmus.ike").log(System.Logger.Level.INFO, "{0}: peer identity {1}", "to-b", "a{}b");
            org.slf4j.LoggerFactory.getLogger("io.isthmus.control").info("slf4j {} here", "formatted");
            assertEquals(List.of("<6>ike: to-b: peer identity a{}b\n", "<6>control: slf4j formatted here\n"), log.texts());
        }
    }

    private static ILoggingEvent only(CapturedLines log, String text) {
        List<ILoggingEvent> found = log.events().stream().filter(e -> e.getFormattedMessage().contains(text)).toList();
        assertEquals(1, found.size(), () -> "lines with '" + text + "': " + log.all());
        return found.getFirst();
    }

    /** The data plane's events go nowhere here: no IKE behind it. */
    private static final class NoEvents implements Dataplane.Events {
        @Override
        public void ikeMessage(byte[] buffer, int offset, int length, InetSocketAddress local, InetSocketAddress remote) {
        }

        @Override
        public void lifetime(int inboundSpi, boolean hard) {
        }
    }
}
