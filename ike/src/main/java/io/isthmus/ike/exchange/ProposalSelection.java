package io.isthmus.ike.exchange;

import io.isthmus.ike.ChildProposal;
import io.isthmus.ike.IkeProposal;
import io.isthmus.ike.message.Proposal;
import io.isthmus.ike.message.SaPayload;
import io.isthmus.ike.message.Transform;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiPredicate;

/**
 * The responder's choice among the proposals offered (RFC 7296 §2.7), for IKE SAs and child SAs
 * alike: our own order of preference decides, not the initiator's, so that a gateway configured
 * to prefer one suite gets it from every peer that offers it.
 */
final class ProposalSelection {
    /** One of our proposals, and the offered proposal it matched (whose number and SPI the answer carries). */
    record Choice<P>(P ours, Proposal offered) {
    }

    private ProposalSelection() {
    }

    /** The first of {@code ours} that some offered proposal {@code accepts}, or null when none does. */
    static <P> Choice<P> choose(List<P> ours, List<Proposal> offered, BiPredicate<P, Proposal> accepts) {
        for (P mine : ours) {
            for (Proposal p : offered) {
                if (accepts.test(mine, p)) {
                    return new Choice<>(mine, p);
                }
            }
        }
        return null;
    }

    /** What was offered, for the log line that says none of it was acceptable. */
    static String describe(SaPayload sa) {
        return sa.proposals().stream().map(p -> {
            IkeProposal ike = p.protocolId() == Proposal.PROTOCOL_IKE ? IkeProposal.fromChosen(firstOfEach(p)) : null;
            ChildProposal esp = p.protocolId() == Proposal.PROTOCOL_ESP ? ChildProposal.fromChosen(firstOfEach(p)) : null;
            return ike != null ? ike.toString() : esp != null ? esp.toString() : "proposal " + p.number();
        }).toList().toString();
    }

    private static Proposal firstOfEach(Proposal p) {
        List<Transform> one = new ArrayList<>();
        for (int type = 1; type <= 5; type++) {
            p.transformsOfType(type).stream().findFirst().ifPresent(one::add);
        }
        return new Proposal(p.number(), p.protocolId(), p.spi(), one);
    }
}
