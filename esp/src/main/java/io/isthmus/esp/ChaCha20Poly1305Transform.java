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
    private static final VarHandle INT_LE = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle LONG_BE = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);

    private final ChaCha20 chacha;
    private final Poly1305 poly = new Poly1305();
    private final int salt;
    private final byte[] oneTimeKey = new byte[32];
    private final byte[] aad = new byte[16];
    private final byte[] tag = new byte[TAG_LENGTH];

    /**
     * @param keyingMaterial the 32-byte key followed by the 4-byte salt (RFC 7634 §4)
     */
    ChaCha20Poly1305Transform(byte[] keyingMaterial) {
        if (keyingMaterial.length != 36) {
            throw new IllegalArgumentException("ChaCha20-Poly1305 keying material must be 36 bytes, not " + keyingMaterial.length);
        }
        chacha = new ChaCha20(keyingMaterial, 0);
        salt = (int) INT_LE.get(keyingMaterial, 32);
    }

    @Override
    public void seal(byte[] packet, int espOffset, int payloadLength, long sequence, long iv, boolean esn) {
        int ivOffset = espOffset + EspPacket.HEADER_LENGTH;
        int payloadOffset = ivOffset + 8;
        LONG_BE.set(packet, ivOffset, iv);
        startMessage(packet, ivOffset);
        chacha.xor(packet, payloadOffset, payloadLength, 1);
        authenticate(packet, espOffset, payloadOffset, payloadLength, (int) (sequence >>> 32), esn);
        System.arraycopy(tag, 0, packet, payloadOffset + payloadLength, TAG_LENGTH);
    }

    @Override
    public boolean open(byte[] packet, int espOffset, int payloadLength, int sequenceHigh, boolean esn) {
        int ivOffset = espOffset + EspPacket.HEADER_LENGTH;
        int payloadOffset = ivOffset + 8;
        startMessage(packet, ivOffset);
        authenticate(packet, espOffset, payloadOffset, payloadLength, sequenceHigh, esn);
        if (!PacketTransform.constantTimeEquals(tag, 0, packet, payloadOffset + payloadLength, TAG_LENGTH)) {
            return false;
        }
        chacha.xor(packet, payloadOffset, payloadLength, 1);
        return true;
    }

    /** Sets the nonce from the packet's IV and derives the Poly1305 key from block 0 (RFC 8439 §2.6). */
    private void startMessage(byte[] packet, int ivOffset) {
        chacha.nonce(salt, (int) INT_LE.get(packet, ivOffset), (int) INT_LE.get(packet, ivOffset + 4));
        int[] block0 = chacha.block(0);
        for (int i = 0; i < 8; i++) {
            INT_LE.set(oneTimeKey, 4 * i, block0[i]);
        }
        poly.init(oneTimeKey, 0);
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
        Arrays.fill(oneTimeKey, (byte) 0);
        Arrays.fill(tag, (byte) 0);
    }
}
