package io.isthmus.control.bgp;

import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A client of BIRD's control socket, the text protocol birdc speaks: a command line sent, then
 * reply lines {@code DDDD-text} (more follow), {@code DDDD text} (the last) or {@code " text"}
 * (the previous line's code goes on). Codes 0xxx end a command well, 1xxx/2xxx carry tables,
 * 8xxx and 9xxx are errors. One connection per command, so a confused exchange never outlives it.
 *
 * <p>BIRD is a process of ours, but its socket is a file anybody with the rights could replace,
 * and a BIRD that hangs must not hang a status request or a scrape: every exchange ends within
 * {@code timeout}, no line may be longer than {@link #MAX_LINE} nor a reply larger than
 * {@link #MAX_REPLY}, and anything that does not follow the protocol ends the exchange with an
 * {@link IOException} saying what was wrong.
 */
public final class BirdControl {
    /** Longer than any line of BIRD's own (its protocol and route lines are well under 512). */
    static final int MAX_LINE = 4096;
    /** "show protocols all" of 100 BGP sessions is about 150 KiB. */
    static final int MAX_REPLY = 1 << 20;

    /** One reply line: its code (that of the line it continues, for a continuation) and its text. */
    public record Line(int code, String text) {
    }

    /** A reply: its lines, the last one's code telling how it ended. */
    public record Reply(List<Line> lines) {
        public int code() {
            return lines.getLast().code();
        }

        public boolean failed() {
            return code() >= 8000;
        }

        /** The last line's text: "Reconfigured", or what went wrong. */
        public String outcome() {
            return lines.getLast().text();
        }
    }

    private final Path socket;
    private final Duration timeout;

    public BirdControl(Path socket, Duration timeout) {
        this.socket = socket;
        this.timeout = timeout;
    }

    public Path socket() {
        return socket;
    }

    /** Sends {@code command} (one line) after BIRD's greeting and returns its reply; throws on anything else, or on the timeout. */
    public Reply command(String command) throws IOException {
        if (command.indexOf('\n') >= 0 || command.indexOf('\r') >= 0) {
            throw new IllegalArgumentException("one line only");
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        try (SocketChannel ch = SocketChannel.open(java.net.StandardProtocolFamily.UNIX); Selector selector = Selector.open()) {
            // Connected without blocking too: a blocking connect to a socket whose backlog is full (a BIRD that stopped
            // accepting) waits for ever, and every status call and scrape after it would hang there.
            ch.configureBlocking(false);
            Reader reader = new Reader(ch, selector, deadline);
            if (!ch.connect(UnixDomainSocketAddress.of(socket))) {
                SelectionKey connecting = ch.register(selector, SelectionKey.OP_CONNECT);
                while (!ch.finishConnect()) {
                    reader.await(connecting, SelectionKey.OP_CONNECT);
                }
                connecting.cancel();
                selector.selectNow();
            }
            Reply greeting = reader.reply();
            if (greeting.code() != 1) {
                throw new IOException("BIRD's socket " + socket + " did not greet as BIRD does: " + greeting.lines().getFirst());
            }
            ByteBuffer out = ByteBuffer.wrap((command + "\n").getBytes(StandardCharsets.US_ASCII));
            SelectionKey key = ch.register(selector, SelectionKey.OP_WRITE);
            while (out.hasRemaining()) {
                if (ch.write(out) == 0) {
                    reader.await(key, SelectionKey.OP_WRITE);
                }
            }
            key.cancel();
            selector.selectNow();
            return reader.reply();
        }
    }

    /** Reads reply lines within the deadline and the bounds. */
    private final class Reader {
        private final SocketChannel ch;
        private final Selector selector;
        private final long deadline;
        private final ByteBuffer in = ByteBuffer.allocate(8192);
        private final byte[] line = new byte[MAX_LINE];
        private int lineLength;
        private long total;
        private int lastCode = -1;

        Reader(SocketChannel ch, Selector selector, long deadline) {
            this.ch = ch;
            this.selector = selector;
            this.deadline = deadline;
            in.flip();
        }

        void await(SelectionKey key, int ops) throws IOException {
            key.interestOps(ops);
            long left = deadline - System.nanoTime();
            if (left <= 0 || selector.select(Math.max(1, left / 1_000_000)) == 0 && System.nanoTime() >= deadline) {
                throw new IOException("BIRD did not answer on " + socket + " within " + timeout.toMillis() + " ms");
            }
            selector.selectedKeys().clear();
        }

        Reply reply() throws IOException {
            List<Line> lines = new ArrayList<>();
            while (true) {
                String text = nextLine();
                Line l;
                boolean last;
                if (text.length() >= 5 && isCode(text) && (text.charAt(4) == ' ' || text.charAt(4) == '-')) {
                    int code = Integer.parseInt(text.substring(0, 4));
                    l = new Line(code, text.substring(5));
                    last = text.charAt(4) == ' ';
                    lastCode = code;
                } else if (text.startsWith(" ") && lastCode >= 0) {
                    l = new Line(lastCode, text.substring(1));
                    last = false;
                } else {
                    throw new IOException("not BIRD's protocol on " + socket + ": " + printable(text));
                }
                lines.add(l);
                if (last) {
                    lastCode = -1;
                    return new Reply(List.copyOf(lines));
                }
            }
        }

        private String nextLine() throws IOException {
            lineLength = 0;
            SelectionKey key = null;
            while (true) {
                while (in.hasRemaining()) {
                    byte b = in.get();
                    if (++total > MAX_REPLY) {
                        throw new IOException("BIRD's reply on " + socket + " is over " + MAX_REPLY + " bytes; cut off");
                    }
                    if (b == '\n') {
                        return new String(line, 0, lineLength, StandardCharsets.UTF_8);
                    }
                    if (lineLength == MAX_LINE) {
                        throw new IOException("a line of over " + MAX_LINE + " bytes on " + socket + "; not BIRD's protocol");
                    }
                    line[lineLength++] = b;
                }
                in.clear();
                int n = ch.read(in);
                in.flip();
                if (n < 0) {
                    throw new IOException("BIRD closed " + socket + " in the middle of a reply");
                }
                if (n == 0) {
                    if (key == null) {
                        key = ch.keyFor(selector) != null ? ch.keyFor(selector) : ch.register(selector, SelectionKey.OP_READ);
                    }
                    await(key, SelectionKey.OP_READ);
                }
            }
        }
    }

    private static boolean isCode(String text) {
        for (int i = 0; i < 4; i++) {
            if (!Character.isDigit(text.charAt(i)) || text.charAt(i) > '9') {
                return false;
            }
        }
        return true;
    }

    /** At most 80 characters, control characters shown as '?': for messages about what arrived. */
    static String printable(String text) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < text.length() && b.length() < 80; i++) {
            char c = text.charAt(i);
            b.append(c >= 0x20 && c < 0x7F ? c : '?');
        }
        return b.toString();
    }
}
