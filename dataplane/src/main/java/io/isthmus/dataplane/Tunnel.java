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
    private volatile Routes.Outbound[] outbound = new Routes.Outbound[0];

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

    Routes.Outbound choose(byte[] p, int off, int len) {
        Routes.Outbound[] routes = outbound;
        if (!policyBased) {
            return routes.length == 0 ? null : routes[0];
        }
        for (Routes.Outbound r : routes) {
            if (r.fits(p, off, len)) {
                return r;
            }
        }
        return null;
    }

    Routes.Outbound[] outbound() {
        return outbound;
    }

    /** Called under the data plane's update lock only. */
    void outbound(List<Routes.Outbound> newestFirst) {
        outbound = newestFirst.toArray(Routes.Outbound[]::new);
    }

    @Override
    public String toString() {
        return "tunnel " + name + (policyBased ? " (policy-based)" : " (route-based)");
    }
}
