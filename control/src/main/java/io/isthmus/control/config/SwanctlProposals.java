package io.isthmus.control.config;

import io.isthmus.ike.ChildProposal;
import io.isthmus.ike.IkeProposal;
import java.util.ArrayList;
import java.util.List;

/**
 * What a connection offers, written as strongSwan's swanctl.conf writes proposals
 * ({@code proposals = aes256gcm16-prfsha512-x25519,...}, {@code esp_proposals = aes256gcm16-esn-noesn,...}),
 * so that an operator can paste it into the peer's configuration and be sure both ends speak of
 * the same transforms: the Azure names hide some (GCMAES256 as IKE integrity means PRF-SHA384).
 * An ESP proposal offered with ESN and then without (a policy's {@code esn: both}) is one
 * strongSwan proposal with both, {@code -esn-noesn}; either order of them agrees with ours.
 */
public final class SwanctlProposals {
    private SwanctlProposals() {
    }

    /** {@code proposals = ...}: the IKE proposals, most preferred first. */
    public static String ike(List<IkeProposal> proposals) {
        return String.join(",", proposals.stream().map(IkeProposal::toString).toList());
    }

    /** {@code esp_proposals = ...}: the ESP proposals, most preferred first, an ESN pair joined into one. */
    public static String esp(List<ChildProposal> proposals) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < proposals.size(); i++) {
            ChildProposal p = proposals.get(i);
            ChildProposal next = i + 1 < proposals.size() ? proposals.get(i + 1) : null;
            String base = new ChildProposal(p.cipher(), false, p.pfs()).toString();
            if (next != null && p.esn() && !next.esn() && next.cipher().equals(p.cipher()) && java.util.Objects.equals(next.pfs(), p.pfs())) {
                out.add(base + "-esn-noesn");
                i++;
            } else {
                out.add(base + (p.esn() ? "-esn" : "-noesn"));
            }
        }
        return String.join(",", out);
    }
}
