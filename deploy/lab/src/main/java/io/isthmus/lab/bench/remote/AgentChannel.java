package io.isthmus.lab.bench.remote;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The two-machine bench's control link between gateway-a (which drives) and gateway-b: JSON
 * requests and answers, one a line, over SSH's stdin and stdout or over a TCP connection to a
 * gateway-b started by hand. Both ends hold a token (given over SSH's encrypted channel, or
 * typed on both machines); on plain TCP it must not be readable from the wire, nor may a line be
 * forged, changed, replayed or reflected, because gateway-b starts daemons on the requests.
 *
 * <pre>
 *  b -> a   isthmus-bench-agent 1 Cb                  Cb, Ca: 32 random bytes each, in hex
 *  a -> b   isthmus-bench-driver 1 Ca HMAC(T, "gateway-a" Cb Ca)
 *  b -> a   HMAC(T, "gateway-b" Cb Ca)                (or "refused", and b closes)
 *  then     HMAC(K, direction seq line) line         K = HMAC(T, "session" Cb Ca)
 * </pre>
 *
 * The key both IKE gateways use is derived from K ({@link #presharedKey()}): a fresh one per run
 * that never crosses the link. Lines are at most {@link #MAX_LINE} bytes; anything else ends the
 * link with an {@link IOException} that says what was wrong.
 */
public final class AgentChannel implements Closeable {
    static final ObjectMapper JSON = new ObjectMapper();
    public static final int MAX_LINE = 64 * 1024;
    private static final String AGENT = "isthmus-bench-agent 1 ";
    private static final String DRIVER = "isthmus-bench-driver 1 ";
    private static final SecureRandom RANDOM = new SecureRandom();

    private final InputStream in;
    private final OutputStream out;
    private final byte[] key;
    private final boolean driver;
    private long sent;
    private long received;

    private AgentChannel(InputStream in, OutputStream out, byte[] key, boolean driver) {
        this.in = in;
        this.out = out;
        this.key = key;
        this.driver = driver;
    }

    /** A fresh random token, in hex (what gateway-b prints when none is given). */
    public static String newToken() {
        byte[] t = new byte[16];
        RANDOM.nextBytes(t);
        return HexFormat.of().formatHex(t);
    }

    /** gateway-b's end: sends the challenge, checks the answer; fails (after telling the other end) if it is wrong. */
    public static AgentChannel agent(InputStream unbuffered, OutputStream out, String token) throws IOException {
        InputStream in = buffered(unbuffered);
        byte[] cb = random();
        write(out, AGENT + HexFormat.of().formatHex(cb));
        String answer = readLine(in);
        if (!answer.startsWith(DRIVER)) {
            write(out, "refused");
            throw new IOException("the other end is not a bench driver of this version: '" + MachineFacts.abbreviate(answer) + "'");
        }
        String[] f = answer.substring(DRIVER.length()).split(" ");
        byte[] ca = f.length == 2 ? hex(f[0]) : null;
        if (ca == null || ca.length != 32 || !MessageDigest.isEqual(hex(f[1]), mac(token.getBytes(StandardCharsets.UTF_8), "gateway-a", cb, ca))) {
            write(out, "refused");
            throw new IOException("the bench driver's token is wrong");
        }
        write(out, HexFormat.of().formatHex(mac(token.getBytes(StandardCharsets.UTF_8), "gateway-b", cb, ca)));
        return new AgentChannel(in, out, mac(token.getBytes(StandardCharsets.UTF_8), "session", cb, ca), false);
    }

    /** gateway-a's end: answers the challenge and checks that gateway-b holds the token too. */
    public static AgentChannel driver(InputStream unbuffered, OutputStream out, String token) throws IOException {
        InputStream in = buffered(unbuffered);
        String hello = readLine(in);
        if (!hello.startsWith(AGENT)) {
            throw new IOException("gateway-b did not answer as a bench agent of this version: '" + MachineFacts.abbreviate(hello) + "'");
        }
        byte[] cb = hex(hello.substring(AGENT.length()));
        if (cb == null || cb.length != 32) {
            throw new IOException("gateway-b's challenge is malformed");
        }
        byte[] ca = random();
        byte[] t = token.getBytes(StandardCharsets.UTF_8);
        write(out, DRIVER + HexFormat.of().formatHex(ca) + " " + HexFormat.of().formatHex(mac(t, "gateway-a", cb, ca)));
        String proof = readLine(in);
        if (proof.equals("refused")) {
            throw new IOException("gateway-b refused the token");
        }
        byte[] p = hex(proof);
        if (p == null || !MessageDigest.isEqual(p, mac(t, "gateway-b", cb, ca))) {
            throw new IOException("gateway-b does not hold the token");
        }
        return new AgentChannel(in, out, mac(t, "session", cb, ca), true);
    }

    /** Sends one message. */
    public synchronized void send(JsonNode message) throws IOException {
        write(out, seal(message));
    }

    /** The line {@link #send} writes for {@code message}, its MAC first; counts as sent. */
    synchronized String seal(JsonNode message) throws IOException {
        String line = JSON.writeValueAsString(message);
        return HexFormat.of().formatHex(lineMac(driver, sent++, line)) + " " + line;
    }

    /** The next message; fails on the link's end or on a line that is not the other end's next one. */
    public JsonNode receive() throws IOException {
        String line = readLine(in);
        int space = line.indexOf(' ');
        byte[] mac = space == 64 ? hex(line.substring(0, space)) : null;
        String body = space < 0 ? "" : line.substring(space + 1);
        if (mac == null || !MessageDigest.isEqual(mac, lineMac(!driver, received, body))) {
            throw new IOException("a line on the control link is not the other end's next one (forged, changed, replayed or out of order)");
        }
        received++;
        JsonNode n = JSON.readTree(body);
        if (n == null || !n.isObject()) {
            throw new IOException("a message on the control link is not a JSON object");
        }
        return n;
    }

    /** The IKE pre-shared key of this run: the same at both ends, derived, never sent. */
    public String presharedKey() {
        return Base64.getEncoder().withoutPadding().encodeToString(hmac(key, "ike pre-shared key".getBytes(StandardCharsets.UTF_8)));
    }

    public static ObjectNode message(String op) {
        return JSON.createObjectNode().put("op", op);
    }

    @Override
    public void close() throws IOException {
        try {
            in.close();
        } finally {
            out.close();
        }
    }

    private byte[] lineMac(boolean fromDriver, long seq, String line) {
        byte[] body = line.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(1 + 8 + body.length).put((byte) (fromDriver ? 'a' : 'b')).putLong(seq).put(body);
        return hmac(key, b.array());
    }

    private static byte[] mac(byte[] token, String label, byte[] cb, byte[] ca) {
        byte[] l = label.getBytes(StandardCharsets.UTF_8);
        return hmac(token, ByteBuffer.allocate(l.length + cb.length + ca.length).put(l).put(cb).put(ca).array());
    }

    private static byte[] hmac(byte[] key, byte[] data) {
        try {
            Mac m = Mac.getInstance("HmacSHA256");
            m.init(new SecretKeySpec(key, "HmacSHA256"));
            return m.doFinal(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
        }
    }

    private static byte[] random() {
        byte[] b = new byte[32];
        RANDOM.nextBytes(b);
        return b;
    }

    /** Hex to bytes, or null if it is not even-length hex. */
    private static byte[] hex(String s) {
        try {
            return s.length() % 2 == 0 && !s.isEmpty() ? HexFormat.of().parseHex(s) : null;
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private static void write(OutputStream out, String line) throws IOException {
        out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    /** Lines are read a byte at a time: from a buffer, not a system call each. */
    static InputStream buffered(InputStream in) {
        return in instanceof java.io.BufferedInputStream ? in : new java.io.BufferedInputStream(in);
    }

    /** One line without its newline; fails at the end of the stream or past {@link #MAX_LINE} bytes. */
    static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        while (true) {
            int c = in.read();
            if (c < 0) {
                throw new IOException("the control link ended" + (line.size() > 0 ? " in the middle of a line" : ""));
            }
            if (c == '\n') {
                return line.toString(StandardCharsets.UTF_8);
            }
            if (line.size() >= MAX_LINE) {
                throw new IOException("a line on the control link is longer than " + MAX_LINE + " bytes");
            }
            line.write(c);
        }
    }
}
