package io.isthmus.control.config;

import static io.isthmus.control.config.NatRulesTest.LAB_RULES;
import static io.isthmus.control.config.NatRulesTest.TO_BRANCH1;
import static io.isthmus.control.config.NatRulesTest.TO_BRANCH2;
import static io.isthmus.control.config.NatRulesTest.lab;
import static io.isthmus.control.config.NatRulesTest.read;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.control.config.ConfigDiff.Change;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * A reload that changes NAT rules: never a restart; a connection whose rules (by what they say,
 * not their names) change is a NAT change, and a PREFIXES change too when its routes into the
 * tunnel move; the other connections are kept.
 */
class NatReloadTest {
    static final String RUNNING = lab(LAB_RULES, TO_BRANCH1, TO_BRANCH2);

    static ConfigDiff diff(String next) {
        ConfigDiff d = ConfigDiff.between(read(RUNNING), read(next));
        assertFalse(d.refused(), d.toString());
        return d;
    }

    @Test
    void theSameRulesChangeNothing() {
        assertTrue(diff(RUNNING).empty());
    }

    @Test
    void aRenamedRuleThatSaysTheSameChangesNothing() {
        ConfigDiff d = diff(lab(LAB_RULES.replace("name: branch1-in", "name: first-branch"), "ingressNatRules: [first-branch]\n    egressNatRules: [vnet-hide]",
                TO_BRANCH2));
        assertTrue(d.empty(), d.toString());
    }

    @Test
    void aMovedExternalMappingMovesTheRoutes() {
        ConfigDiff d = diff(lab(LAB_RULES.replace("100.64.2.0/24", "100.64.20.0/24"), TO_BRANCH1, TO_BRANCH2));
        assertEquals(Map.of("to-branch2", Set.of(Change.NAT, Change.PREFIXES)), d.changed());
        assertEquals(List.of("to-branch1"), d.kept());
    }

    @Test
    void anEgressRuleAddedChangesNoRoute() {
        ConfigDiff d = diff(lab(LAB_RULES + """
                    - name: vnet-out
                      mode: EgressSnat
                      internalMappings: [192.168.10.0/24]
                      externalMappings: [100.65.0.0/24]
                """, TO_BRANCH1, TO_BRANCH2 + "\n    egressNatRules: [vnet-out]"));
        assertEquals(Map.of("to-branch2", Set.of(Change.NAT)), d.changed());
    }

    @Test
    void aChangedDynamicPoolIsANatChange() {
        ConfigDiff d = diff(lab(LAB_RULES.replace("100.70.0.1/32", "100.70.0.0/30"), TO_BRANCH1, TO_BRANCH2));
        assertEquals(Map.of("to-branch1", Set.of(Change.NAT)), d.changed());
        assertTrue(d.toString().contains("to-branch1 (NAT rules)"), d.toString());
    }

    @Test
    void natTakenOffAConnectionIsBothChanges() {
        ConfigDiff d = diff(lab(LAB_RULES, "ingressNatRules: [branch1-in]", TO_BRANCH2));
        assertEquals(Map.of("to-branch1", Set.of(Change.NAT)), d.changed());
        ConfigDiff off = diff(lab(BRANCH2_ONLY, "", TO_BRANCH2).replace("addressPrefixes: [10.0.0.0/24]\n  - name: branch2",
                "addressPrefixes: [10.9.0.0/24]\n  - name: branch2"));
        assertEquals(Set.of(Change.NAT, Change.PREFIXES), off.changed().get("to-branch1"));
    }

    static final String BRANCH2_ONLY = NatRulesTest.BRANCH2_IN;
}
