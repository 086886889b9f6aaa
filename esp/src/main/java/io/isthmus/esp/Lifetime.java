package io.isthmus.esp;

/**
 * Volume limits of an SA (RFC 4301 §4.4.2.1): at the soft limit the owner is told to rekey, at the
 * hard limit the SA stops carrying traffic. Time limits belong to IKE, which has the clock.
 * {@link Long#MAX_VALUE} means no limit. Threads sharing an SA add to its totals in quanta (a
 * sixty-fourth of the soft limit, at most 64 KiB or 64 packets), so a limit is met to within one
 * quantum per thread: 64 KiB against Azure's default 102,400,000 KB.
 */
public record Lifetime(long softBytes, long hardBytes, long softPackets, long hardPackets) {
    public static final Lifetime UNLIMITED = new Lifetime(Long.MAX_VALUE, Long.MAX_VALUE, Long.MAX_VALUE, Long.MAX_VALUE);

    public Lifetime {
        if (softBytes <= 0 || hardBytes <= 0 || softPackets <= 0 || hardPackets <= 0) {
            throw new IllegalArgumentException("lifetime limits must be positive: " + describe(softBytes, hardBytes, softPackets, hardPackets));
        }
        if (softBytes > hardBytes || softPackets > hardPackets) {
            throw new IllegalArgumentException("soft lifetime above hard lifetime: " + describe(softBytes, hardBytes, softPackets, hardPackets));
        }
    }

    public static Lifetime ofBytes(long soft, long hard) {
        return new Lifetime(soft, hard, Long.MAX_VALUE, Long.MAX_VALUE);
    }

    public static Lifetime ofPackets(long soft, long hard) {
        return new Lifetime(Long.MAX_VALUE, Long.MAX_VALUE, soft, hard);
    }

    @Override
    public String toString() {
        return describe(softBytes, hardBytes, softPackets, hardPackets);
    }

    private static String describe(long softBytes, long hardBytes, long softPackets, long hardPackets) {
        return "bytes " + limit(softBytes) + "/" + limit(hardBytes) + ", packets " + limit(softPackets) + "/" + limit(hardPackets);
    }

    private static String limit(long value) {
        return value == Long.MAX_VALUE ? "unlimited" : Long.toString(value);
    }
}
