package io.isthmus.control.log;

import io.isthmus.ike.ChildSa;
import io.isthmus.ike.ChildSaDescription;
import io.isthmus.ike.Connection;
import io.isthmus.ike.IkeSa;
import io.isthmus.ike.message.IkeHeader;
import java.util.HexFormat;

/**
 * The connection name and SPIs a log line is about, as fields, taken from the objects the line
 * was logged with. IKE logs through System.Logger and knows nothing of SLF4J or its MDC; but
 * almost every line it writes about an SA passes the SA itself as an argument
 * ({@code LOG.log(INFO, "{0}: IKE SA established", this)}), and the platform-logging bridge hands
 * those arguments on with the event. So the fields come from the line's own subject, read on the
 * thread that logs it (the IKE thread, which owns the SA), and cannot be stale or belong to
 * another SA, as a thread-wide context set around each task could when one task touches several
 * SAs. Lines that name an SA only in their text (the data plane's "SA installed", which gets the
 * connection's name as a string) have no fields: the text still has it.
 *
 * <p>SPIs are hex as {@code isthmus status --json} writes them, under the same names.
 */
record SaFields(String connection, String initiatorSpi, String responderSpi, String inboundSpi, String outboundSpi) {
    static final SaFields NONE = new SaFields(null, null, null, null, null);
    private static final HexFormat HEX = HexFormat.of();

    static SaFields of(Object[] arguments) {
        if (arguments == null) {
            return NONE;
        }
        SaFields f = NONE;
        for (Object a : arguments) {
            f = switch (a) {
                case IkeSa sa -> f.withIke(sa);
                case ChildSa child -> f.withChild(child.description()).withIke(child.owner());
                case ChildSaDescription child -> f.withChild(child);
                case Connection c -> f.connection == null ? new SaFields(c.name(), f.initiatorSpi, f.responderSpi, f.inboundSpi, f.outboundSpi) : f;
                case IkeHeader h -> f.initiatorSpi == null
                        ? new SaFields(f.connection, HEX.toHexDigits(h.initiatorSpi()), HEX.toHexDigits(h.responderSpi()), f.inboundSpi, f.outboundSpi) : f;
                case null, default -> f;
            };
        }
        return f;
    }

    /** The first SA named wins: in "{0}: ... replaced by {1}" the line is about {0}. */
    private SaFields withIke(IkeSa sa) {
        if (sa == null || initiatorSpi != null) {
            return this;
        }
        return new SaFields(connection != null ? connection : sa.connection().name(), HEX.toHexDigits(sa.initiatorSpi()),
                HEX.toHexDigits(sa.responderSpi()), inboundSpi, outboundSpi);
    }

    private SaFields withChild(ChildSaDescription child) {
        if (inboundSpi != null) {
            return this;
        }
        return new SaFields(connection != null ? connection : child.connection(), initiatorSpi, responderSpi,
                HEX.toHexDigits(child.inbound().spi()), HEX.toHexDigits(child.outbound().spi()));
    }
}
