package io.isthmus.dataplane;

import java.util.List;

/**
 * One connection in the data plane: its counters and the outbound halves of its child SAs,
 * newest first. A route-based tunnel sends everything through the newest (after a rekey that is
 * the replacement, make-before-break); a policy-based one through the newest whose selectors
 * hold the packet.
 */
public final class Tunnel {
    private final String name;
    private final boolean policyBased;
    private final Counters counters;
    private volatile InstalledSa.Outbound[] outbound = new InstalledSa.Outbound[0];

    Tunnel(String name, boolean policyBased, Counters counters) {
        this.name = name;
        this.policyBased = policyBased;
        this.counters = counters;
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

    InstalledSa.Outbound choose(byte[] p, int off, int len) {
        InstalledSa.Outbound[] routes = outbound;
        if (!policyBased) {
            return routes.length == 0 ? null : routes[0];
        }
        for (InstalledSa.Outbound r : routes) {
            if (r.fits(p, off, len)) {
                return r;
            }
        }
        return null;
    }

    InstalledSa.Outbound[] outbound() {
        return outbound;
    }

    /** Called under the data plane's update lock only. */
    void outbound(List<InstalledSa.Outbound> newestFirst) {
        outbound = newestFirst.toArray(InstalledSa.Outbound[]::new);
    }

    @Override
    public String toString() {
        return "tunnel " + name + (policyBased ? " (policy-based)" : " (route-based)");
    }
}
