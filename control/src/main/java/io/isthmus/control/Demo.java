package io.isthmus.control;

import io.isthmus.esp.CipherSuite;
import io.isthmus.esp.DropReason;
import io.isthmus.esp.EspPacket;
import io.isthmus.esp.InboundSa;
import io.isthmus.esp.OutboundSa;
import io.isthmus.esp.SaListener;
import io.isthmus.esp.SaParameters;
import java.io.PrintStream;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/**
 * {@code isthmus demo}. The full demo, two gateways in network namespaces carrying pings and
 * iperf3, needs the data plane and IKE (issues 3 and 4). Until then it shows, in one process,
 * the ESP engine every packet will pass through.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Show Isthmus carrying traffic (today: the ESP engine, in process).")
final class Demo implements Callable<Integer> {
    private static final int PACKETS = 100_000;

    @Override
    public Integer call() {
        PrintStream out = System.out;
        out.println("""
                Isthmus demo
                The two-gateway demo (network namespaces, IKEv2, TUN, ping and iperf3) is not built yet:
                it arrives with the IKE engine and the data plane. This run shows the ESP engine instead.
                """);
        for (CipherSuite suite : new CipherSuite[] {CipherSuite.AES128_GCM16, CipherSuite.CHACHA20_POLY1305, CipherSuite.AES256_SHA256}) {
            run(out, suite);
        }
        return 0;
    }

    private static void run(PrintStream out, CipherSuite suite) {
        SecureRandom random = new SecureRandom();
        byte[] key = new byte[suite.encryptionKeyLength()];
        byte[] integrity = new byte[suite.integrityKeyLength()];
        random.nextBytes(key);
        random.nextBytes(integrity);
        int spi = random.nextInt() | 0x100;
        SaParameters parameters = SaParameters.builder(spi, suite).encryptionKey(key).integrityKey(integrity).build();
        OutboundSa sender = new OutboundSa(parameters, SaListener.NONE);
        InboundSa receiver = new InboundSa(parameters, SaListener.NONE);
        parameters.destroy();

        byte[] packet = new byte[sender.headerLength() + 1400 + suite.maxTrailerLength()];
        int inner = sender.headerLength();
        packet[inner] = 0x45;
        long start = System.nanoTime();
        int length = 0;
        for (int i = 0; i < PACKETS; i++) {
            packet[inner] = 0x45;
            length = sender.seal(packet, 0, 1400, EspPacket.NEXT_HEADER_IPV4);
            if (receiver.open(packet, 0, length) != 1400) {
                throw new IllegalStateException("round trip failed");
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;

        packet[inner] = 0x45;
        length = sender.seal(packet, 0, 1400, EspPacket.NEXT_HEADER_IPV4);
        byte[] replay = packet.clone();
        receiver.open(packet, 0, length);
        int replayed = receiver.open(replay, 0, length);
        packet[inner] = 0x45;
        length = sender.seal(packet, 0, 1400, EspPacket.NEXT_HEADER_IPV4);
        packet[length / 2] ^= 0x10;
        int tampered = receiver.open(packet, 0, length);

        out.printf("%-18s %s%n", suite, suite.implementation());
        out.printf("%-18s SPI 0x%s: %,d packets of 1400 bytes sealed, then opened, on one core in %.2f s"
                        + " (%.1f Gbit/s, JIT warm-up included; see the JMH benchmark for real figures)%n",
                "", HexFormat.of().toHexDigits(spi), PACKETS, seconds, PACKETS * 1400 * 8 / seconds / 1e9);
        out.printf("%-18s a replayed packet: %s; a packet with one bit flipped: %s%n", "",
                DropReason.fromCode(replayed), DropReason.fromCode(tampered));
        sender.destroy();
        receiver.destroy();
    }
}
