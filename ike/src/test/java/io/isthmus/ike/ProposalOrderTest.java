package io.isthmus.ike;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.ike.crypto.PseudorandomFunction;
import io.isthmus.ike.message.ExchangeType;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Several proposals on each side, in different orders: the responder's order decides (RFC 7296
 * §2.7 lets it choose any proposal offered), for IKE SAs, DH groups (an INVALID_KE_PAYLOAD round
 * when the key share sent is not the group chosen) and child SAs, ESN among them, whichever end
 * initiates; and PRF-HMAC-SHA512 with AES-GCM, which strongSwan peers commonly propose.
 */
class ProposalOrderTest extends EnginePair {
    static final String IKE = "aes128gcm16-prfsha256-x25519";

    long ikeSaInitRequests() {
        return network.sent.stream().filter(message(m -> m.header().exchangeType() == ExchangeType.IKE_SA_INIT && !m.header().isResponse()))
                .count();
    }

    IkeSa initiateFromB() {
        IkeSa sa = engineB.initiate("site", new InetSocketAddress(B, 500), new InetSocketAddress(A, 500));
        network.deliverAll(clock);
        return sa;
    }

    /*
     * Table: what A (initiator) offers, what B (responder) has, what they agree on, how many
     * IKE_SA_INIT requests it took (2: A's first key share was not B's group).
     *   A  IKE_SA_INIT SA(a1, a2) KE(a1's group)   -->
     *                                         <--  N(INVALID_KE_PAYLOAD b's group)   when B chose a proposal of another group
     *   A  IKE_SA_INIT SA(a1, a2) KE(b's group)    -->
     *                                         <--  SA(B's first that A offers) KE
     */
    @ParameterizedTest(name = "A {0} / B {1} -> {2}")
    @CsvSource(delimiter = '|', value = {
            "aes256gcm16-prfsha512-x25519,aes256gcm16-prfsha384-ecp384|aes256gcm16-prfsha384-ecp384,aes256gcm16-prfsha512-x25519"
                    + "|aes256gcm16-prfsha384-ecp384|2",
            "aes256gcm16-prfsha384-ecp384,aes256gcm16-prfsha512-x25519|aes256gcm16-prfsha384-ecp384,aes256gcm16-prfsha512-x25519"
                    + "|aes256gcm16-prfsha384-ecp384|1",
            "aes256gcm16-prfsha384-ecp384,aes256gcm16-prfsha512-x25519|aes256gcm16-prfsha512-x25519,aes256gcm16-prfsha384-ecp384"
                    + "|aes256gcm16-prfsha512-x25519|2",
            // Same group, other ciphers: B's order, no second round.
            "aes128gcm16-prfsha256-x25519,aes256-sha256-x25519|aes256-sha256-x25519,aes128gcm16-prfsha256-x25519|aes256-sha256-prfsha256-x25519|1",
            // Three groups, B takes only the last A offers.
            "aes256gcm16-prfsha384-ecp384,aes256gcm16-prfsha384-ecp256,aes256-sha256-modp2048|aes256-sha256-modp2048|aes256-sha256-prfsha256-modp2048|2",
            "aes256gcm16-prfsha512-curve25519|aes256gcm16-prfsha512-x25519|aes256gcm16-prfsha512-x25519|1"})
    void theResponderChoosesTheIkeProposalByItsOwnOrder(String offered, String responders, String chosen, int rounds) {
        configure(connectionA(offered, "aes128gcm16").build(), connectionB(responders, "aes128gcm16").build());
        IkeSa sa = initiate();
        assertEquals(IkeSaState.ESTABLISHED, sa.state());
        assertEquals(IkeProposal.parse(chosen), sa.proposal());
        assertEquals(IkeProposal.parse(chosen), onlyIkeSa(engineB).proposal());
        assertEquals(rounds, ikeSaInitRequests());
        assertChildSasPair();
    }

    @Test
    void prfSha512WithAesGcmAndCurve25519() {
        configure(connectionA("aes256gcm16-prfsha512-curve25519", "aes256gcm16").build(),
                connectionB("aes256gcm16-prfsha512-curve25519", "aes256gcm16").build());
        IkeSa sa = initiate();
        assertEquals(PseudorandomFunction.HMAC_SHA2_512, sa.proposal().prf());
        assertEquals(64, sa.keys().skD().length, "SK_d as long as PRF-SHA512's output");
        assertOneIkeSaPair();
        assertChildSasPair();
    }

