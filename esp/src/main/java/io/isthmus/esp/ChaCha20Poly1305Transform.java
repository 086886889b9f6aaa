package io.isthmus.esp;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * ChaCha20-Poly1305 for ESP (RFC 7634): the AEAD of RFC 8439 §2.8 with nonce = salt || IV and
 * the AAD of RFC 4106 (SPI || sequence number, SPI || high || low with ESN). Opening verifies the
 * tag before decrypting.
 */
final class ChaCha20Poly1305Transform implements PacketTransform {
    private static final int TAG_LENGTH = 16;
    /** In {@link Scratch}: keystream from index 0 (where the JDK's block function writes), a copy of the data one CHUNK on. */
    private static final int DATA = Scratch.CHUNK;
    private static final VarHandle INT_LE = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle LONG_BE = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);

    private final ChaCha20 chacha;
    private final Poly1305 poly = new Poly1305();
    private final int salt;
    private final byte[] scratch = Scratch.bytes();
    private final byte[] aad = new byte[16];
    private final byte[] tag = new byte[TAG_LENGTH];

    /**
     * @param keyingMaterial the 32-byte key followed by the 4-byte salt (RFC 7634 §4)
     */
    ChaCha20Poly1305Transform(byte[] keyingMaterial, boolean jdkBlocks) {
        if (keyingMaterial.length != 36) {
            throw new IllegalArgumentException("ChaCha20-Poly1305 keying material must be 36 bytes, not " + keyingMaterial.length);
        }
        chacha = new ChaCha20(keyingMaterial, 0, jdkBlocks);
        salt = (int) INT_LE.get(keyingMaterial, 32);
    }

    boolean usesJdkBlocks() {
        return chacha.usesJdk();
    }

    @Override
    public void seal(byte[] packet, int espOffset, int payloadLength, long sequence, long iv, boolean esn) {
        int ivOffset = espOffset + EspPacket.HEADER_LENGTH;
        int payloadOffset = ivOffset + 8;
        LONG_BE.set(packet, ivOffset, iv);
        int available = startMessage(packet, ivOffset);
        applyKeystream(packet, payloadOffset, payloadLength, available);
        authenticate(packet, espOffset, payloadOffset, payloadLength, (int) (sequence >>> 32), esn);
        System.arraycopy(tag, 0, packet, payloadOffset + payloadLength, TAG_LENGTH);
    }

    @Override
    public boolean open(byte[] packet, int espOffset, int payloadLength, int sequenceHigh, boolean esn) {
        int ivOffset = espOffset + EspPacket.HEADER_LENGTH;
        int payloadOffset = ivOffset + 8;
        int available = startMessage(packet, ivOffset);
        authenticate(packet, espOffset, payloadOffset, payloadLength, sequenceHigh, esn);
        if (!PacketTransform.constantTimeEquals(tag, 0, packet, payloadOffset + payloadLength, TAG_LENGTH)) {
            return false;
        }
        applyKeystream(packet, payloadOffset, payloadLength, available);
        return true;
    }

    /**
     * Sets the nonce from the packet's IV, generates keystream from block 0 and takes the
     * Poly1305 key from that block (RFC 8439 §2.6); the rest of the keystream, from block 1,
     * encrypts the payload. Returns how much keystream is in scratch.
     */
    private int startMessage(byte[] packet, int ivOffset) {
        chacha.nonce(salt, (int) INT_LE.get(packet, ivOffset), (int) INT_LE.get(packet, ivOffset + 4));
        int available = chacha.keystream(0, scratch);
        poly.init(scratch, 0);
        return available;
    }

    /**
     * XORs keystream into the payload: first what {@link #startMessage} left after block 0, then
     * more as needed. Through scratch, at a constant distance, so that C2 vectorises the loop
     * (see AesGcmTransform.xorChunk).
     */
    private void applyKeystream(byte[] packet, int offset, int length, int available) {
        byte[] s = scratch;
        int position = 64;
        int counter = available / 64;
        for (int done = 0; done < length; ) {
            if (position == available) {
                available = chacha.keystream(counter, s);
                counter += available / 64;
                position = 0;
            }
            int n = Math.min(length - done, available - position);
            System.arraycopy(packet, offset + done, s, DATA + position, n);
            for (int i = position; i < position + n; i++) {
                s[DATA + i] ^= s[i];
            }
            System.arraycopy(s, DATA + position, packet, offset + done, n);
            done += n;
            position += n;
        }
    }

    private void authenticate(byte[] packet, int espOffset, int payloadOffset, int payloadLength, int sequenceHigh, boolean esn) {
        int aadLength = EspPacket.aadBlock(packet, espOffset, sequenceHigh, esn, aad);
        poly.blocks(aad, 0, 1);
        poly.padded(packet, payloadOffset, payloadLength);
        poly.block(aadLength, payloadLength);
        poly.finish(tag, 0);
    }

    @Override
    public void destroy() {
        chacha.destroy();
        poly.destroy();
        Arrays.fill(tag, (byte) 0);
    }
}
