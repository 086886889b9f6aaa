package io.isthmus.ike;

import io.isthmus.esp.CipherSuite;
import io.isthmus.esp.Lifetime;
import io.isthmus.esp.SaParameters;
import io.isthmus.ike.message.TrafficSelector;
import java.net.InetSocketAddress;
import java.util.HexFormat;
import java.util.List;

/**
 * A negotiated child SA, without its keys (they travel once, in {@link ChildSaKeys}): both ESP
 * directions (SPIs, suite, ESN, lifetimes), the traffic selectors agreed for each side, the
 * addresses packets go between and whether ESP is UDP-encapsulated (RFC 3948) because of NAT.
 * IKE keeps this for the SA's whole life, status shows it, logs print it. The time lifetime is
 * IKE's to enforce (it rekeys before it ends); the byte and packet lifetimes are the data
 * plane's, which reports them to
 * {@link io.isthmus.ike.engine.IkeEngine#rekeyChild} and {@link io.isthmus.ike.engine.IkeEngine#expireChild}.
 */
public record ChildSaDescription(String connection, Direction inbound, Direction outbound,
                                 List<TrafficSelector> localSelectors, List<TrafficSelector> remoteSelectors,
                                 InetSocketAddress localAddress, InetSocketAddress remoteAddress, boolean udpEncapsulation) {

    /** One ESP direction without its keys: what IKE, logs and status need of it. */
    public record Direction(int spi, CipherSuite suite, boolean esn, Lifetime lifetime) {
        public static Direction of(SaParameters p) {
            return new Direction(p.spi(), p.suite(), p.esn(), p.lifetime());
        }
    }

    /** The description of the SA these keys are for. */
    public static ChildSaDescription of(String connection, ChildSaKeys keys, List<TrafficSelector> localSelectors,
                                        List<TrafficSelector> remoteSelectors, InetSocketAddress localAddress,
                                        InetSocketAddress remoteAddress, boolean udpEncapsulation) {
        return new ChildSaDescription(connection, Direction.of(keys.inbound()), Direction.of(keys.outbound()), localSelectors,
                remoteSelectors, localAddress, remoteAddress, udpEncapsulation);
    }

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