    /*
     * ESP: the responder's order decides, ESN included (one proposal per ESN choice, as a policy's
     * esn: both offers them), whichever end initiates.
     */
    @ParameterizedTest(name = "initiator {0} / responder {1} -> {2}, B initiates {3}")
    @CsvSource(delimiter = '|', value = {
            "aes256gcm16-esn,aes256gcm16|aes256gcm16-esn,aes256gcm16|aes256gcm16-esn|false",
            "aes256gcm16-esn,aes256gcm16|aes256gcm16,aes256gcm16-esn|aes256gcm16|false",
            "aes256gcm16,aes256gcm16-esn|aes256gcm16-esn,aes256gcm16|aes256gcm16-esn|false",
            "aes256gcm16-esn|aes256gcm16,aes256gcm16-esn|aes256gcm16-esn|false",
            "aes256gcm16|aes256gcm16-esn,aes256gcm16|aes256gcm16|false",
            "aes256gcm16-esn,aes256gcm16,aes128gcm16-esn|aes128gcm16-esn,aes256gcm16|aes128gcm16-esn|false",
            "aes256gcm16-esn,aes256gcm16|aes256gcm16,aes256gcm16-esn|aes256gcm16|true",
            "aes256gcm16-esn|aes256gcm16,aes256gcm16-esn|aes256gcm16-esn|true",
            "aes256-sha512-esn,aes256-sha512|aes256-sha512-esn|aes256-sha512-esn|true"})
    void theResponderChoosesTheEspProposalByItsOwnOrderEsnIncluded(String initiators, String responders, String chosen, boolean bInitiates) {
        configure(connectionA(IKE, bInitiates ? responders : initiators).build(), connectionB(IKE, bInitiates ? initiators : responders).build());
        IkeSa sa = bInitiates ? initiateFromB() : initiate();
        assertEquals(IkeSaState.ESTABLISHED, sa.state());
        ChildProposal expected = ChildProposal.parse(chosen);
        for (InMemoryChildSaListener l : java.util.List.of(childrenA, childrenB)) {
            ChildSaDescription d = l.current().getFirst();
            assertEquals(expected.cipher(), d.inbound().suite());
            assertEquals(expected.esn(), d.inbound().esn(), "inbound ESN");
            assertEquals(expected.esn(), d.outbound().esn(), "outbound ESN");
            assertEquals(expected.esn(), l.keys(d).outbound().esn(), "the keys the data plane gets say ESN too");
        }
        assertChildSasPair();
    }

    /** ESN only against no ESN only: the IKE SA stands, the child SA is refused (NO_PROPOSAL_CHOSEN), both ways round. */
    @ParameterizedTest
    @CsvSource({"aes256gcm16-esn, aes256gcm16", "aes256gcm16, aes256gcm16-esn"})
    void esnOnlyAgainstNoEsnOnlyMakesNoChildSa(String a, String b) {
        configure(connectionA(IKE, a).build(), connectionB(IKE, b).build());
        initiate();
        assertTrue(childrenA.current().isEmpty(), "A: " + childrenA.current());
        assertTrue(childrenB.current().isEmpty(), "B: " + childrenB.current());
    }

    /** A rekey offers the list again and the responder chooses again: an ESN SA stays ESN, with B preferring it. */
    @Test
    void aRekeyChoosesAgainByTheRespondersOrder() {
        configure(connectionA(IKE, "aes128gcm16,aes128gcm16-esn").build(), connectionB(IKE, "aes128gcm16-esn,aes128gcm16").build());
        IkeSa sa = initiate();
        assertTrue(childrenA.current().getFirst().inbound().esn());
        for (int i = 0; i < 2; i++) {
            sa.rekeyChild(childrenA.current().getFirst().inbound().spi());
            network.deliverAll(clock);
            assertChildSasPair();
            assertTrue(childrenA.current().getFirst().inbound().esn(), "rekey " + i);
            assertTrue(childrenB.current().getFirst().outbound().esn(), "rekey " + i);
        }
        // The IKE SA too: rekeyed with the proposals in B's order.
        sa.rekey();
        network.deliverAll(clock);
        assertOneIkeSaPair();
    }
}
