package io.isthmus.dataplane;

/**
 * One connection in the data plane: its name, whether it is policy-based, and its counters,
 * which outlive changes to its prefixes. Its SAs are in the {@link ForwardingSnapshot}, under
 * this tunnel's {@link #slot()}.
 */
public final class Tunnel {
    private final String name;
    private final boolean policyBased;
    private final Counters counters;
    private final int slot;

    Tunnel(String name, boolean policyBased, Counters counters, int slot) {
        this.name = name;
        this.policyBased = policyBased;
        this.counters = counters;
        this.slot = slot;
    }

    public String name() {
        return name;
    }

    public boolean policyBased() {
        return policyBased;
    }

    public Counters counters() {
        return counters;
    }

    /** Where the snapshot keeps this tunnel's outbound SAs; no two tunnels of one table share it. */
    int slot() {
        return slot;
    }

    @Override
    public String toString() {
        return "tunnel " + name + (policyBased ? " (policy-based)" : " (route-based)");
    }
}
