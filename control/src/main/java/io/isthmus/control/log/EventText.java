package io.isthmus.control.log;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.StackTraceElementProxy;
import java.util.ArrayList;
import java.util.List;

/** The parts of a log event every line format writes: its message, its source, its stack trace. */
final class EventText {
    /** The bridge from System.Logger to SLF4J; its frame on the stack marks a line that came that way. */
    private static final String PLATFORM_BRIDGE = "org.slf4j.jdk.platform.logging.SLF4JPlatformLogger";
    /** A cause chain longer than this is cut: a stack trace is for reading, not for filling the disk. */
    private static final int MAX_CAUSES = 16;

    private EventText() {
    }

    /**
     * The message as one line. Two kinds of event arrive: from Netty through SLF4J, a pattern
     * with {@code {}} and its arguments, formatted here; from System.Logger (all of Isthmus and
     * the JDK) through slf4j-jdk-platform-logging, which formats the message itself
     * ({@code {0}}, MessageFormat) and yet also passes the arguments on. Formatting that a second
     * time would put an argument wherever the text holds a literal {@code {}}, which a peer can
     * choose (an identity "a{}b"). So when the text holds {@code {}} and arguments came with it,
     * the stack tells which way it came: encoders run on the thread that logs (no asynchronous
     * appender here), below the bridge's frame if there is one.
     */
    static String message(ILoggingEvent e) {
        String raw = e.getMessage();
        if (raw == null) {
            return "";
        }
        Object[] args = e.getArgumentArray();
        boolean formatHere = args != null && args.length > 0 && raw.contains("{}") && !cameThroughPlatformBridge();
        return oneLine(formatHere ? e.getFormattedMessage() : raw);
    }

    private static boolean cameThroughPlatformBridge() {
        return StackWalker.getInstance().walk(frames -> frames.anyMatch(f -> f.getClassName().equals(PLATFORM_BRIDGE)));
    }

    /** The subsystem's word ("ike"), or the logger's name for a logger outside every subsystem (the JDK's own). */
    static String source(ILoggingEvent e) {
        return Subsystem.ofLogger(e.getLoggerName()).map(Subsystem::word).orElse(e.getLoggerName());
    }

    /**
     * {@code text} with every character that could end a line or drive a terminal (C0 and C1
     * controls but tab, DEL, the Unicode line and paragraph separators) written as {@code \xNN}
     * (a Unicode escape above 0xFF): one event stays one line, whatever reached the message. Text from peers
     * is already made printable where it is logged (PeerText); this holds for everything else.
     */
    static String oneLine(String text) {
        StringBuilder out = null;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            boolean breaks = c < 0x20 && c != '\t' || c >= 0x7F && c <= 0x9F || c == '\u2028' || c == '\u2029';
            if (!breaks) {
                if (out != null) {
                    out.append(c);
                }
                continue;
            }
            if (out == null) {
                out = new StringBuilder(text.length() + 16).append(text, 0, i);
            }
            out.append(c <= 0xFF ? String.format("\\x%02x", (int) c) : String.format("\\u%04x", (int) c));
        }
        return out == null ? text : out.toString();
    }

    /** The stack trace of the event's exception, as the JDK prints one, a line per element; empty without one. */
    static List<String> stackTrace(ILoggingEvent e) {
        List<String> lines = new ArrayList<>();
        if (e.getThrowableProxy() != null) {
            append(lines, e.getThrowableProxy(), "", "", 0);
        }
        return lines;
    }

    private static void append(List<String> lines, IThrowableProxy t, String label, String indent, int depth) {
        if (depth > MAX_CAUSES) {
            lines.add(indent + label + "(" + depth + " causes deep: the rest left out)");
            return;
        }
        lines.add(indent + label + t.getClassName() + (t.getMessage() == null ? "" : ": " + oneLine(t.getMessage())));
        if (t.isCyclic()) {
            return; // Logback marks the cause that closes a loop; its frames were printed above
        }
        StackTraceElementProxy[] frames = t.getStackTraceElementProxyArray();
        int own = frames.length - t.getCommonFrames();
        for (int i = 0; i < own; i++) {
            lines.add(indent + "\tat " + frames[i].getStackTraceElement());
        }
        if (t.getCommonFrames() > 0) {
            lines.add(indent + "\t... " + t.getCommonFrames() + " more");
        }
        if (t.getSuppressed() != null) {
            for (IThrowableProxy s : t.getSuppressed()) {
                append(lines, s, "Suppressed: ", indent + "\t", depth + 1);
            }
        }
        if (t.getCause() != null) {
            append(lines, t.getCause(), "Caused by: ", indent, depth + 1);
        }
    }
}
