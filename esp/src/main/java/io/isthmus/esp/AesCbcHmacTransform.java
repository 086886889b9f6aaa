package io.isthmus.esp;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import javax.crypto.Cipher;
import javax.crypto.ShortBufferException;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * AES-CBC (RFC 3602) with HMAC-SHA2 truncated to half its length (RFC 4868), encrypt-then-MAC:
 * the ICV covers SPI, sequence number, IV and ciphertext, then the ESN high half if negotiated
 * (RFC 4303 §3.3.2.1), and is checked before anything is decrypted.
 *
 * <p>The IV must be unpredictable. Instead of a random number per packet, or a {@code Cipher.init}
 * per packet (which allocates), one CBC cipher is initialised once and chained across packets:
 * each packet starts with an extra block, this transform's secret seed xor the sequence number,
 * and the encryption of that block is the packet's IV, because the cipher's chaining value then
 * becomes exactly that IV for the blocks that follow (the "random first block" construction
 * TLS 1.1 explains). The seed is secret, so the IV is an encryption of a value nobody else knows.
 * Decryption chains the same way: the IV goes through the cipher first and its output block,
 * meaningless, is dropped.
 */
final class AesCbcHmacTransform implements PacketTransform {
    private static final int BLOCK = 16;
    private static final int CHUNK = Scratch.CHUNK;
    private static final VarHandle LONG_BE = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);
    private static final VarHandle INT_BE = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.BIG_ENDIAN);
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Cipher encryptor;
    private final Cipher decryptor;
    private final Hmac hmac;
    private final int icvLength;
    private final byte[] ivSeed = new byte[BLOCK];
    private final byte[] scratch = Scratch.bytes();
    private final byte[] mac;
    private final byte[] sequenceHigh = new byte[4];

    AesCbcHmacTransform(byte[] encryptionKey, IntegrityAlgorithm integrity, byte[] integrityKey) {
        if (encryptionKey.length != 16 && encryptionKey.length != 24 && encryptionKey.length != 32) {
            throw new IllegalArgumentException("AES-CBC key must be 16, 24 or 32 bytes, not " + encryptionKey.length);
        }
        if (integrityKey.length != integrity.keyLength()) {
            throw new IllegalArgumentException(integrity + " key must be " + integrity.keyLength() + " bytes, not " + integrityKey.length);
        }
        RANDOM.nextBytes(ivSeed);
        try {
            SecretKeySpec key = new SecretKeySpec(encryptionKey, "AES");
            encryptor = Cipher.getInstance("AES/CBC/NoPadding");
            encryptor.init(Cipher.ENCRYPT_MODE, key, new IvParameterSpec(ivSeed));
            decryptor = Cipher.getInstance("AES/CBC/NoPadding");
            decryptor.init(Cipher.DECRYPT_MODE, key, new IvParameterSpec(new byte[BLOCK]));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES/CBC/NoPadding is unavailable", e);
        }
        hmac = new Hmac(integrity.digest(), integrity.digestBlockLength(), integrityKey);
        icvLength = integrity.icvLength();
        mac = new byte[hmac.length()];
    }

    @Override
    public void seal(byte[] packet, int espOffset, int payloadLength, long sequence, long iv, boolean esn) {
        int ivOffset = espOffset + EspPacket.HEADER_LENGTH;
        LONG_BE.set(packet, ivOffset, (long) LONG_BE.get(ivSeed, 0));
        LONG_BE.set(packet, ivOffset + 8, (long) LONG_BE.get(ivSeed, 8) ^ sequence);
        chain(encryptor, packet, ivOffset, BLOCK + payloadLength, 0);
        computeMac(packet, espOffset, ivOffset + BLOCK + payloadLength, (int) (sequence >>> 32), esn);
        System.arraycopy(mac, 0, packet, ivOffset + BLOCK + payloadLength, icvLength);
    }

    @Override
    public boolean open(byte[] packet, int espOffset, int payloadLength, int sequenceHigh, boolean esn) {
        int ivOffset = espOffset + EspPacket.HEADER_LENGTH;
        int end = ivOffset + BLOCK + payloadLength;
        computeMac(packet, espOffset, end, sequenceHigh, esn);
        if (!PacketTransform.constantTimeEquals(mac, 0, packet, end, icvLength)) {
            return false;
        }
        chain(decryptor, packet, ivOffset, BLOCK + payloadLength, BLOCK);
        return true;
    }

    /**
     * Runs {@code length} bytes through the chained cipher into scratch and back in place (JDK
     * ciphers copy, and so allocate, when input and output overlap). The first {@code discard}
     * output bytes are not written back.
     */
    private void chain(Cipher cipher, byte[] packet, int offset, int length, int discard) {
        try {
            for (int done = 0; done < length; ) {
                int n = Math.min(CHUNK, length - done);
                cipher.update(packet, offset + done, n, scratch, 0);
                int skip = done == 0 ? discard : 0;
                System.arraycopy(scratch, skip, packet, offset + done + skip, n - skip);
                done += n;
            }
        } catch (ShortBufferException e) {
            throw new IllegalStateException(e);
        }
    }

    private void computeMac(byte[] packet, int espOffset, int end, int high, boolean esn) {
        hmac.update(packet, espOffset, end - espOffset);
        if (esn) {
            INT_BE.set(sequenceHigh, 0, high);
            hmac.update(sequenceHigh, 0, 4);
        }
        hmac.finish(mac, 0);
    }

    @Override
    public void destroy() {
        hmac.destroy();
        Arrays.fill(ivSeed, (byte) 0);
        Arrays.fill(mac, (byte) 0);
        try {
            SecretKeySpec zero = new SecretKeySpec(new byte[16], "AES");
            encryptor.init(Cipher.ENCRYPT_MODE, zero, new IvParameterSpec(new byte[BLOCK]));
            decryptor.init(Cipher.DECRYPT_MODE, zero, new IvParameterSpec(new byte[BLOCK]));
        } catch (GeneralSecurityException ignored) {
            // the JDK key schedules cannot be reached otherwise
        }
    }
}
