package io.isthmus.dataplane.linux;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * poll(2) over a fixed set of descriptors: how an idle data-plane thread sleeps until a packet
 * arrives, instead of spinning on a core the gateway shares with everything else.
 */
public final class Poller {
    private final MemorySegment pollfds;
    private final int count;
    private final Libc.CallState state = new Libc.CallState();

    public Poller(int... fds) {
        count = fds.length;
        pollfds = Arena.ofAuto().allocate(8L * Math.max(1, count), 8);
        for (int i = 0; i < count; i++) {
            pollfds.set(ValueLayout.JAVA_INT, 8L * i, fds[i]);
            pollfds.set(ValueLayout.JAVA_SHORT, 8L * i + 4, (short) Libc.POLLIN);
        }
    }

    /** Sleeps until a descriptor is readable or {@code timeoutMillis} pass. */
    public void await(int timeoutMillis) {
        for (int i = 0; i < count; i++) {
            pollfds.set(ValueLayout.JAVA_SHORT, 8L * i + 6, (short) 0);
        }
        Libc.poll(state, pollfds, count, timeoutMillis);
    }
}
