package io.isthmus.control.radius;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A RADIUS packet (RFC 2865 §3):
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |     Code      |  Identifier   |            Length             |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                         Authenticator (16)                    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  Attributes: Type (1) Length (1, 2 + value) Value ...
 * </pre>
 * Attributes are kept in wire order: EAP-Message fragments must be joined in the order they came
 * (RFC 3579 §3.1) and the Message-Authenticator is computed over the packet as sent.
 */
public record RadiusPacket(int code, int identifier, byte[] authenticator, List<Attribute> attributes) {
    public static final int ACCESS_REQUEST = 1;
    public static final int ACCESS_ACCEPT = 2;
    public static final int ACCESS_REJECT = 3;
    public static final int ACCESS_CHALLENGE = 11;

    public static final int USER_NAME = 1;
    public static final int NAS_IP_ADDRESS = 4;
    public static final int SERVICE_TYPE = 6;
    public static final int FRAMED_MTU = 12;
    public static final int FRAMED_IP_ADDRESS = 8;
    public static final int REPLY_MESSAGE = 18;
    public static final int STATE = 24;
    public static final int VENDOR_SPECIFIC = 26;
    public static final int CALLED_STATION_ID = 30;
    public static final int CALLING_STATION_ID = 31;
    public static final int NAS_IDENTIFIER = 32;
    public static final int NAS_PORT_TYPE = 61;
    public static final int EAP_MESSAGE = 79;
    public static final int MESSAGE_AUTHENTICATOR = 80;

    /** RFC 2865 §3: no packet is longer, and one we receive that is longer is not RADIUS. */
    public static final int MAX_LENGTH = 4096;
    public static final int HEADER_LENGTH = 20;
    /** An attribute's value holds at most 253 bytes: its length octet counts the two header bytes. */
    public static final int MAX_VALUE = 253;

    public record Attribute(int type, byte[] value) {
        public Attribute {
            if (type < 1 || type > 255 || value.length > MAX_VALUE) {
                throw new IllegalArgumentException("attribute " + type + " with " + value.length + " bytes: type 1-255, at most 253 bytes");
            }
        }
    }

    public RadiusPacket {
        if (authenticator.length != 16) {
            throw new IllegalArgumentException("authenticator of " + authenticator.length + " bytes, 16 needed");
        }
        attributes = List.copyOf(attributes);
    }

    public Optional<byte[]> first(int type) {
        return attributes.stream().filter(a -> a.type() == type).map(Attribute::value).findFirst();
    }

    /** All values of {@code type} concatenated in wire order (RFC 3579 §3.1 for EAP-Message). */
    public byte[] joined(int type) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        attributes.stream().filter(a -> a.type() == type).forEach(a -> out.writeBytes(a.value()));
        return out.toByteArray();
    }

    /** {@code data} cut into attributes of {@code type} of at most 253 bytes each, in order. */
    public static List<Attribute> split(int type, byte[] data) {
        List<Attribute> out = new ArrayList<>();
        for (int off = 0; off < data.length; off += MAX_VALUE) {
            out.add(new Attribute(type, java.util.Arrays.copyOfRange(data, off, Math.min(data.length, off + MAX_VALUE))));
        }
        return out;
    }

    /** The length {@code attributes} give a packet: the header and each attribute with its two header bytes. */
    public static int encodedLength(List<Attribute> attributes) {
        int n = HEADER_LENGTH;
        for (Attribute a : attributes) {
            n += 2 + a.value().length;
        }
        return n;
    }

    public byte[] encode() {
        ByteArrayOutputStream out = new ByteArrayOutputStream(256);
        out.write(code);
        out.write(identifier);
        out.write(0);
        out.write(0);
        out.writeBytes(authenticator);
        for (Attribute a : attributes) {
            out.write(a.type());
            out.write(a.value().length + 2);
            out.writeBytes(a.value());
        }
        byte[] b = out.toByteArray();
        if (b.length > MAX_LENGTH) {
            throw new IllegalArgumentException("RADIUS packet of " + b.length + " bytes, at most 4096");
        }
        b[2] = (byte) (b.length >>> 8);
        b[3] = (byte) b.length;
        return b;
    }

    /**
     * Parses {@code length} bytes of {@code data}. Octets past the Length field are padding and
     * ignored (RFC 2865 §3); a Length past the datagram, or an attribute running past Length, is
     * malformed.
     */
    public static RadiusPacket decode(byte[] data, int length) throws MalformedRadiusException {
        if (length < HEADER_LENGTH) {
            throw new MalformedRadiusException("need 20 bytes of header, " + length + " left");
        }
        int declared = (data[2] & 0xFF) << 8 | (data[3] & 0xFF);
        if (declared < HEADER_LENGTH || declared > MAX_LENGTH || declared > length) {
            throw new MalformedRadiusException("Length " + declared + " with " + length + " bytes received (20-4096 allowed)");
        }
        byte[] auth = java.util.Arrays.copyOfRange(data, 4, 20);
        List<Attribute> attrs = new ArrayList<>();
        int off = HEADER_LENGTH;
        while (off < declared) {
            if (declared - off < 2) {
                throw new MalformedRadiusException("need 2 bytes of attribute header at " + off + ", " + (declared - off) + " left");
            }
            int type = data[off] & 0xFF;
            int len = data[off + 1] & 0xFF;
            if (type == 0 || len < 2 || len > declared - off) {
                throw new MalformedRadiusException("attribute type " + type + " length " + len + " at " + off + ", " + (declared - off) + " left");
            }
            attrs.add(new Attribute(type, java.util.Arrays.copyOfRange(data, off + 2, off + len)));
            off += len;
        }
        return new RadiusPacket(data[0] & 0xFF, data[1] & 0xFF, auth, attrs);
    }
}
