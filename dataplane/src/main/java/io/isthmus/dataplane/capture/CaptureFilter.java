package io.isthmus.dataplane.capture;

import java.time.Duration;
import java.util.List;
import java.util.Set;

/**
 * What a capture keeps, in Azure's terms (its packet capture's filter): one connection or the
 * whole gateway; outer packets (IKE and ESP as on the wire), inner packets (what the tunnel
 * carries), or both; one direction only, or both (ingress: from the peer, egress: towards it, as
 * the tunnel metrics count); and of the packets themselves (the outer packet's addresses for an
 * outer one, the inner packet's for an inner one), source and destination prefixes, ports,
 * protocols and TCP flags (any of them set). Each packet is cut to {@code snapLength} bytes; the
 * capture ends after {@code maxBytes} of file or {@code duration}, whichever comes first.
 *
 * @param connection a connection's name, or null for every one (and outer packets no connection can be named for)
 * @param tcpFlags   TCP flags (FIN 1, SYN 2, RST 4, PSH 8, ACK 16, URG 32): a TCP packet is kept if it has any; 0 for any TCP packet
 */
public record CaptureFilter(String connection, Layers layers, Direction direction, List<IpPrefix> sources, List<IpPrefix> destinations,
                            Set<Integer> sourcePorts, Set<Integer> destinationPorts, Set<Integer> protocols, int tcpFlags, int snapLength,
                            long maxBytes, Duration duration) {
    public static final int DEFAULT_SNAP_LENGTH = 65_535;
    public static final long DEFAULT_MAX_BYTES = 100L << 20;
    public static final Duration DEFAULT_DURATION = Duration.ofMinutes(5);
    /** Azure's limits: a capture of at most an hour; here also at most 1 GB of file. */
    public static final Duration MAX_DURATION = Duration.ofHours(1);
    public static final long MAX_BYTES = 1L << 30;

    public enum Layers {
        OUTER, INNER, BOTH;

        boolean outer() {
            return this != INNER;
        }

        boolean inner() {
            return this != OUTER;
        }
    }

    public enum Direction { BOTH, INGRESS, EGRESS }

    public CaptureFilter {
        sources = List.copyOf(sources);
        destinations = List.copyOf(destinations);
        sourcePorts = Set.copyOf(sourcePorts);
        destinationPorts = Set.copyOf(destinationPorts);
        protocols = Set.copyOf(protocols);
        if (snapLength < 64 || snapLength > 65_535) {
            throw new IllegalArgumentException("snapLength: 64 to 65535 bytes, not " + snapLength);
        }
        if (maxBytes < 4096 || maxBytes > MAX_BYTES) {
            throw new IllegalArgumentException("maxBytes: 4096 to " + MAX_BYTES + ", not " + maxBytes);
        }
        if (duration.isNegative() || duration.isZero() || duration.compareTo(MAX_DURATION) > 0) {
            throw new IllegalArgumentException("duration: more than 0 s and at most " + MAX_DURATION.toMinutes() + " minutes, not " + duration.toSeconds() + " s");
        }
        if (tcpFlags < 0 || tcpFlags > 0xff) {
            throw new IllegalArgumentException("tcpFlags: a mask of TCP flags, 0 to 255, not " + tcpFlags);
        }
        for (int port : sourcePorts) {
            checkPort(port);
        }
        for (int port : destinationPorts) {
            checkPort(port);
        }
        for (int p : protocols) {
            if (p < 0 || p > 255) {
                throw new IllegalArgumentException("protocol: 0 to 255, not " + p);
            }
        }
    }

    /** Everything of every connection, both layers and directions, whole packets, the default size and duration. */
    public static CaptureFilter everything() {
        return new CaptureFilter(null, Layers.BOTH, Direction.BOTH, List.of(), List.of(), Set.of(), Set.of(), Set.of(), 0, DEFAULT_SNAP_LENGTH,
                DEFAULT_MAX_BYTES, DEFAULT_DURATION);
    }

    private static void checkPort(int port) {
        if (port < 0 || port > 65_535) {
            throw new IllegalArgumentException("port: 0 to 65535, not " + port);
        }
    }
}
