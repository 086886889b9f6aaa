package io.isthmus.control.log;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Whether this process writes its log straight to journald. systemd sets {@code JOURNAL_STREAM}
 * to "device:inode" of the stream it connected stdout/stderr to (systemd.exec(5)); a child that
 * inherited the variable but had its stderr redirected elsewhere must not take it as its own,
 * so the variable counts only when it names the very file descriptor 2.
 */
final class JournalStream {
    private JournalStream() {
    }

    /** True if standard error is the stream {@code JOURNAL_STREAM} names. */
    static boolean isStandardError() {
        return names(System.getenv("JOURNAL_STREAM"), Path.of("/proc/self/fd/2"));
    }

    /** True if {@code journalStream} ("device:inode", in decimal) is the file {@code stream} leads to. */
    static boolean names(String journalStream, Path stream) {
        if (journalStream == null) {
            return false;
        }
        String[] parts = journalStream.strip().split(":");
        if (parts.length != 2) {
            return false;
        }
        try {
            long device = Long.parseUnsignedLong(parts[0]);
            long inode = Long.parseUnsignedLong(parts[1]);
            Map<String, Object> a = Files.readAttributes(stream, "unix:dev,ino"); // follows /proc's link to the socket or file
            return ((Long) a.get("dev")) == device && ((Long) a.get("ino")) == inode;
        } catch (NumberFormatException | IOException | UnsupportedOperationException e) {
            return false;
        }
    }
}
