package io.isthmus.control.ha;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.ike.ManualScheduler;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** When a handover's drain takes the child SAs out of the data plane: shortly after keepalived moved the group, at the latest at its limit, once. */
class HandoverDrainTest {
    final ManualScheduler clock = new ManualScheduler();
    final List<List<Integer>> removed = new ArrayList<>();
    final HandoverDrain drain = new HandoverDrain(clock, removed::add);

    @Test
    void itEndsShortlyAfterKeepalivedTookTheGroupAway() {
        drain.start("gw1", List.of(1, 2));
        var idle = drain.whenIdle();
        clock.advance(Duration.ofMillis(30));
        drain.letGo("gw1");
        clock.advance(HandoverDrain.AFTER_LET_GO.minusMillis(1));
        assertEquals(List.of(), removed, "still carrying what arrives here");
        assertFalse(drain.idle());
        assertFalse(idle.isDone());
        clock.advance(Duration.ofMillis(1));
        assertEquals(List.of(List.of(1, 2)), removed);
        assertTrue(drain.idle());
        assertTrue(idle.isDone(), "a stop waiting for the drain goes on");
        clock.advance(HandoverDrain.LIMIT);
        assertEquals(1, removed.size(), "once");
    }

    @Test
    void withoutKeepalivedItEndsAtItsLimit() {
        drain.start("gw1", List.of(1));
        drain.letGo("gw2"); // another group: nothing to do with this drain
        clock.advance(HandoverDrain.LIMIT.minusMillis(1));
        assertEquals(List.of(), removed);
        clock.advance(Duration.ofMillis(1));
        assertEquals(List.of(List.of(1)), removed);
    }

    @Test
    void aGroupComingBackEndsItsDrainFirst() {
        drain.start("gw1", List.of(7));
        drain.finish("gw1"); // the takeover back, before installing the same SAs again
        assertEquals(List.of(List.of(7)), removed);
        clock.advance(Duration.ofSeconds(1));
        drain.start("gw1", List.of(8));
        clock.advance(HandoverDrain.LIMIT.minusSeconds(1));
        assertEquals(List.of(List.of(7)), removed, "the first drain's timer does not end the second early");
        clock.advance(Duration.ofSeconds(1));
        assertEquals(List.of(List.of(7), List.of(8)), removed);
    }
}
