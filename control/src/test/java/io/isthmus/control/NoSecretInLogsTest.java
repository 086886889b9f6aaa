package io.isthmus.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import io.isthmus.control.config.ConfigReader;
import io.isthmus.control.config.GatewayConfig;
import io.isthmus.control.log.CapturedLines;
import io.isthmus.control.log.LineFormat;
import io.isthmus.control.log.LogLevel;
import io.isthmus.control.log.LogOutput;
import io.isthmus.control.log.LoggingSettings;
import io.isthmus.control.log.Subsystem;
import io.isthmus.dataplane.Dataplane;
import io.isthmus.dataplane.conn.InMemoryEspPort;
import io.isthmus.dataplane.tun.InMemoryTun;
import io.isthmus.esp.SaParameters;
import io.isthmus.ike.ChildSaDescription;
import io.isthmus.ike.ChildSaKeys;
import io.isthmus.ike.ChildSaListener;
import io.isthmus.ike.IkeSa;
import io.isthmus.ike.InMemoryNetwork;
import io.isthmus.ike.InboundDatagrams;
import io.isthmus.ike.ManualScheduler;
import io.isthmus.ike.crypto.IkeSaKeys;
import io.isthmus.ike.engine.IkeEngine;
import java.lang.reflect.Method;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * No secret reaches the log at any level: two gateways, configured from YAML with a shared key
 * and wired as the daemon wires them (IKE, the bridge, the whole data plane over memory), set up
 * a tunnel, carry packets, rekey the child SA and the IKE SA, probe liveness, drop junk, and
 * delete it all, with every logger of the process at trace. Every line, written in each of the
 * three formats, is searched for the shared key and for every key IKE derived (SK_d, SK_a, SK_e,
 * SK_p of each IKE SA, the ESP keys of each child SA), as text, hex, Base64 and Java's array
 * text, whole and in 8-byte pieces.
 */
class NoSecretInLogsTest {
    /** Nothing a log line would hold by chance ("a secret shared key" would: "pre-shared key" is in every IKE_AUTH line). */
    static final String PSK = "Qx7vR2tLp9wZ4mN8kB3jH6";
    static final InetAddress A = InetAddress.ofLiteral("10.0.0.1");
    static final InetAddress B = InetAddress.ofLiteral("10.0.0.2");

    static String config(String me, String peer, String mine, String theirs) {
        return """
                virtualNetworkGateway:
                  name: gw-%1$s
                  vpnType: RouteBased
                  sku: VpnGw1
                  instances:
                    - publicIpAddress: %1$s
                localNetworkGateways:
                  - name: site
                    gatewayIpAddress: %2$s
                    addressPrefixes: [%4$s]
                connections:
                  - name: to-site
                    localNetworkGateway: site
                    sharedKey: "%5$s"
                    ipsecPolicies:
                      - ikeEncryption: GCMAES256
                        ikeIntegrity: SHA384
                        dhGroup: ECP384
                        ipsecEncryption: GCMAES256
                        ipsecIntegrity: GCMAES256
                        pfsGroup: ECP256
                logging:
                  levels: {ike: trace, esp: trace, dataplane: trace, config: trace, control: trace, netty: trace}
                """.formatted(me, peer, mine, theirs, PSK);
    }

    final ManualScheduler clock = new ManualScheduler();
    final InMemoryNetwork network = new InMemoryNetwork();
    /** Copies of every secret, taken while they were live. */
    final List<byte[]> secrets = new ArrayList<>(List.of(PSK.getBytes(StandardCharsets.US_ASCII)));

    /** One gateway as the daemon wires it, its connection from its configuration file. */
    final class Side {
        final GatewayConfig config;
        final IkeEngine engine;
        final Dataplane dataplane;
        final InMemoryEspPort esp = new InMemoryEspPort();
        final InMemoryTun tun = new InMemoryTun(false, false, (bytes, offset, length) -> { });

