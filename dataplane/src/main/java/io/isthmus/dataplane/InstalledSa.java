package io.isthmus.dataplane;

import io.isthmus.dataplane.conn.EspPort;
import io.isthmus.esp.InboundSa;
import io.isthmus.esp.OutboundSa;
import java.net.Inet6Address;

/**
 * A child SA installed in the data plane, its two halves as the packet threads use them: the ESP
 * state, its tunnel, its selectors and, outbound, where it sends. (Named {@code Routes} before,
 * which said nothing of what it holds.)
 */
final class InstalledSa {
    private InstalledSa() {
    }

    /** Where the outbound half of a child SA sends, and what it carries. */
    static final class Outbound {
        final OutboundSa sa;
        final SaPair pair;
        final Tunnel tunnel;
        final Selector[] local;
        final Selector[] remote;
        /** Where its packets go. */
        final EspPort.Endpoint endpoint;
        /** The largest inner packet that fits the path MTU once encapsulated. */
        final int maxInner;

        Outbound(OutboundSa sa, SaPair pair, Tunnel tunnel, EspPort.Endpoint endpoint, int pathMtu) {
            this.sa = sa;
            this.pair = pair;
            this.tunnel = tunnel;
            this.local = pair.localSelectors().toArray(Selector[]::new);
            this.remote = pair.remoteSelectors().toArray(Selector[]::new);
            this.endpoint = endpoint;
            int outer = (pair.remote().getAddress() instanceof Inet6Address ? 40 : 20) + (pair.udpEncapsulation() ? 8 : 0);
            var suite = sa.suite();
            int overhead = suite.headerLength() + suite.icvLength() + 2 + suite.blockAlignment() - 1;
            this.maxInner = pathMtu - outer - overhead;
        }

        /** Whether a policy-based tunnel may send this packet through this SA. */
        boolean fits(byte[] p, int off, int len) {
            return Selector.anyMatches(local, p, off, len, true) && Selector.anyMatches(remote, p, off, len, false);
        }
    }

    /**
     * The inbound half: the SA, its tunnel, and the selectors a decrypted packet must meet; also
     * the pair's outbound SA, so that what is looked up by inbound SPI (leases, the sequence
     * state) finds both halves in the snapshot, without the control plane's lock.
     */
    static final class Inbound {
        /** Its inbound SPI, here where the SA table's lookup compares it: the object it finds is the one it reads. */
        final int spi;
        final InboundSa sa;
        final OutboundSa outbound;
        final SaPair pair;
        final Tunnel tunnel;
        final Selector[] local;
        final Selector[] remote;

        Inbound(int spi, InboundSa sa, OutboundSa outbound, SaPair pair, Tunnel tunnel) {
            this.spi = spi;
            this.sa = sa;
            this.outbound = outbound;
            this.pair = pair;
            this.tunnel = tunnel;
            this.local = pair.localSelectors().toArray(Selector[]::new);
            this.remote = pair.remoteSelectors().toArray(Selector[]::new);
        }

        /** From the peer's side to ours, as negotiated (RFC 4301 §5.2, step 4). */
        boolean fits(byte[] p, int off, int len) {
            return Selector.anyMatches(remote, p, off, len, true) && Selector.anyMatches(local, p, off, len, false);
        }
    }
}
