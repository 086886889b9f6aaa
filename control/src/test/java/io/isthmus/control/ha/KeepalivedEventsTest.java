package io.isthmus.control.ha;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** keepalived's notify FIFO: its lines become state changes, anything else is ignored, and the reader outlives keepalived's restarts. */
class KeepalivedEventsTest {
    @TempDir
    Path dir;

    @Test
    void keepalivedsLinesAndNothingElse() {
        assertEquals(new KeepalivedEvents.Parsed("gw1", KeepalivedEvents.State.MASTER), KeepalivedEvents.parse("INSTANCE \"gw1\" MASTER 200"));
        assertEquals(new KeepalivedEvents.Parsed("gw-2", KeepalivedEvents.State.FAULT), KeepalivedEvents.parse("INSTANCE \"gw-2\" FAULT 0\n"));
        assertNull(KeepalivedEvents.parse("GROUP \"g\" MASTER 100"), "groups of VRRP instances are not used");
        assertNull(KeepalivedEvents.parse("INSTANCE \"gw1\" MASTERFUL 1"));
        assertNull(KeepalivedEvents.parse("INSTANCE gw1 MASTER 1"));
        assertNull(KeepalivedEvents.parse(""));
    }

    @Test
    void changesArriveInOrderAcrossWritersAndJunk() throws Exception {
        Path fifo = dir.resolve("run/gw.keepalived");
        LinkedBlockingQueue<String> got = new LinkedBlockingQueue<>();
        try (KeepalivedEvents e = KeepalivedEvents.open(fifo, (name, s) -> got.add(name + " " + s), Runnable::run)) {
            write(fifo, "INSTANCE \"gw1\" BACKUP 100\nINSTANCE \"gw1\" MASTER 100\n");
            // A writer that goes (keepalived restarting) does not end the reading; junk and an endless line are skipped.
            write(fifo, "garbage\n" + "x".repeat(10_000) + "\nINSTANCE \"gw2\" FAULT 0\n");
            List<String> expected = List.of("gw1 BACKUP", "gw1 MASTER", "gw2 FAULT");
            for (String x : expected) {
                assertEquals(x, got.poll(10, TimeUnit.SECONDS));
            }
        }
    }

    @Test
    void aFileThatIsNotAFifoIsRefused() throws Exception {
        Path file = Files.writeString(dir.resolve("plain"), "x");
        IOException e = assertThrows(IOException.class, () -> KeepalivedEvents.open(file, (n, s) -> { }, Runnable::run));
        assertEquals(file + " is not a FIFO; remove it, or point keepalived's notify_fifo elsewhere", e.getMessage());
    }

    static void write(Path fifo, String text) throws IOException {
        Files.write(fifo, text.getBytes(StandardCharsets.US_ASCII), StandardOpenOption.WRITE);
    }
}
