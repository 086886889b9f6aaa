package io.isthmus.control.radius;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.HexFormat;
import javax.crypto.Cipher;
import javax.crypto.spec.SecretKeySpec;
import org.bouncycastle.crypto.digests.MD4Digest;

/**
 * The client end of EAP-MSCHAPv2 (draft-kamath-pppext-eap-mschapv2, RFC 2759 for the response,
 * RFC 3079 for the keys), enough to talk to FreeRADIUS through the gateway's RADIUS client in a
 * test: the gateway itself never runs an EAP method, it relays.
 */
final class EapMschapV2Peer {
    static final int EAP_REQUEST = 1;
    static final int EAP_RESPONSE = 2;
    static final int EAP_SUCCESS = 3;
    static final int EAP_FAILURE = 4;
    static final int TYPE_IDENTITY = 1;
    static final int TYPE_MSCHAPV2 = 26;

    private final String user;
    private final byte[] passwordHash;
    private final SecureRandom random = new SecureRandom();
    byte[] ntResponse;
    byte[] peerChallenge;
    byte[] authChallenge;
    boolean serverAuthenticated;
    boolean failureSeen;

    EapMschapV2Peer(String user, String password) {
        this.user = user;
        this.passwordHash = md4(password.getBytes(StandardCharsets.UTF_16LE));
    }

    byte[] identity(int id) {
        return eap(EAP_RESPONSE, id, TYPE_IDENTITY, user.getBytes(StandardCharsets.UTF_8));
    }

    /** The answer to one EAP request from the server. */
    byte[] answer(byte[] request) throws Exception {
        if ((request[0] & 0xFF) != EAP_REQUEST || (request[4] & 0xFF) != TYPE_MSCHAPV2) {
            throw new IllegalStateException("not an EAP-MSCHAPv2 request: " + HexFormat.of().formatHex(request));
        }
        int id = request[1] & 0xFF;
        int opCode = request[5] & 0xFF;
        int msId = request[6] & 0xFF;
        switch (opCode) {
            case 1 -> { // Challenge: Value-Size 16, the challenge, the server's name
                authChallenge = Arrays.copyOfRange(request, 10, 26);
                peerChallenge = new byte[16];
                random.nextBytes(peerChallenge);
                ntResponse = challengeResponse(challengeHash(), passwordHash);
                byte[] name = user.getBytes(StandardCharsets.UTF_8);
                ByteArrayOutputStream d = new ByteArrayOutputStream();
                int msLength = 4 + 1 + 49 + name.length;
                d.write(2);
                d.write(msId);
                d.write(msLength >> 8);
                d.write(msLength);
                d.write(49);
                d.writeBytes(peerChallenge);
                d.writeBytes(new byte[8]);
                d.writeBytes(ntResponse);
                d.write(0);
                d.writeBytes(name);
                return eap(EAP_RESPONSE, id, TYPE_MSCHAPV2, d.toByteArray());
            }
            case 3 -> { // Success: "S=<authenticator response> M=..."
                String message = new String(request, 9, request.length - 9, StandardCharsets.US_ASCII);
                serverAuthenticated = message.startsWith("S=" + authenticatorResponse());
                if (!serverAuthenticated) {
                    throw new IllegalStateException("the server's authenticator response does not verify: " + message);
                }
                return eap(EAP_RESPONSE, id, TYPE_MSCHAPV2, new byte[] {3});
            }
            case 4 -> { // Failure: "E=691 R=0 ..."
                failureSeen = true;
                return eap(EAP_RESPONSE, id, TYPE_MSCHAPV2, new byte[] {4});
            }
            default -> throw new IllegalStateException("MS-CHAPv2 op-code " + opCode);
        }
    }

    /** RFC 3079 §3.4: the server's receive key (its MS-MPPE-Recv-Key), then its send key. */
    byte[] serverRecvKey() throws Exception {
        return asymmetricStartKey(masterKey(), MAGIC2);
    }

