package io.isthmus.ike;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.ike.message.Proposal;
import io.isthmus.ike.message.Transform;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * What a peer's ESN transforms (RFC 7296 §3.3.2, type 5: 0 no ESN, 1 ESN) mean to our choice,
 * wrong ones included: a value other than 0 and 1 is never taken for either, and a proposal that
 * offers only such values matches nothing (NO_PROPOSAL_CHOSEN, not a guess).
 */
class EsnTransformTest {
    static final ChildProposal ESN = ChildProposal.parse("aes256gcm16-esn");
    static final ChildProposal NO_ESN = ChildProposal.parse("aes256gcm16");

    static Proposal offered(Integer... esn) {
        List<Transform> t = new java.util.ArrayList<>(List.of(new Transform(Transform.ENCR, 20, 256)));
        for (Integer e : esn) {
            t.add(Transform.of(Transform.ESN, e));
        }
        return new Proposal(1, Proposal.PROTOCOL_ESP, Proposal.spiBytes(0x1234), t);
    }

    @Test
    void bothOfferedMatchesEither() {
        assertTrue(ESN.offeredBy(offered(1, 0), false));
        assertTrue(NO_ESN.offeredBy(offered(1, 0), false));
        assertTrue(NO_ESN.offeredBy(offered(0, 1), true));
    }

    @Test
    void oneOfferedMatchesThatOne() {
        assertTrue(ESN.offeredBy(offered(1), false));
        assertFalse(NO_ESN.offeredBy(offered(1), false));
        assertFalse(ESN.offeredBy(offered(0), false));
        assertTrue(NO_ESN.offeredBy(offered(0), false));
    }

    /** No ESN transform at all: taken as no ESN (what ESP without the transform always meant), never as ESN. */
    @Test
    void noneOfferedIsNoEsn() {
        assertTrue(NO_ESN.offeredBy(offered(), false));
        assertFalse(ESN.offeredBy(offered(), false));
    }

    @Test
    void unknownValuesMatchNothing() {
        assertFalse(ESN.offeredBy(offered(2), false));
        assertFalse(NO_ESN.offeredBy(offered(2), false));
        assertFalse(NO_ESN.offeredBy(offered(0xFFFF), false));
        assertTrue(ESN.offeredBy(offered(7, 1), false), "an unknown value beside a known one leaves the known one");
    }

    /** What the responder returns is one ESN value; our reading of it as the initiator. */
    @Test
    void theChosenProposalSaysWhichOne() {
        assertTrue(ChildProposal.fromChosen(offered(1)).esn());
        assertFalse(ChildProposal.fromChosen(offered(0)).esn());
        assertFalse(ChildProposal.fromChosen(offered()).esn());
        assertEquals(List.of(Transform.of(Transform.ESN, 1)), ESN.toProposal(1, 0x1234, false).transformsOfType(Transform.ESN));
        assertEquals(List.of(Transform.of(Transform.ESN, 0)), NO_ESN.toProposal(1, 0x1234, false).transformsOfType(Transform.ESN));
        assertNull(ChildProposal.fromChosen(new Proposal(1, Proposal.PROTOCOL_ESP, Proposal.spiBytes(1), List.of(Transform.of(Transform.ESN, 1)))),
                "no cipher: nothing chosen");
    }
}