        Side(InetAddress me, InetAddress peer, String mine, String theirs) throws Exception {
            config = ConfigReader.parse(Path.of("gw.yaml"), config(me.getHostAddress(), peer.getHostAddress(), mine, theirs), name -> null);
            InboundDatagrams port4500 = new InboundDatagrams(16, Runnable::run, (d, l, r) -> { });
            ChildSaBridge bridge = new ChildSaBridge(Runnable::run, clock, port4500);
            engine = new IkeEngine(network.transport(), clock, new KeyRecorder(bridge));
            dataplane = Dataplane.overMemory(new Dataplane.Settings("test0", List.of(me), 4500, true, 1500, 1350, 1 << 20), bridge, tun, esp);
            bridge.connect(engine, dataplane);
            dataplane.tunnels(List.of(new Dataplane.TunnelSpec("to-site", false, List.of(theirs))));
            GatewayConfig.Connection c = config.connections().getFirst();
            engine.addConnection(IkeConnections.of(config, config.instance(null), c));
            network.attach(me, engine);
        }

        void drain() {
            while (dataplane.runDutyCycle() > 0) {
                // each cycle reads a burst per port
            }
        }

        /** Sends a packet from this side's site through the tunnel; the other side opens it. */
        void sendTo(Side other, byte[] packet) {
            tun.offer(packet);
            drain();
            for (InMemoryEspPort.Datagram d; (d = esp.sent().poll()) != null; ) {
                other.esp.deliver(new InMemoryEspPort.Datagram(d.remote(), d.local(), d.udp(), d.bytes()));
            }
            other.drain();
        }

        /** A copy of the keys of each IKE SA this side holds now (they are wiped when it goes). */
        void recordIkeKeys() throws Exception {
            Method keys = IkeSa.class.getDeclaredMethod("keys");
            keys.setAccessible(true); // IKE keeps its keys to itself: only this test looks
            for (IkeSa sa : engine.ikeSas()) {
                IkeSaKeys k = (IkeSaKeys) keys.invoke(sa);
                for (byte[] key : List.of(k.skD(), k.skAi(), k.skAr(), k.skEi(), k.skEr(), k.skPi(), k.skPr())) {
                    if (key != null && key.length > 0) {
                        secrets.add(key.clone());
                    }
                }
            }
        }
    }

    /** Copies each child SA's keys before the bridge consumes (and wipes) them. */
    final class KeyRecorder implements ChildSaListener {
        private final ChildSaListener next;

        KeyRecorder(ChildSaListener next) {
            this.next = next;
        }

        private void record(ChildSaKeys keys) {
            for (SaParameters p : List.of(keys.inbound(), keys.outbound())) {
                for (byte[] key : new byte[][] {p.encryptionKey(), p.integrityKey()}) {
                    if (key != null && key.length > 0) {
                        secrets.add(key.clone());
                    }
                }
            }
        }

        @Override
        public void installed(ChildSaDescription sa, ChildSaKeys keys) {
            record(keys);
            next.installed(sa, keys);
        }

        @Override
        public void rekeyed(ChildSaDescription old, ChildSaDescription replacement, ChildSaKeys keys, boolean outboundNow) {
            record(keys);
            next.rekeyed(old, replacement, keys, outboundNow);
        }

        @Override
        public void deleted(ChildSaDescription sa) {
            next.deleted(sa);
        }
    }

