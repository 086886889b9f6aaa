package io.isthmus.dataplane.capture;

import java.util.Arrays;

/**
 * A {@link CaptureFilter} as the packet threads apply it: its sets as sorted arrays, so a packet
 * is looked at without boxing or allocating.
 */
final class CompiledFilter {
    private final CaptureFilter f;
    private final boolean outer;
    private final boolean inner;
    private final IpPrefix[] sources;
    private final IpPrefix[] destinations;
    private final int[] sourcePorts;
    private final int[] destinationPorts;
    private final int[] protocols;

    CompiledFilter(CaptureFilter f) {
        this.f = f;
        this.outer = f.layers() != CaptureFilter.Layers.INNER;
        this.inner = f.layers() != CaptureFilter.Layers.OUTER;
        this.sources = f.sources().toArray(IpPrefix[]::new);
        this.destinations = f.destinations().toArray(IpPrefix[]::new);
        this.sourcePorts = sorted(f.sourcePorts());
        this.destinationPorts = sorted(f.destinationPorts());
        this.protocols = sorted(f.protocols());
    }

    private static int[] sorted(java.util.Set<Integer> s) {
        int[] a = s.stream().mapToInt(Integer::intValue).toArray();
        Arrays.sort(a);
        return a;
    }

    /** Whether a packet of this layer, direction and tunnel (null: none known) is wanted at all, before its bytes are looked at. */
    boolean wants(boolean isOuter, boolean ingress, String tunnel) {
        if (isOuter ? !outer : !inner) {
            return false;
        }
        CaptureFilter.Direction d = f.direction();
        if (d == CaptureFilter.Direction.INGRESS && !ingress || d == CaptureFilter.Direction.EGRESS && ingress) {
            return false;
        }
        return f.connection() == null || f.connection().equals(tunnel);
    }

    /** Whether the IP packet at {@code p[off]} ({@code length} bytes) passes the address, port, protocol and flag filters. */
    boolean matches(byte[] p, int off, int length) {
        if (length < 20) {
            return false;
        }
        int version = (p[off] & 0xff) >> 4;
        int addressLength;
        int src;
        int protocol;
        int transport;
        if (version == 4) {
            addressLength = 4;
            src = off + 12;
            protocol = p[off + 9] & 0xff;
            int headerLength = (p[off] & 0x0f) * 4;
            boolean laterFragment = ((p[off + 6] & 0x1f) << 8 | p[off + 7] & 0xff) != 0;
            // A later fragment carries the middle of the payload, not its ports or flags (tcpdump's
            // "port" rule too); a header shorter than 20 bytes has no transport header to find.
            transport = laterFragment || headerLength < 20 ? -1 : off + headerLength;
        } else if (version == 6 && length >= 40) {
            addressLength = 16;
            src = off + 8;
            protocol = p[off + 6] & 0xff; // extension headers are not followed: ports and flags then do not match
            transport = off + 40;
        } else {
            return false;
        }
        if (sources.length > 0 && !any(sources, p, src, addressLength)) {
            return false;
        }
        if (destinations.length > 0 && !any(destinations, p, src + addressLength, addressLength)) {
            return false;
        }
        if (protocols.length > 0 && Arrays.binarySearch(protocols, protocol) < 0) {
            return false;
        }
        if (sourcePorts.length > 0 || destinationPorts.length > 0) {
            boolean ports = protocol == 6 || protocol == 17 || protocol == 132;
            if (!ports || transport < 0 || transport + 4 > off + length) {
                return false;
            }
            int sp = (p[transport] & 0xff) << 8 | p[transport + 1] & 0xff;
            int dp = (p[transport + 2] & 0xff) << 8 | p[transport + 3] & 0xff;
            if (sourcePorts.length > 0 && Arrays.binarySearch(sourcePorts, sp) < 0
                    || destinationPorts.length > 0 && Arrays.binarySearch(destinationPorts, dp) < 0) {
                return false;
            }
        }
        if (f.tcpFlags() != 0) {
            if (protocol != 6 || transport < 0 || transport + 14 > off + length) {
                return false;
            }
            return (p[transport + 13] & f.tcpFlags()) != 0;
        }
        return true;
    }

    private static boolean any(IpPrefix[] prefixes, byte[] p, int at, int length) {
        for (IpPrefix x : prefixes) {
            if (x.contains(p, at, length)) {
                return true;
            }
        }
        return false;
    }
}
