package io.isthmus.ike;

import io.isthmus.esp.CipherSuite;
import io.isthmus.esp.EncryptionAlgorithm;
import io.isthmus.esp.IntegrityAlgorithm;
import io.isthmus.esp.Lifetime;
import io.isthmus.ike.message.IkeProtocolException;
import io.isthmus.ike.message.TrafficSelector;
import io.isthmus.ike.message.WireReader;
import io.isthmus.ike.message.WireWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The pieces {@link IkeSaRecord} and {@link ChildSaKeys} are written with, over the message
 * codec's {@link WireWriter} and {@link WireReader}. Every length is read before what it counts
 * and checked against what is left (the reader refuses to read past its end before allocating),
 * so garbage costs at most its own size in memory. Enums travel by name, not by ordinal: a
 * constant added in a later version must not shift the others' meaning.
 */
final class RecordEncoding {
    /** Longer than any connection name, identity or key of ours; a bound against garbage. */
    static final int MAX_FIELD = 16 * 1024;
    /** Selectors per side of a child SA. */
    static final int MAX_SELECTORS = 256;

    private RecordEncoding() {
    }

    static void text(WireWriter w, String s) {
        bytes(w, s.getBytes(StandardCharsets.UTF_8));
    }

    static String text(WireReader r, String what) throws IkeProtocolException {
        return new String(bytes(r, what), StandardCharsets.UTF_8);
    }

    static void bytes(WireWriter w, byte[] b) {
        if (b.length > MAX_FIELD) {
            throw new IllegalArgumentException("field of " + b.length + " bytes is longer than " + MAX_FIELD);
        }
        w.u16(b.length).bytes(b);
    }

    static byte[] bytes(WireReader r, String what) throws IkeProtocolException {
        return r.bytes(r.u16(what), what);
    }

    static void flag(WireWriter w, boolean b) {
        w.u8(b ? 1 : 0);
    }

    static boolean flag(WireReader r, String what) throws IkeProtocolException {
        int v = r.u8(what);
        if (v > 1) {
            throw IkeProtocolException.invalidSyntax(what + " is " + v + ", not 0 or 1");
        }
        return v == 1;
    }

    static void address(WireWriter w, InetSocketAddress a) {
        byte[] ip = a.getAddress().getAddress();
        w.u8(ip.length).bytes(ip).u16(a.getPort());
    }

    static InetSocketAddress address(WireReader r, String what) throws IkeProtocolException {
        int n = r.u8(what);
        if (n != 4 && n != 16) {
            throw IkeProtocolException.invalidSyntax(what + ": address of " + n + " bytes");
        }
        byte[] ip = r.bytes(n, what);
        int port = r.u16(what);
        try {
            return new InetSocketAddress(InetAddress.getByAddress(ip), port);
        } catch (UnknownHostException e) {
            throw IkeProtocolException.invalidSyntax(what + ": " + e.getMessage());
        }
    }

    static void instant(WireWriter w, Instant t) {
        w.u64(t.getEpochSecond()).u32(t.getNano());
    }

    static Instant instant(WireReader r, String what) throws IkeProtocolException {
        long seconds = r.u64(what);
        int nanos = r.u32(what);
        if (nanos < 0 || nanos > 999_999_999 || seconds < Instant.MIN.getEpochSecond() || seconds > Instant.MAX.getEpochSecond()) {
            throw IkeProtocolException.invalidSyntax(what + " out of range");
        }
        return Instant.ofEpochSecond(seconds, nanos);
    }

    static void suite(WireWriter w, CipherSuite s) {
        text(w, s.encryption().name());
        w.u16(s.keyBits());
        text(w, s.integrity().name());
    }

    /** Throws IllegalArgumentException for a name or key size that is not a suite: the caller turns it into a malformed record. */
    static CipherSuite suite(WireReader r, String what) throws IkeProtocolException {
        EncryptionAlgorithm e = EncryptionAlgorithm.valueOf(text(r, what));
        int bits = r.u16(what);
        IntegrityAlgorithm i = IntegrityAlgorithm.valueOf(text(r, what));
        return new CipherSuite(e, bits, i);
    }

    static void lifetime(WireWriter w, Lifetime l) {
        w.u64(l.softBytes()).u64(l.hardBytes()).u64(l.softPackets()).u64(l.hardPackets());
    }

    static Lifetime lifetime(WireReader r, String what) throws IkeProtocolException {
        return new Lifetime(r.u64(what), r.u64(what), r.u64(what), r.u64(what));
    }

    static void selectors(WireWriter w, List<TrafficSelector> ts) {
        w.u16(ts.size());
        for (TrafficSelector t : ts) {
            w.u8(t.tsType()).u8(t.ipProtocol()).u16(t.startPort()).u16(t.endPort());
            byte[] start = t.startAddress();
            w.u8(start.length).bytes(start).bytes(t.endAddress());
        }
    }

    static List<TrafficSelector> selectors(WireReader r, String what) throws IkeProtocolException {
        int n = r.u16(what);
        if (n > MAX_SELECTORS) {
            throw IkeProtocolException.invalidSyntax(what + ": " + n + " selectors");
        }
        List<TrafficSelector> ts = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int type = r.u8(what);
            int protocol = r.u8(what);
            int startPort = r.u16(what);
            int endPort = r.u16(what);
            int length = r.u8(what);
            ts.add(new TrafficSelector(type, protocol, startPort, endPort, r.bytes(length, what), r.bytes(length, what)));
        }
        return ts;
    }
}
