package io.isthmus.dataplane;

import io.isthmus.esp.SaParameters;
import java.net.InetSocketAddress;
import java.util.List;

/**
 * A child SA as the control plane hands it to the data plane: both directions, the selectors
 * agreed for each side, the outer addresses and whether ESP goes in UDP (RFC 3948).
 *
 * <p>Its {@link SaParameters} travel once: {@link Dataplane#install} builds its SAs from them and
 * wipes them; the pair keeps only their SPIs and suites for bookkeeping.
 *
 * @param local our address; with UDP encapsulation its port is the one to send from (4500)
 * @param remote the peer's address; with UDP encapsulation, its port (after a NAT, not 4500)
 */
public record SaPair(String tunnel, SaParameters inbound, SaParameters outbound, List<Selector> localSelectors,
                     List<Selector> remoteSelectors, InetSocketAddress local, InetSocketAddress remote, boolean udpEncapsulation) {
    public SaPair {
        localSelectors = List.copyOf(localSelectors);
        remoteSelectors = List.copyOf(remoteSelectors);
    }
}
