package io.isthmus.ike;

import io.isthmus.esp.SaParameters;
import io.isthmus.ike.message.IkeProtocolException;
import io.isthmus.ike.message.WireReader;
import io.isthmus.ike.message.WireWriter;
import java.util.Arrays;

/**
 * A new child SA's keys, both directions, on their one trip from IKE to whoever builds the ESP
 * SAs (the data plane): an install ticket its consumer uses once and wipes with
 * {@link #destroy()}. IKE keeps none of them; what it and status keep of the SA is its
 * key-free {@link ChildSaDescription}.
 *
 * <p>The daemon of an active-active pair also sends them to its partner, which keeps them for
 * a takeover: {@link #encode()} and {@link #decode(byte[])}, in the form {@link IkeSaRecord}
 * uses (a version byte, then each direction: SPI, suite, ESN, replay window, lifetime, keys).
 * The encoding holds the keys in clear: the caller wipes it once sent (the pair link encrypts).
 */
public record ChildSaKeys(SaParameters inbound, SaParameters outbound) {
    static final int VERSION = 1;

    /** Zeroes both directions' keys. */
    public void destroy() {
        inbound.destroy();
        outbound.destroy();
    }

    public byte[] encode() {
        WireWriter w = new WireWriter(512);
        try {
            w.u8(VERSION);
            write(w, inbound);
            write(w, outbound);
            return w.toByteArray();
        } finally {
            w.wipe();
        }
    }

    /** The keys {@link #encode()} wrote; the caller may wipe {@code encoded} afterwards. */
    public static ChildSaKeys decode(byte[] encoded) throws MalformedRecordException {
        WireReader r = new WireReader(encoded, 0, encoded.length);
        try {
            int version = r.u8("version");
            if (version != VERSION) {
                throw new MalformedRecordException("child SA keys of version " + version + ", this one reads " + VERSION);
            }
            SaParameters in = read(r, "inbound");
            SaParameters out;
            try {
                out = read(r, "outbound");
            } catch (IkeProtocolException | RuntimeException e) {
                in.destroy();
                throw e;
            }
            if (r.remaining() != 0) {
                in.destroy();
                out.destroy();
                throw new MalformedRecordException(r.remaining() + " bytes after the child SA keys");
            }
            return new ChildSaKeys(in, out);
        } catch (IkeProtocolException | IllegalArgumentException e) {
            throw new MalformedRecordException("malformed child SA keys: " + e.getMessage(), e);
        }
    }

    private static void write(WireWriter w, SaParameters p) {
        w.u32(p.spi());
        RecordEncoding.suite(w, p.suite());
        RecordEncoding.flag(w, p.esn());
        w.u32(p.replayWindow());
        RecordEncoding.lifetime(w, p.lifetime());
        byte[] e = p.encryptionKey();
        byte[] a = p.integrityKey();
        RecordEncoding.bytes(w, e);
        RecordEncoding.bytes(w, a);
        Arrays.fill(e, (byte) 0);
        Arrays.fill(a, (byte) 0);
    }

    private static SaParameters read(WireReader r, String direction) throws IkeProtocolException {
        int spi = r.u32(direction + " SPI");
        var suite = RecordEncoding.suite(r, direction + " suite");
        boolean esn = RecordEncoding.flag(r, direction + " ESN");
        int replayWindow = r.u32(direction + " replay window");
        var lifetime = RecordEncoding.lifetime(r, direction + " lifetime");
        byte[] e = RecordEncoding.bytes(r, direction + " encryption key");
        byte[] a = RecordEncoding.bytes(r, direction + " integrity key");
        try {
            return SaParameters.builder(spi, suite).encryptionKey(e).integrityKey(a).esn(esn).replayWindow(replayWindow)
                    .lifetime(lifetime).build();
        } finally {
            Arrays.fill(e, (byte) 0);
            Arrays.fill(a, (byte) 0);
        }
    }

    @Override
    public String toString() {
        return "keys of SPIs " + Integer.toHexString(inbound.spi()) + "_i " + Integer.toHexString(outbound.spi()) + "_o";
    }
}
