package io.isthmus.control.log;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** JOURNAL_STREAM counts only when it names the stream the log is written to. */
class JournalStreamTest {
    @TempDir
    Path dir;

    /** "device:inode" of {@code file}, as systemd writes JOURNAL_STREAM. */
    static String deviceAndInode(Path file) throws Exception {
        return Files.getAttribute(file, "unix:dev") + ":" + Files.getAttribute(file, "unix:ino");
    }

    @Test
    void theStreamItNamesIsTheJournal() throws Exception {
        Path stream = Files.createFile(dir.resolve("stream"));
        assertTrue(JournalStream.names(deviceAndInode(stream), stream));
        assertTrue(JournalStream.names(" " + deviceAndInode(stream) + "\n", stream));
    }

    @Test
    void anotherStreamAnUnsetOrBrokenVariableIsNot() throws Exception {
        Path stream = Files.createFile(dir.resolve("stream"));
        Path other = Files.createFile(dir.resolve("other"));
        assertFalse(JournalStream.names(deviceAndInode(other), stream), "inherited from a parent whose stderr was the journal");
        assertFalse(JournalStream.names(null, stream));
        assertFalse(JournalStream.names("", stream));
        assertFalse(JournalStream.names("8:1234", dir.resolve("gone")));
        assertFalse(JournalStream.names("journal", stream));
        assertFalse(JournalStream.names("8:12:34", stream));
        assertFalse(JournalStream.names("-:-", stream));
    }
}
