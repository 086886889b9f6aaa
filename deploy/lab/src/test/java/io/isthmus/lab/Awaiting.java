package io.isthmus.lab;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Predicate;

/** Waiting in the lab for what a daemon reaches in its own time (a BGP session, a route), reading it again until it holds. */
final class Awaiting {
    private Awaiting() {
    }

    /**
     * Reads {@code read} every 100 ms until {@code done} holds, and returns what it read then; a
     * read that fails with an IOException (a socket not there yet) counts as not yet. Fails with
     * the last value read and where the logs are once {@code seconds} have passed.
     */
    static <T> T until(String what, int seconds, Callable<T> read, Predicate<T> done, Path logs) throws Exception {
        long end = System.nanoTime() + Duration.ofSeconds(seconds).toNanos();
        T last = null;
        while (System.nanoTime() < end) {
            try {
                last = read.call();
                if (done.test(last)) {
                    return last;
                }
            } catch (IOException e) {
                last = null;
            }
            Thread.sleep(100);
        }
        throw new AssertionError(what + " not within " + seconds + " s; last: " + describe(last) + "; logs in " + logs);
    }

    private static String describe(Object last) {
        if (!(last instanceof Map<?, ?> m)) {
            return String.valueOf(last);
        }
        StringBuilder b = new StringBuilder();
        m.forEach((k, v) -> b.append(k).append('=').append(v instanceof String[] a ? String.join(" ", a) : v).append(' '));
        return b.toString();
    }
}
