package io.isthmus.ike;

import io.isthmus.ike.crypto.IkeSaKeys;
import io.isthmus.ike.crypto.KeyDerivation;
import java.util.Arrays;
import java.util.List;

/**
 * One IKE SA succeeding another in a rekey (RFC 7296 §2.18), libcharon's inherit_pre and
 * inherit_post: first the new SA, keyed from the old one's SK_d, authenticated as the old one
 * was, at its addresses, with what the peer supports and the client's virtual addresses; then,
 * once the exchange has settled which SA stands, the child SAs and the requests queued for them
 * move over, and the old SA only waits for its delete. The exchange itself ({@code IkeRekey})
 * decides when each step happens, collisions included.
 */
public final class IkeSaSuccession {
    private static final System.Logger LOG = System.getLogger("io.isthmus.ike");

    private IkeSaSuccession() {
    }

    /**
     * The IKE SA a rekey of {@code old} creates: new SPIs, keys from old's SK_d, message IDs
     * from zero; identities, addresses and what the peer supports carry over. The initiator of
     * the rekey is the new SA's original initiator. {@code sharedSecret} is wiped.
     */
    public static IkeSa successor(IkeSa old, boolean asInitiator, long newSpiI, long newSpiR, IkeProposal chosen, byte[] ni, byte[] nr,
                                  byte[] sharedSecret) {
        IkeContext context = old.context();
        IkeSa sa = new IkeSa(context, asInitiator, List.of(old.connection()), newSpiI, newSpiR, old.localAddress(), old.remoteAddress());
        sa.inherit(old);
        IkeSaKeys keys = KeyDerivation.rekeyedIkeSaKeys(old.proposal().prf(), old.keys().skD(), chosen.prf(), sharedSecret, ni, nr, newSpiI,
                newSpiR, chosen.cipher().integrityKeyLength(), chosen.cipher().encryptionKeyLength());
        Arrays.fill(sharedSecret, (byte) 0);
        sa.negotiated(newSpiR, chosen, keys, old.natDetected(), old.behindNat(), old.peerFragments());
        sa.transitionTo(IkeSaState.ESTABLISHED);
        context.sas().add(sa);
        sa.timers().start();
        return sa;
    }

    /**
     * {@code old} gives its child SAs and queued child exchanges to {@code next}, which replaces
     * it; old then only waits for its delete.
     */
    public static void handOver(IkeSa old, IkeSa next) {
        handOver(old, next, true);
    }

    /**
     * As {@link #handOver}, for the redundant IKE SA of a simultaneous rekey (RFC 7296 2.8.2): it
     * was never announced, so neither is its going, and the one rekey is counted once.
     */
    public static void handOverRedundant(IkeSa old, IkeSa next) {
        handOver(old, next, false);
    }

    private static void handOver(IkeSa old, IkeSa next, boolean announce) {
        old.replacedBy(next);
        old.transitionTo(IkeSaState.REKEYED);
        old.timers().cancel();
        old.children().handOverTo(next.children());
        next.touched();
        old.window().handOver(next.window());
        if (!announce) {
            LOG.log(System.Logger.Level.INFO, "{0}: redundant after a simultaneous rekey, its child SAs moved to {1}", old, next);
            return;
        }
        old.context().counters(old).ikeRekeyed();
        old.context().emit(IkeEvent.Kind.IKE_REKEYED, next, null, "replaces " + old.spis());
        LOG.log(System.Logger.Level.INFO, "{0}: IKE SA rekeyed, replaced by {1}", old, next);
    }
}
