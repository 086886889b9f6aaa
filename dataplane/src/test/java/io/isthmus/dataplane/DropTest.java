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
    void everyEspDropReasonHasItsOwnDrop() {
        for (DropReason r : DropReason.values()) {
            Drop d = Drop.of(r);
            assertEquals("ESP_" + r.name(), d.name());
            assertTrue(!d.isEgress());
        }
    }
}
