package io.isthmus.ike;

import io.isthmus.ike.crypto.IkeSaKeys;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * An IKE SA into its {@link IkeSaRecord} and a record back into an IKE SA, for active-active
 * takeover: the two halves of {@link IkeSa#record()} and {@link #adopt}, kept side by side so
 * that what one writes the other reads; and the SA let go here once the other instance carries
 * it on ({@link #release}).
 */
public final class IkeSaRecords {
    private static final System.Logger LOG = System.getLogger("io.isthmus.ike");

    private IkeSaRecords() {
    }

    /** See {@link IkeSa#record()}. */
    static IkeSaRecord take(IkeSa sa) {
        if (!sa.isUp()) {
            throw new IllegalStateException(sa + " is " + sa.state() + ": only an established IKE SA has a record");
        }
        List<IkeSaRecord.Child> cs = sa.children().stream()
                .map(c -> new IkeSaRecord.Child(c.description, c.proposal, c.established, c.createdAsInitiator)).toList();
        IkeSaKeys keys = sa.keys();
        IkeSaKeys copy = new IkeSaKeys(keys.skD().clone(), keys.skAi().clone(), keys.skAr().clone(), keys.skEi().clone(),
                keys.skEr().clone(), keys.skPi().clone(), keys.skPr().clone());
        MessageWindow window = sa.window();
        return new IkeSaRecord(sa.connection().name(), sa.isInitiator(), sa.initiatorSpi(), sa.responderSpi(), sa.localAddress(),
                sa.remoteAddress(), sa.proposal(), copy, sa.natDetected(), sa.behindNat(), sa.peerFragments(), sa.peerSupportsMessageIdSync(),
                sa.peerIdentity(), sa.establishedAt(), window.nextRequestId(), window.expectedRequestId(), window.lastResponse(), cs);
    }

    /**
     * The IKE SA of {@code r}, carried on here as it was there (active-active takeover): ESTABLISHED
     * with its SPIs, keys (copies: {@code r} stays the caller's to wipe), message window and child
     * SAs, its timers running for what is left of its lifetimes, no exchange, and no word to the
     * listener (the daemon installs the child SAs with the keys it synced). Registered under its
     * SPI. Throws IllegalStateException when a child SA here already holds one of its inbound SPIs.
     */
    public static IkeSa adopt(IkeContext context, Connection c, IkeSaRecord r) {
        List<InboundSpi> spis = new ArrayList<>();
        for (IkeSaRecord.Child child : r.children()) {
            InboundSpi spi = context.claimInboundSpi(child.description().inbound().spi());
            if (spi == null) {
                spis.forEach(InboundSpi::releaseUnheld);
                throw new IllegalStateException("inbound SPI of " + child.description() + " is in use here");
            }
            spis.add(spi);
        }
        IkeSa sa = new IkeSa(context, r.initiator(), List.of(c), r.initiatorSpi(), r.responderSpi(), r.localAddress(), r.remoteAddress());
        IkeSaKeys k = r.keys();
        IkeSaKeys keys = new IkeSaKeys(k.skD().clone(), k.skAi().clone(), k.skAr().clone(), k.skEi().clone(), k.skEr().clone(),
                k.skPi().clone(), k.skPr().clone());
        sa.negotiated(r.responderSpi(), r.proposal(), keys, r.natDetected(), r.behindNat(), r.peerFragments());
        sa.peerSupportsMessageIdSync(r.peerMessageIdSync());
        sa.adopted(r.peerIdentity(), c, r.establishedAt());
        sa.window().restore(r.nextRequestId(), r.expectedRequestId(), r.lastResponse());
        sa.transitionTo(IkeSaState.ESTABLISHED);
        Instant now = context.scheduler().now();
        for (int i = 0; i < spis.size(); i++) {
            IkeSaRecord.Child rc = r.children().get(i);
            ChildSa child = new ChildSa(sa, rc.description(), rc.proposal(), rc.establishedAt(), rc.createdAsInitiator(), spis.get(i));
            sa.children().adopt(child, Duration.between(rc.establishedAt(), now));
        }
        context.sas().add(sa);
        sa.timers().start(Duration.between(sa.establishedAt(), now));
        LOG.log(System.Logger.Level.INFO, "{0}: IKE SA adopted with {1} child SA(s), next request {2}, expecting {3}", sa, spis.size(),
                r.nextRequestId(), r.expectedRequestId());
        context.emit(IkeEvent.Kind.IKE_UP, sa, null, "carried on from the pair's other instance, with " + spis.size() + " child SA(s)");
        return sa;
    }

    /**
     * Handed to another instance, which carries it on from its record: gone from here as if it
     * never was. Timers and retransmissions stop, its child SAs and their inbound SPIs are
     * forgotten, keys wiped; nothing is sent, and neither the listener nor the observer hears
     * of it (the daemon asked, and the data plane's SAs are the daemon's to move).
     */
    public static void release(IkeSa sa) {
        if (sa.state() == IkeSaState.DESTROYED) {
            return;
        }
        sa.markReleased();
        sa.transitionTo(IkeSaState.DESTROYED);
        // The partner does not take remote-access clients over (their SAs are not synced): the address waits for the reconnect.
        sa.virtualAddresses().release(sa.ourSpi());
        sa.children().forget();
        sa.window().stop();
        sa.timers().cancel();
        if (sa.keys() != null) {
            sa.keys().destroy();
        }
        IkeContext context = sa.context();
        context.sas().remove(sa);
        LOG.log(System.Logger.Level.INFO, "{0}: IKE SA released to another instance", sa);
        context.emit(IkeEvent.Kind.IKE_DOWN, sa, null, "released to the pair's other instance, which carries it on");
    }
}
