package io.isthmus.dataplane;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.esp.DropReason;
import io.isthmus.esp.SealFailure;
import org.junit.jupiter.api.Test;

/** The data plane's drops mirror the ESP engine's reasons by position: a reordered enum would count under the wrong name. */
class DropTest {
    @Test
    void everySealFailureHasItsOwnDrop() {
        for (SealFailure f : SealFailure.values()) {
            Drop d = Drop.ofSeal(f.code());
            assertEquals("SEAL_" + f.name(), d.name());
            assertTrue(d.isEgress());
        }
    }

    @Test
    void everyNatDropHasItsOwnDropEachWay() {
        for (io.isthmus.dataplane.nat.NatDrop n : io.isthmus.dataplane.nat.NatDrop.values()) {
            assertEquals("NAT_" + n.name(), Drop.ofNat(n.code(), false).name());
            assertTrue(!Drop.ofNat(n.code(), false).isEgress());
            assertEquals("NAT_" + n.name() + "_EGRESS", Drop.ofNat(n.code(), true).name());
            assertTrue(Drop.ofNat(n.code(), true).isEgress());
        }
    }

    /** Appended, not inserted: the ones before keep their positions (ESP_ and SEAL_ are found by position). */
    @Test
    void newDropsAreAppended() {
        Drop[] all = Drop.values();
        assertEquals(Drop.RECEIVE_TRUNCATED, all[all.length - 1]);
        assertEquals(Drop.MALFORMED_OUTER, all[all.length - 2]);
        assertEquals(Drop.NAT_UNTRANSLATED_EGRESS, all[all.length - 3]);
        assertEquals(Drop.NAT_UNTRANSLATED, all[all.length - 4]);
        assertEquals(Drop.NAT_UNSUPPORTED_PROTOCOL_EGRESS, all[all.length - 5]);
        assertTrue(!Drop.MALFORMED_OUTER.isEgress() && !Drop.RECEIVE_TRUNCATED.isEgress());
    }

    @Test
    void everyEspDropReasonHasItsOwnDrop() {
        for (DropReason r : DropReason.values()) {
            Drop d = Drop.of(r);
            assertEquals("ESP_" + r.name(), d.name());
            assertTrue(!d.isEgress());
        }
    }
}
