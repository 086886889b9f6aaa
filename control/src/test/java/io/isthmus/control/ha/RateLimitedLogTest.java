package io.isthmus.control.ha;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.System.Logger.Level;
import java.util.List;
import java.util.ResourceBundle;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

class RateLimitedLogTest {

    private static final class Recording implements System.Logger {
        final List<String> lines = new CopyOnWriteArrayList<>();

        @Override
        public String getName() {
            return "test";
        }

        @Override
        public boolean isLoggable(Level level) {
            return true;
        }

        @Override
        public void log(Level level, ResourceBundle bundle, String msg, Throwable thrown) {
            lines.add(msg);
        }

        @Override
        public void log(Level level, ResourceBundle bundle, String format, Object... params) {
            lines.add(format);
        }
    }

    @Test
    void oneLinePerSourceAndIntervalThenTheCountHeldBack() throws Exception {
        Recording rec = new Recording();
        RateLimitedLog log = new RateLimitedLog(rec, Long.MAX_VALUE);
        for (int i = 0; i < 50; i++) {
            log.log(Level.WARNING, "10.0.0.1", "refused 10.0.0.1");
        }
        log.log(Level.WARNING, "10.0.0.2", "refused 10.0.0.2");
        assertEquals(List.of("refused 10.0.0.1", "refused 10.0.0.2"), rec.lines);

        Recording rec2 = new Recording();
        RateLimitedLog every = new RateLimitedLog(rec2, 0);
        every.log(Level.WARNING, "s", "x");
        Thread.sleep(1);
        every.log(Level.WARNING, "s", "x");
        assertEquals(2, rec2.lines.size());
        assertTrue(rec2.lines.get(1).equals("x"), rec2.lines.toString());
    }
}
