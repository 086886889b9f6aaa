package io.isthmus.ike;

import io.isthmus.esp.SaParameters;
import io.isthmus.ike.message.TrafficSelector;
import java.net.InetSocketAddress;
import java.util.HexFormat;
import java.util.List;

/**
 * A negotiated child SA as the data plane needs it: both ESP directions (SPIs, suite, keys, ESN,
 * lifetimes, all in {@link SaParameters}), the traffic selectors agreed for each side, the
 * addresses packets go between and whether ESP is UDP-encapsulated (RFC 3948) because of NAT.
 * The time lifetime is IKE's to enforce (it rekeys before it ends); the byte and packet
 * lifetimes in {@link SaParameters} are the data plane's, which reports them to
 * {@link io.isthmus.ike.engine.IkeEngine#rekeyChild} and {@link io.isthmus.ike.engine.IkeEngine#expireChild}.
 */
public record ChildSaDescription(String connection, SaParameters inbound, SaParameters outbound,
                                 List<TrafficSelector> localSelectors, List<TrafficSelector> remoteSelectors,
                                 InetSocketAddress localAddress, InetSocketAddress remoteAddress, boolean udpEncapsulation) {

    public ChildSaDescription {
        localSelectors = List.copyOf(localSelectors);
        remoteSelectors = List.copyOf(remoteSelectors);
    }

    /** As strongSwan's log: "c{1} SPIs c1a2b3c4_i c5d6e7f8_o, 192.168.10.0/24 === 192.168.20.0/24". */
    @Override
    public String toString() {
        HexFormat hex = HexFormat.of();
        return connection + " SPIs " + hex.toHexDigits(inbound.spi()) + "_i " + hex.toHexDigits(outbound.spi()) + "_o "
                + inbound.suite() + (inbound.esn() ? " ESN" : "") + (udpEncapsulation ? " UDP-encapsulated" : "")
                + ", " + localSelectors + " === " + remoteSelectors;
    }
}
