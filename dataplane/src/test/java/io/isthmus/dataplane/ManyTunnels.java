package io.isthmus.dataplane;

import io.isthmus.dataplane.conn.EspPort;
import io.isthmus.dataplane.linux.PacketBuffer;
import io.isthmus.esp.CipherSuite;
import io.isthmus.esp.Lifetime;
import io.isthmus.esp.SaParameters;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A data plane of {@code n} route-based tunnels, each with its own /24 (10.x.y.0/24 for tunnel
 * 256x + y), peer and installed child SA (AES-GCM-128, random keys, SPIs spread as IKE picks
 * them): what {@link ForwardingBenchmark} forwards through, and what its tests check the tables
 * of.
 */
final class ManyTunnels {
    final Dataplane dataplane;
    final int n;
    /** Inbound SPI of tunnel i's SA. */
    final int[] inboundSpis;

    ManyTunnels(int n, long seed) {
        this.n = n;
        this.dataplane = Dataplane.withoutIo(new Dataplane.Settings("bench0", List.of(), 4500, true, 1500, 1350, 1 << 20), new Dataplane.Events() {
            @Override
            public void ikeMessage(byte[] buffer, int offset, int length, InetSocketAddress local, InetSocketAddress remote) {
            }

            @Override
            public void lifetime(int inboundSpi, boolean hard) {
            }
        });
        List<Dataplane.TunnelSpec> specs = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            specs.add(new Dataplane.TunnelSpec(name(i), false, List.of(prefix(i))));
        }
        dataplane.tunnels(specs);
        SplittableRandom random = new SplittableRandom(seed);
        inboundSpis = new int[n];
        InetSocketAddress local = new InetSocketAddress(address(0xC6120001), 0);
        for (int i = 0; i < n; i++) {
            int in;
            do {
                in = random.nextInt() | 0x100;
            } while (dataplane.snapshot().inbound(in) != null);
            inboundSpis[i] = in;
            byte[] kin = new byte[20];
            byte[] kout = new byte[20];
            random.nextBytes(kin);
            random.nextBytes(kout);
            dataplane.install(new SaPair(name(i), sa(in, kin), sa(random.nextInt() | 0x100, kout), List.of(Selector.any(4), Selector.any(6)),
                    List.of(Selector.any(4), Selector.any(6)), local, new InetSocketAddress(address(0x64400001 + i), 0), false));
        }
    }

    static String name(int i) {
        return "conn-" + i;
    }

    static String prefix(int i) {
        return "10." + (i >>> 8 & 255) + "." + (i & 255) + ".0/24";
    }

    /** An address in tunnel i's prefix. */
    static String host(int i) {
        return "10." + (i >>> 8 & 255) + "." + (i & 255) + ".7";
    }

    private static SaParameters sa(int spi, byte[] key) {
        return SaParameters.builder(spi, CipherSuite.AES128_GCM16).encryptionKey(key).lifetime(Lifetime.UNLIMITED).build();
    }

    private static InetAddress address(int a) {
        try {
            return InetAddress.getByAddress(new byte[] {(byte) (a >>> 24), (byte) (a >>> 16), (byte) (a >>> 8), (byte) a});
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Where the benchmark's ESP goes: nowhere, counted. */
    static final class Discard implements EspPort.Sender {
        long datagrams;

        @Override
        public int send(EspPort.Endpoint to, PacketBuffer b, int offset, int length, int segmentSize) {
            int n = (length + segmentSize - 1) / segmentSize;
            datagrams += n;
            return n;
        }
    }
}