    byte[] serverSendKey() throws Exception {
        return asymmetricStartKey(masterKey(), MAGIC3);
    }

    private static final byte[] MAGIC1 = "This is the MPPE Master Key".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] MAGIC2 = "On the client side, this is the send key; on the server side, it is the receive key."
            .getBytes(StandardCharsets.US_ASCII);
    private static final byte[] MAGIC3 = "On the client side, this is the receive key; on the server side, it is the send key."
            .getBytes(StandardCharsets.US_ASCII);

    private byte[] masterKey() throws Exception {
        MessageDigest sha = MessageDigest.getInstance("SHA-1");
        sha.update(md4(passwordHash));
        sha.update(ntResponse);
        sha.update(MAGIC1);
        return Arrays.copyOf(sha.digest(), 16);
    }

    private static byte[] asymmetricStartKey(byte[] masterKey, byte[] magic) throws Exception {
        MessageDigest sha = MessageDigest.getInstance("SHA-1");
        sha.update(masterKey);
        sha.update(new byte[40]);
        sha.update(magic);
        byte[] pad2 = new byte[40];
        Arrays.fill(pad2, (byte) 0xF2);
        sha.update(pad2);
        return Arrays.copyOf(sha.digest(), 16);
    }

    private byte[] challengeHash() throws Exception {
        MessageDigest sha = MessageDigest.getInstance("SHA-1");
        sha.update(peerChallenge);
        sha.update(authChallenge);
        sha.update(user.getBytes(StandardCharsets.UTF_8));
        return Arrays.copyOf(sha.digest(), 8);
    }

    /** RFC 2759 §8.7. */
    private String authenticatorResponse() throws Exception {
        MessageDigest sha = MessageDigest.getInstance("SHA-1");
        sha.update(md4(passwordHash));
        sha.update(ntResponse);
        sha.update("Magic server to client signing constant".getBytes(StandardCharsets.US_ASCII));
        byte[] digest = sha.digest();
        sha.update(digest);
        sha.update(challengeHash());
        sha.update("Pad to make it do more than one iteration".getBytes(StandardCharsets.US_ASCII));
        return HexFormat.of().withUpperCase().formatHex(sha.digest());
    }

    /** RFC 2759 §8.5: DES of the challenge under three 7-byte pieces of the zero-padded hash. */
    static byte[] challengeResponse(byte[] challenge, byte[] hash) throws Exception {
        byte[] z = Arrays.copyOf(hash, 21);
        byte[] out = new byte[24];
        for (int i = 0; i < 3; i++) {
            Cipher des = Cipher.getInstance("DES/ECB/NoPadding");
            des.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(desKey(Arrays.copyOfRange(z, 7 * i, 7 * i + 7)), "DES"));
            System.arraycopy(des.doFinal(challenge), 0, out, 8 * i, 8);
        }
        return out;
    }

    private static byte[] desKey(byte[] k7) {
        byte[] k = new byte[8];
        long bits = 0;
        for (byte b : k7) {
            bits = bits << 8 | (b & 0xFF);
        }
        for (int i = 0; i < 8; i++) {
            k[i] = (byte) (((bits >>> (49 - 7 * i)) & 0x7F) << 1);
        }
        return k;
    }

    static byte[] md4(byte[] data) {
        MD4Digest d = new MD4Digest();
        d.update(data, 0, data.length);
        byte[] out = new byte[16];
        d.doFinal(out, 0);
        return out;
    }

    static byte[] eap(int code, int id, int type, byte[] data) {
        byte[] p = new byte[5 + data.length];
        p[0] = (byte) code;
        p[1] = (byte) id;
        p[2] = (byte) (p.length >> 8);
        p[3] = (byte) p.length;
        p[4] = (byte) type;
        System.arraycopy(data, 0, p, 5, data.length);
        return p;
    }
}
