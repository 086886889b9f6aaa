package io.isthmus.control.ha;

import io.isthmus.dataplane.SaPair;
import io.isthmus.dataplane.Selector;
import io.isthmus.ike.ChildSaDescription;
import io.isthmus.ike.ChildSaKeys;
import io.isthmus.ike.message.TrafficSelector;
import java.util.List;

/** A child SA as the data plane installs it: from IKE's description and its keys, made anew or taken over. */
public final class SaPairs {
    private SaPairs() {
    }

    public static SaPair of(ChildSaDescription d, ChildSaKeys keys) {
        return new SaPair(d.connection(), keys.inbound(), keys.outbound(), selectors(d.localSelectors()), selectors(d.remoteSelectors()),
                d.localAddress(), d.remoteAddress(), d.udpEncapsulation());
    }

    /** As {@link #of(ChildSaDescription, ChildSaKeys)}, in tunnel {@code tunnel} (a remote-access client's own). */
    public static SaPair of(ChildSaDescription d, ChildSaKeys keys, String tunnel) {
        return new SaPair(tunnel, keys.inbound(), keys.outbound(), selectors(d.localSelectors()), selectors(d.remoteSelectors()),
                d.localAddress(), d.remoteAddress(), d.udpEncapsulation());
    }

    public static List<Selector> selectors(List<TrafficSelector> ts) {
        return ts.stream().map(t -> new Selector(t.startAddress(), t.endAddress(), t.ipProtocol(), t.startPort(), t.endPort())).toList();
    }
}
