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

    @Test
    void everyEspDropReasonHasItsOwnDrop() {
        for (DropReason r : DropReason.values()) {
            Drop d = Drop.of(r);
            assertEquals("ESP_" + r.name(), d.name());
            assertTrue(!d.isEgress());
        }
    }
}
