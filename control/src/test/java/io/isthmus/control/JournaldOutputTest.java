package io.isthmus.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A whole process as systemd starts it: with JOURNAL_STREAM naming its stderr, every line
 * carries its priority for journald and no time; with the variable naming something else (a
 * parent's journal, inherited), the lines are the usual ones.
 */
class JournaldOutputTest {
    /** Logs one line at each level through System.Logger, as the gateway does, then stops. */
    public static final class Child {
        public static void main(String[] args) {
            Isthmus.setUpLogging();
            System.Logger log = System.getLogger("io.isthmus.ike");
            log.log(System.Logger.Level.ERROR, "an error");
            log.log(System.Logger.Level.WARNING, "a warning");
            log.log(System.Logger.Level.INFO, "for information");
            log.log(System.Logger.Level.DEBUG, "not shown at the default level");
            System.getLogger("io.isthmus.control").log(System.Logger.Level.INFO, "child done");
        }
    }

    @TempDir
    Path dir;

    static List<String> run(Path output, String journalStream) throws Exception {
        try (ChildJvm child = ChildJvm.start(List.of(), Map.of("JOURNAL_STREAM", journalStream), Child.class, List.of(), output)) {
            assertEquals(0, child.awaitExit(Duration.ofSeconds(30)), () -> ReloadSignalTest.output(child));
            return child.output().lines().toList();
        }
    }

    @Test
    void toTheJournalLinesStartWithTheirPriority() throws Exception {
        Path output = Files.createFile(dir.resolve("journal-stream"));
        String named = Files.getAttribute(output, "unix:dev") + ":" + Files.getAttribute(output, "unix:ino");
        assertEquals(List.of("<3>ike: an error", "<4>ike: a warning", "<6>ike: for information", "<6>control: child done"), run(output, named));
    }

    @Test
    void elsewhereTheyAreTheUsualLines() throws Exception {
        Path output = Files.createFile(dir.resolve("file"));
        Path journal = Files.createFile(dir.resolve("a-parents-journal"));
        String inherited = Files.getAttribute(journal, "unix:dev") + ":" + Files.getAttribute(journal, "unix:ino");
        List<String> lines = run(output, inherited);
        assertEquals(4, lines.size(), lines.toString());
        assertTrue(lines.getFirst().matches("\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{3} ERROR ike: an error"), lines.toString());
    }
}
