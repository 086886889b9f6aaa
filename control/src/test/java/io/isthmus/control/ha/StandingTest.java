package io.isthmus.control.ha;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What keepalived's track file says: 1 after a handover, and while an instance that carries nothing lacks the partner's state. */
class StandingTest {
    @TempDir
    Path dir;

    String file() throws Exception {
        return Files.readString(dir.resolve("handover")).strip();
    }

    @Test
    void anInstanceThatCarriesNothingWaitsForThePartnersStateBeforeItTakesAGroupBack() throws Exception {
        AtomicBoolean carriesNothing = new AtomicBoolean(true);
        Standing s = new Standing(dir.resolve("handover"), true, carriesNothing::get);
        s.update();
        assertEquals("1", file(), "just started (or back), the partner's state not here yet");
        s.synced(true);
        assertEquals("0", file(), "the full sync is here: it may take its group back");
        carriesNothing.set(false); // it did
        s.synced(false);
        assertEquals("0", file(), "the link going down does not lower a carrying instance: its partner would preempt it");
        carriesNothing.set(true); // keepalived moved its group (the partner took over)
        s.update();
        assertEquals("1", file(), "carrying nothing and out of date: no taking back");
    }

    @Test
    void aHandoverHoldsUntilResumedWhateverTheSync() throws Exception {
        Standing s = new Standing(dir.resolve("handover"), true, () -> false);
        s.synced(true);
        assertEquals("0", file());
        s.handedOver(true);
        assertEquals("1", file());
        s.synced(false);
        s.synced(true);
        assertEquals("1", file());
        s.handedOver(false);
        assertEquals("0", file());
    }

    @Test
    void withoutStateSyncThereIsNothingToWaitFor() throws Exception {
        Standing s = new Standing(dir.resolve("handover"), false, () -> true);
        s.update();
        assertEquals("0", file());
    }
}
