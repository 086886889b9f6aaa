package io.isthmus.esp;

/**
 * The cryptography of one SA for one thread: encrypts and authenticates the ESP payload in
 * place. Instances hold cipher state and scratch buffers and are never shared between threads;
 * {@link SecurityAssociation} gives each thread its own.
 *
 * <p>Both methods see the whole ESP packet at {@code espOffset}: SPI and sequence number (already
 * written), the IV slot, {@code payloadLength} bytes of payload (inner packet, padding, trailer;
 * a multiple of the suite's block alignment), then the ICV slot.
 */
interface PacketTransform {

    /**
     * Writes the IV, encrypts the payload in place and writes the ICV.
     *
     * @param sequence the full 64-bit sequence number; its high half is authenticated when {@code esn}
     * @param iv the explicit IV for AEAD transforms; never repeated under one key (the SA uses the
     *           sequence number). AES-CBC derives its own unpredictable IV and ignores it.
     */
    void seal(byte[] packet, int espOffset, int payloadLength, long sequence, long iv, boolean esn);

    /**
     * Checks the ICV and, only if it verifies, decrypts the payload in place. On failure the packet
     * is left untouched, so the caller may retry with another {@code sequenceHigh} (RFC 4303 A3).
     */
    boolean open(byte[] packet, int espOffset, int payloadLength, int sequenceHigh, boolean esn);

    /** Overwrites the key material this transform holds. */
    void destroy();

    static boolean constantTimeEquals(byte[] a, int aOffset, byte[] b, int bOffset, int length) {
        int diff = 0;
        for (int i = 0; i < length; i++) {
            diff |= a[aOffset + i] ^ b[bOffset + i];
        }
        return diff == 0;
    }
}