    @Test
    void noSecretInAnyLineWithEveryLoggerAtTrace() throws Exception {
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        ch.qos.logback.classic.Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        Level rootLevel = root.getLevel();
        List<CapturedLines> formats = new ArrayList<>();
        List<ILoggingEvent> events;
        try {
            root.setLevel(Level.TRACE); // every logger of the process, the JDK's and Netty's too
            formats.add(CapturedLines.open(LineFormat.HUMAN, false));
            formats.add(CapturedLines.open(LineFormat.HUMAN, true));
            formats.add(CapturedLines.open(LineFormat.JSON, false));
            Side a = new Side(A, B, "192.168.10.0/24", "192.168.20.0/24");
            Side b = new Side(B, A, "192.168.20.0/24", "192.168.10.0/24");
            LogOutput.process().apply(a.config.logging()); // as gateway run applies its file's logging section
            assertEquals(LogLevel.TRACE, LogOutput.process().level(Subsystem.IKE));

            IkeSa sa = a.engine.initiate("to-site", new InetSocketAddress(A, 500), new InetSocketAddress(B, 500));
            network.deliverAll(clock);
            a.recordIkeKeys();
            a.sendTo(b, ChildSaBridgeTest.udp("192.168.10.5", "192.168.20.7", 1));
            b.sendTo(a, ChildSaBridgeTest.udp("192.168.20.7", "192.168.10.5", 2));
            sa.rekeyChild(sa.childSas().getFirst().inbound().spi());
            network.deliverAll(clock);
            sa.rekey();
            network.deliverAll(clock);
            a.recordIkeKeys();
            a.sendTo(b, ChildSaBridgeTest.udp("192.168.10.5", "192.168.20.7", 3));
            network.run(clock, Duration.ofMinutes(2), Duration.ofSeconds(1)); // idle: liveness checks
            byte[] junk = new byte[64];
            Arrays.fill(junk, (byte) 0x5A);
            b.engine.receive(junk, 0, junk.length, new InetSocketAddress(B, 500), new InetSocketAddress(A, 500));
            a.engine.ikeSas().forEach(IkeSa::delete);
            network.deliverAll(clock);
            a.dataplane.close();
            b.dataplane.close();
            events = formats.getFirst().events();
        } finally {
            formats.forEach(CapturedLines::close);
            root.setLevel(rootLevel);
            LogOutput.process().apply(LoggingSettings.DEFAULT);
        }

        long debug = events.stream().filter(e -> e.getLevel() == Level.DEBUG).count();
        assertTrue(events.size() >= 30, "a whole tunnel's life logs more than " + events.size() + " lines");
        assertTrue(debug >= 10, "debug lines were written: " + debug);
        assertTrue(events.stream().anyMatch(e -> e.getLoggerName().startsWith("io.isthmus.dataplane")), "the data plane logged too");
        assertTrue(events.stream().anyMatch(e -> e.getFormattedMessage().contains("dropping malformed IKE message")), "the junk was logged");
        // AES-GCM throughout: five keys per IKE SA (no SK_a), one per direction per child SA, each side's copy recorded.
        assertEquals(1 + 2 * 5 + 2 * 2 * 2, secrets.size(), "the shared key, two IKE SAs' keys, two child SAs' keys at each end");
        for (CapturedLines format : formats) {
            String text = format.all();
            for (byte[] secret : secrets) {
                assertFalse(leaks(text, secret), () -> "a secret is in the log: " + HexFormat.of().formatHex(secret, 0, 4) + "...");
            }
        }
        // And the search would see one, were it there.
        byte[] key = secrets.get(3);
        assertTrue(leaks("SK_ei " + HexFormat.of().formatHex(key, 2, 10), key));
        assertTrue(leaks("key " + Base64.getEncoder().encodeToString(key), key));
        assertTrue(leaks("psk=" + PSK.substring(5, 13), secrets.getFirst()));
    }

    /** The secret, or any 8-byte piece of it, as text, hex (either case), Base64 or Arrays.toString. */
    static boolean leaks(String log, byte[] secret) {
        String lower = log.toLowerCase();
        for (int from = 0; from + 8 <= secret.length; from++) {
            byte[] piece = Arrays.copyOfRange(secret, from, from + 8);
            if (lower.contains(HexFormat.of().formatHex(piece)) || log.contains(new String(piece, StandardCharsets.ISO_8859_1))
                    || log.contains(Arrays.toString(piece).replace("[", "").replace("]", ""))) {
                return true;
            }
        }
        return log.contains(Base64.getEncoder().encodeToString(secret)) || log.contains(Base64.getEncoder().withoutPadding().encodeToString(secret))
                || log.contains(Base64.getEncoder().encodeToString(Arrays.copyOfRange(secret, 0, Math.min(12, secret.length))));
    }
}
