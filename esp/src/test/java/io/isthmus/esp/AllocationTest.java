package io.isthmus.esp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The packet path allocates nothing: counted by the JVM per thread, over many packets once the
 * thread's transforms exist. (Speed belongs to the JMH benchmark; this only guards the count.)
 */
class AllocationTest {
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    @ParameterizedTest
    @ValueSource(strings = {"aes128gcm16", "aes256gcm16", "chacha20poly1305", "aes128-sha256", "aes256-sha384", "aes256-sha512"})
    void sealAndOpenAllocateNothingPerPacket(String name) {
        Sas.Pair sas = Sas.pair(Sas.parameters(EspBenchmark.suite(name), 1).esn(true).build());
        byte[] packet = new byte[sas.out().headerLength() + 1400 + sas.out().suite().maxTrailerLength()];
        packet[sas.out().headerLength()] = 0x45;
        roundTrips(sas, packet, 20_000); // transforms made, code paths warmed
        int packets = 50_000;
        long before = THREADS.getCurrentThreadAllocatedBytes();
        roundTrips(sas, packet, packets);
        long allocated = THREADS.getCurrentThreadAllocatedBytes() - before;
        assertTrue(allocated < packets / 10, name + ": " + allocated + " bytes allocated for " + packets + " packets");
    }

    private static void roundTrips(Sas.Pair sas, byte[] packet, int count) {
        for (int i = 0; i < count; i++) {
            int length = sas.out().seal(packet, 0, 1400, EspPacket.NEXT_HEADER_IPV4);
            assertEquals(1400, sas.in().open(packet, 0, length));
        }
    }
}
