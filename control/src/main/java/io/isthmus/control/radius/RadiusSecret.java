package io.isthmus.control.radius;

import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Optional;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The secret shared with one RADIUS server and everything computed with it: the Response
 * Authenticator (RFC 2865 §3), the Message-Authenticator (RFC 3579 §3.2, HMAC-MD5) and the
 * decryption of MS-MPPE-Send/Recv-Key (RFC 2548 §2.4.2-3). The bytes never leave this class;
 * {@link #toString()} says nothing of them.
 */
public final class RadiusSecret {
    public static final int MICROSOFT = 311;
    public static final int MS_MPPE_SEND_KEY = 16;
    public static final int MS_MPPE_RECV_KEY = 17;

    private final byte[] secret;

    public RadiusSecret(byte[] secret) {
        if (secret.length == 0) {
            throw new IllegalArgumentException("an empty RADIUS secret");
        }
        this.secret = secret.clone();
    }

    /**
     * The request as sent: {@code packet} encoded with a Message-Authenticator as its last
     * attribute, computed over the whole packet with that attribute's value zeroed.
     */
    public byte[] sign(RadiusPacket packet) {
        var attrs = new java.util.ArrayList<>(packet.attributes());
        attrs.removeIf(a -> a.type() == RadiusPacket.MESSAGE_AUTHENTICATOR);
        attrs.add(new RadiusPacket.Attribute(RadiusPacket.MESSAGE_AUTHENTICATOR, new byte[16]));
        byte[] wire = new RadiusPacket(packet.code(), packet.identifier(), packet.authenticator(), attrs).encode();
        byte[] mac = hmacMd5(wire);
        System.arraycopy(mac, 0, wire, wire.length - 16, 16);
        return wire;
    }

    /**
     * Whether the answer {@code wire} ({@code length} bytes, already parsed as {@code answer}) to a
     * request with {@code requestAuthenticator} was made with this secret: the Response
     * Authenticator and a Message-Authenticator, which we require on every answer (an answer
     * carrying EAP must have one, RFC 3579 §3.2; FreeRADIUS sends it on all of them).
     */
    public boolean verifiesAnswer(byte[] wire, int length, RadiusPacket answer, byte[] requestAuthenticator) {
        int declared = (wire[2] & 0xFF) << 8 | (wire[3] & 0xFF);
        byte[] copy = Arrays.copyOf(wire, declared);
        System.arraycopy(requestAuthenticator, 0, copy, 4, 16);
        MessageDigest md5 = md5();
        md5.update(copy);
        md5.update(secret);
        if (!MessageDigest.isEqual(md5.digest(), answer.authenticator())) {
            return false;
        }
        int at = messageAuthenticatorOffset(copy);
        if (at < 0) {
            return false;
        }
        byte[] received = Arrays.copyOfRange(copy, at, at + 16);
        Arrays.fill(copy, at, at + 16, (byte) 0);
        return MessageDigest.isEqual(hmacMd5(copy), received);
    }

    /** Where the value of the single, 16-byte Message-Authenticator starts, or -1 (none, two, or a wrong length). */
    private static int messageAuthenticatorOffset(byte[] p) {
        int found = -1;
        for (int off = RadiusPacket.HEADER_LENGTH; off + 2 <= p.length; off += p[off + 1] & 0xFF) {
            int len = p[off + 1] & 0xFF;
            if (len < 2) {
                return -1;
            }
            if ((p[off] & 0xFF) == RadiusPacket.MESSAGE_AUTHENTICATOR) {
                if (found >= 0 || len != 18) {
                    return -1;
                }
                found = off + 2;
            }
        }
        return found;
    }

    /**
     * The MSK (RFC 3748 §7.10 as RFC 3579 and strongSwan's eap-radius carry it): MS-MPPE-Recv-Key
     * then MS-MPPE-Send-Key, both decrypted with the request's authenticator; empty when either is
     * missing or does not decrypt to a sane length.
     */
    public Optional<byte[]> msk(RadiusPacket accept, byte[] requestAuthenticator) {
        Optional<byte[]> recv = vendorValue(accept, MS_MPPE_RECV_KEY).flatMap(v -> mppeKey(v, requestAuthenticator));
        Optional<byte[]> send = vendorValue(accept, MS_MPPE_SEND_KEY).flatMap(v -> mppeKey(v, requestAuthenticator));
        if (recv.isEmpty() || send.isEmpty()) {
            return Optional.empty();
        }
        byte[] msk = new byte[recv.get().length + send.get().length];
        System.arraycopy(recv.get(), 0, msk, 0, recv.get().length);
        System.arraycopy(send.get(), 0, msk, recv.get().length, send.get().length);
        Arrays.fill(recv.get(), (byte) 0);
        Arrays.fill(send.get(), (byte) 0);
        return Optional.of(msk);
    }

    private static Optional<byte[]> vendorValue(RadiusPacket p, int vendorType) {
        for (var a : p.attributes()) {
            byte[] v = a.value();
            if (a.type() != RadiusPacket.VENDOR_SPECIFIC || v.length < 6) {
                continue;
            }
            int vendor = (v[0] & 0xFF) << 24 | (v[1] & 0xFF) << 16 | (v[2] & 0xFF) << 8 | (v[3] & 0xFF);
            int len = v[5] & 0xFF;
            if (vendor == MICROSOFT && (v[4] & 0xFF) == vendorType && len >= 2 && len <= v.length - 4) {
                return Optional.of(Arrays.copyOfRange(v, 6, 4 + len));
            }
        }
        return Optional.empty();
    }

    /**
     * RFC 2548 §2.4.2: Salt (2 bytes, high bit set) then the String in 16-byte blocks,
     * c(1) = p(1) xor MD5(S + R + A), c(i) = p(i) xor MD5(S + c(i-1)); the plain text starts with
     * the key's length and is padded with zeros.
     */
    Optional<byte[]> mppeKey(byte[] value, byte[] requestAuthenticator) {
        if (value.length < 2 + 16 || (value.length - 2) % 16 != 0 || (value[0] & 0x80) == 0) {
            return Optional.empty();
        }
        byte[] plain = new byte[value.length - 2];
        byte[] previous = null;
        for (int off = 2; off < value.length; off += 16) {
            MessageDigest md5 = md5();
            md5.update(secret);
            if (previous == null) {
                md5.update(requestAuthenticator);
                md5.update(value, 0, 2);
            } else {
                md5.update(previous);
            }
            byte[] b = md5.digest();
            for (int i = 0; i < 16; i++) {
                plain[off - 2 + i] = (byte) (value[off + i] ^ b[i]);
            }
            previous = Arrays.copyOfRange(value, off, off + 16);
        }
        int keyLength = plain[0] & 0xFF;
        if (keyLength == 0 || keyLength > plain.length - 1) {
            Arrays.fill(plain, (byte) 0);
            return Optional.empty();
        }
        byte[] key = Arrays.copyOfRange(plain, 1, 1 + keyLength);
        Arrays.fill(plain, (byte) 0);
        return Optional.of(key);
    }

    /** RFC 2548 §2.4.2 the other way: what a server sends; for tests and for a server of our own. */
    byte[] encryptMppeKey(byte[] key, byte[] requestAuthenticator, byte[] salt) {
        int n = (1 + key.length + 15) / 16 * 16;
        byte[] plain = new byte[n];
        plain[0] = (byte) key.length;
        System.arraycopy(key, 0, plain, 1, key.length);
        byte[] out = new byte[2 + n];
        out[0] = salt[0];
        out[1] = salt[1];
        byte[] previous = null;
        for (int off = 0; off < n; off += 16) {
            MessageDigest md5 = md5();
            md5.update(secret);
            if (previous == null) {
                md5.update(requestAuthenticator);
                md5.update(salt, 0, 2);
            } else {
                md5.update(previous);
            }
            byte[] b = md5.digest();
            for (int i = 0; i < 16; i++) {
                out[2 + off + i] = (byte) (plain[off + i] ^ b[i]);
            }
            previous = Arrays.copyOfRange(out, 2 + off, 2 + off + 16);
        }
        return out;
    }

    /**
     * An answer as a server signs it (RFC 3579 §3.2 then RFC 2865 §3): the Message-Authenticator
     * over the packet with the request's authenticator in its place, then the Response
     * Authenticator over that. For tests and a server of our own.
     */
    byte[] signAnswer(RadiusPacket answer, byte[] requestAuthenticator) {
        byte[] wire = sign(new RadiusPacket(answer.code(), answer.identifier(), requestAuthenticator, answer.attributes()));
        System.arraycopy(responseAuthenticator(wire), 0, wire, 4, 16);
        return wire;
    }

    /** The Response Authenticator a server computes (RFC 2865 §3): for tests and for signing answers. */
    byte[] responseAuthenticator(byte[] wireWithRequestAuthenticator) {
        MessageDigest md5 = md5();
        md5.update(wireWithRequestAuthenticator);
        md5.update(secret);
        return md5.digest();
    }

    byte[] hmacMd5(byte[] data) {
        try {
            Mac mac = Mac.getInstance("HmacMD5");
            mac.init(new SecretKeySpec(secret, "HmacMD5"));
            return mac.doFinal(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacMD5 is part of every JDK", e);
        }
    }

    private static MessageDigest md5() {
        try {
            return MessageDigest.getInstance("MD5");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("MD5 is part of every JDK", e);
        }
    }

    @Override
    public String toString() {
        return "RadiusSecret[hidden]";
    }
}
