package io.isthmus.ike.message;

/**
 * Text a peer chose (identities, certificate names), made safe for one log line: printable
 * ASCII stays, everything else (a newline that would start a forged log line, terminal escape
 * sequences, bytes that are not ASCII) becomes {@code \xNN}, and a backslash becomes {@code \\}
 * so that an escape in the log is never ambiguous.
 */
public final class PeerText {
    private PeerText() {
    }

    public static String printable(String text) {
        StringBuilder out = null;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            boolean plain = c >= 0x20 && c < 0x7F && c != '\\';
            if (plain && out == null) {
                continue;
            }
            if (out == null) {
                out = new StringBuilder(text.length() + 16).append(text, 0, i);
            }
            if (plain) {
                out.append(c);
            } else if (c == '\\') {
                out.append("\\\\");
            } else if (c < 0x100) {
                out.append(String.format("\\x%02x", (int) c));
            } else {
                out.append(String.format("\\u%04x", (int) c));
            }
        }
        return out == null ? text : out.toString();
    }

    /** Bytes a peer sent as text (an FQDN, an RFC 822 address), each byte on its own. */
    public static String printable(byte[] bytes) {
        StringBuilder out = new StringBuilder(bytes.length);
        for (byte b : bytes) {
            out.append((char) (b & 0xFF));
        }
        return printable(out.toString());
    }
}
