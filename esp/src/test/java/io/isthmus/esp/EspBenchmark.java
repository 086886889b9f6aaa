package io.isthmus.esp;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Seal and open through the public SA API, one packet per operation, on SAs shared by all
 * benchmark threads (run with -t 2 for two threads on one SA). Run through
 * {@link EspBenchmarkReport}, which adds the JDK ceiling and the table.
 *
 * <p>{@code open} needs a fresh sequence number per packet, and a finite pool of sealed packets
 * would soon be all replays: each thread opens its own pool on its own inbound SA and rewinds
 * that SA's window when the pool wraps. {@code sealOpen} opens on one SA shared by all threads,
 * whose window (4096 packets) absorbs the reordering between them; a thread descheduled for
 * longer than that finds its packet below the window, as a real receiver would, so up to one
 * such drop in a thousand is tolerated and reported. Every iteration ends by checking that no
 * packet failed otherwise, so a fast failure path cannot pass for speed.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class EspBenchmark {
    static final int SPI = 0x0badcafe;
    /** Sealed packets each thread cycles through: few enough to stay in cache, as a packet just received would be. */
    static final int POOL = 64;

    @Param({"aes128gcm16", "aes256gcm16", "chacha20poly1305", "aes128-sha256", "aes256-sha512"})
    public String suite;

    @Param({"64", "512", "1400", "9000"})
    public int size;

    SaParameters parameters;
    OutboundSa outbound;
    InboundSa inbound;
    /** As {@link #outbound}, under a sequence lease (a gateway pair's SA) that lasts the run. */
    OutboundSa leased;
    /** A clock read as the data plane reads it, once per batch: here once per iteration. */
    long batchClock;

    @Setup
    public void createSas() {
        parameters = parameters(suite(suite));
        outbound = new OutboundSa(parameters, SaListener.NONE);
        inbound = new InboundSa(parameters, SaListener.NONE);
        leased = new OutboundSa(parameters, SaListener.NONE);
        leased.lease(-1L, System.nanoTime() + TimeUnit.HOURS.toNanos(1));
    }

    @Setup(Level.Iteration)
    public void readTheClock() {
        batchClock = System.nanoTime();
    }

    @TearDown(Level.Iteration)
    public void checkNothingRefused() {
        for (DropReason reason : DropReason.values()) {
            long drops = inbound.drops(reason);
            boolean tolerated = reason == DropReason.OUTSIDE_WINDOW && drops * 1000 <= inbound.packets();
            if (drops != 0 && !tolerated) {
                throw new IllegalStateException(suite + " " + size + ": " + drops + " packets dropped as " + reason
                        + " (" + inbound.packets() + " delivered)");
            }
            if (drops != 0) {
                System.out.println("  (" + drops + " of " + inbound.packets() + " packets arrived below the replay window)");
            }
        }
    }

    @State(Scope.Thread)
    public static class ThreadPackets {
        byte[] packet;
        int innerOffset;
        byte[][] pool;
        int poolLength;
        InboundSa poolInbound;
        int next;
        int failures;

        @Setup
        public void create(EspBenchmark b) {
            CipherSuite suite = b.outbound.suite();
            packet = new byte[b.size + suite.headerLength() + suite.maxTrailerLength()];
            innerOffset = suite.headerLength();
            for (int i = innerOffset; i < innerOffset + b.size; i++) {
                packet[i] = (byte) i;
            }
            OutboundSa sealer = new OutboundSa(b.parameters, SaListener.NONE);
            pool = new byte[POOL][];
            for (int i = 0; i < POOL; i++) {
                pool[i] = packet.clone();
                poolLength = sealer.seal(pool[i], 0, b.size, EspPacket.NEXT_HEADER_IPV4);
            }
            poolInbound = new InboundSa(b.parameters, SaListener.NONE);
        }

        @TearDown(Level.Iteration)
        public void check() {
            if (failures != 0) {
                throw new IllegalStateException(failures + " operations failed");
            }
        }
    }

    @Benchmark
    public int seal(ThreadPackets t) {
        int n = outbound.seal(t.packet, 0, size, EspPacket.NEXT_HEADER_IPV4);
        if (n < 0) {
            t.failures++;
        }
        return n;
    }

    /** {@link #seal} on a leased SA, its deadline checked against a clock read per packet. */
    @Benchmark
    public int sealLeased(ThreadPackets t) {
        int n = leased.seal(t.packet, 0, size, EspPacket.NEXT_HEADER_IPV4);
        if (n < 0) {
            t.failures++;
        }
        return n;
    }

    /** {@link #seal} on a leased SA, its deadline checked against a clock the caller read once for a batch, as the data plane does. */
    @Benchmark
    public int sealLeasedBatchClock(ThreadPackets t) {
        int n = leased.seal(t.packet, 0, size, EspPacket.NEXT_HEADER_IPV4, batchClock);
        if (n < 0) {
            t.failures++;
        }
        return n;
    }

    /** What reading the clock costs on its own, for the two above. */
    @Benchmark
    public long nanoTime() {
        return System.nanoTime();
    }

    @Benchmark
    public int open(ThreadPackets t) {
        System.arraycopy(t.pool[t.next], 0, t.packet, 0, t.poolLength);
        int n = t.poolInbound.open(t.packet, 0, t.poolLength);
        if (n < 0) {
            t.failures++;
        }
        if (++t.next == POOL) {
            t.next = 0;
            t.poolInbound.replayWindow().reset(0);
        }
        return n;
    }

    @Benchmark
    public int sealOpen(ThreadPackets t) {
        int n = outbound.seal(t.packet, 0, size, EspPacket.NEXT_HEADER_IPV4);
        int inner = inbound.open(t.packet, 0, n);
        if (inner != size && inner != DropReason.OUTSIDE_WINDOW.code()) { // late ones: see the class comment
            t.failures++;
        }
        return inner;
    }

    static CipherSuite suite(String name) {
        return switch (name) {
            case "aes128gcm16" -> CipherSuite.AES128_GCM16;
            case "aes256gcm16" -> CipherSuite.AES256_GCM16;
            case "chacha20poly1305" -> CipherSuite.CHACHA20_POLY1305;
            case "aes128-sha256" -> CipherSuite.AES128_SHA256;
            case "aes256-sha256" -> CipherSuite.AES256_SHA256;
            case "aes256-sha384" -> CipherSuite.AES256_SHA384;
            case "aes256-sha512" -> CipherSuite.AES256_SHA512;
            default -> throw new IllegalArgumentException("unknown suite " + name);
        };
    }

    static SaParameters parameters(CipherSuite suite) {
        byte[] key = new byte[suite.encryptionKeyLength()];
        byte[] integrity = new byte[suite.integrityKeyLength()];
        for (int i = 0; i < key.length; i++) {
            key[i] = (byte) (i * 7 + 1);
        }
        for (int i = 0; i < integrity.length; i++) {
            integrity[i] = (byte) (i * 13 + 5);
        }
        return SaParameters.builder(SPI, suite).encryptionKey(key).integrityKey(integrity).replayWindow(4096).build();
    }
}
