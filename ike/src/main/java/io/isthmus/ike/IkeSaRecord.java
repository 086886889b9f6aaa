package io.isthmus.ike;

import io.isthmus.esp.CipherSuite;
import io.isthmus.ike.crypto.IkeSaKeys;
import io.isthmus.ike.crypto.KeyExchangeMethod;
import io.isthmus.ike.crypto.PseudorandomFunction;
import io.isthmus.ike.message.IkeProtocolException;
import io.isthmus.ike.message.WireReader;
import io.isthmus.ike.message.WireWriter;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

/**
 * Everything another instance needs to carry an established IKE SA on without an exchange
 * (active-active pairing): who we are to the peer (connection, role, SPIs, addresses), what was
 * negotiated (proposal, keys, NAT, what the peer supports, its identity), where the message
 * window stands (our next request ID, the peer's next expected one, the answer to its last
 * request, byte for byte, for its retransmission), and each child SA without its keys (those
 * travel once, in {@link ChildSaKeys}). Taken by {@link IkeSa#record()}, carried on by
 * {@code IkeEngine.adopt}.
 *
 * <p>It holds SK_d, SK_a and SK_e: {@link #destroy()} wipes them, and so does the instance that
 * adopts it (its IKE SA keeps copies). {@link #encode()} writes a version byte then the fields in
 * order; {@link #decode} refuses truncated, trailing, out-of-range and unknown-version input with
 * a {@link MalformedRecordException}, and allocates no more than the input's own size. Equal
 * records encode to the same bytes, which is what {@link #equals} compares.
 */
public record IkeSaRecord(String connection, boolean initiator, long initiatorSpi, long responderSpi,
                          InetSocketAddress localAddress, InetSocketAddress remoteAddress, IkeProposal proposal, IkeSaKeys keys,
                          boolean natDetected, boolean behindNat, boolean peerFragments, boolean peerMessageIdSync,
                          Identity peerIdentity, Instant establishedAt, int nextRequestId, int expectedRequestId,
                          List<byte[]> lastResponse, List<Child> children) {
    static final int VERSION = 1;
    /** An IKE_AUTH answer with a certificate chain, fragmented: far below this. */
    static final int MAX_DATAGRAMS = 64;
    static final int MAX_CHILDREN = 4096;

    /** One child SA as its IKE SA keeps it, without keys. */
    public record Child(ChildSaDescription description, ChildProposal proposal, Instant establishedAt, boolean createdAsInitiator) {
    }

    public IkeSaRecord {
        lastResponse = lastResponse == null ? List.of() : lastResponse.stream().map(byte[]::clone).toList();
        children = List.copyOf(children);
    }

    @Override
    public List<byte[]> lastResponse() {
        return lastResponse.stream().map(byte[]::clone).toList();
    }

    /** The SPI the instance that carries the SA finds it by. */
    public long ourSpi() {
        return initiator ? initiatorSpi : responderSpi;
    }

    /** Wipes the keys; the record cannot be adopted afterwards. */
    public void destroy() {
        keys.destroy();
    }

    public byte[] encode() {
        WireWriter w = new WireWriter(1024);
        try {
            w.u8(VERSION);
            RecordEncoding.text(w, connection);
            RecordEncoding.flag(w, initiator);
            w.u64(initiatorSpi).u64(responderSpi);
            RecordEncoding.address(w, localAddress);
            RecordEncoding.address(w, remoteAddress);
            RecordEncoding.suite(w, proposal.cipher());
            RecordEncoding.text(w, proposal.prf().name());
            RecordEncoding.text(w, proposal.keyExchange().name());
            for (byte[] k : new byte[][] {keys.skD(), keys.skAi(), keys.skAr(), keys.skEi(), keys.skEr(), keys.skPi(), keys.skPr()}) {
                RecordEncoding.bytes(w, k);
            }
            w.u8((natDetected ? 1 : 0) | (behindNat ? 2 : 0) | (peerFragments ? 4 : 0) | (peerMessageIdSync ? 8 : 0));
            w.u8(peerIdentity.type());
            RecordEncoding.bytes(w, peerIdentity.data());
            RecordEncoding.instant(w, establishedAt);
            w.u32(nextRequestId).u32(expectedRequestId);
            w.u8(lastResponse.size());
            for (byte[] d : lastResponse) {
                w.u16(d.length).bytes(d);
            }
            w.u16(children.size());
            for (Child c : children) {
                writeChild(w, c);
            }
            return w.toByteArray();
        } finally {
            w.wipe();
        }
    }

    private static void writeChild(WireWriter w, Child c) {
        ChildSaDescription d = c.description();
        RecordEncoding.text(w, d.connection());
        for (ChildSaDescription.Direction dir : List.of(d.inbound(), d.outbound())) {
            w.u32(dir.spi());
            RecordEncoding.suite(w, dir.suite());
            RecordEncoding.flag(w, dir.esn());
            RecordEncoding.lifetime(w, dir.lifetime());
        }
        RecordEncoding.selectors(w, d.localSelectors());
        RecordEncoding.selectors(w, d.remoteSelectors());
        RecordEncoding.address(w, d.localAddress());
        RecordEncoding.address(w, d.remoteAddress());
        RecordEncoding.flag(w, d.udpEncapsulation());
        RecordEncoding.suite(w, c.proposal().cipher());
        RecordEncoding.flag(w, c.proposal().esn());
        RecordEncoding.text(w, c.proposal().pfs() == null ? "" : c.proposal().pfs().name());
        RecordEncoding.instant(w, c.establishedAt());
        RecordEncoding.flag(w, c.createdAsInitiator());
    }

    /** The record {@link #encode()} wrote. The caller may wipe {@code encoded} afterwards: the record has copies. */
    public static IkeSaRecord decode(byte[] encoded) throws MalformedRecordException {
        WireReader r = new WireReader(encoded, 0, encoded.length);
        IkeSaKeys keys = null;
        try {
            int version = r.u8("version");
            if (version != VERSION) {
                throw new MalformedRecordException("IKE SA record of version " + version + ", this one reads " + VERSION);
            }
            String connection = RecordEncoding.text(r, "connection");
            boolean initiator = RecordEncoding.flag(r, "initiator");
            long spiI = r.u64("initiator SPI");
            long spiR = r.u64("responder SPI");
            InetSocketAddress local = RecordEncoding.address(r, "local address");
            InetSocketAddress remote = RecordEncoding.address(r, "remote address");
            CipherSuite cipher = RecordEncoding.suite(r, "IKE cipher");
            PseudorandomFunction prf = PseudorandomFunction.valueOf(RecordEncoding.text(r, "PRF"));
            KeyExchangeMethod ke = KeyExchangeMethod.valueOf(RecordEncoding.text(r, "key exchange"));
            byte[][] k = new byte[7][];
            try {
                for (int i = 0; i < k.length; i++) {
                    k[i] = RecordEncoding.bytes(r, "key " + i);
                }
            } catch (IkeProtocolException e) {
                for (byte[] b : k) {
                    if (b != null) {
                        Arrays.fill(b, (byte) 0);
                    }
                }
                throw e;
            }
            keys = new IkeSaKeys(k[0], k[1], k[2], k[3], k[4], k[5], k[6]);
            checkKeyLengths(cipher, prf, keys);
            int flags = r.u8("flags");
            if (flags > 15) {
                throw new MalformedRecordException("unknown flags " + Integer.toHexString(flags));
            }
            Identity peer = new Identity(r.u8("peer identity type"), RecordEncoding.bytes(r, "peer identity"));
            Instant established = RecordEncoding.instant(r, "established");
            int next = r.u32("next request ID");
            int expected = r.u32("expected request ID");
            int datagrams = r.u8("last response");
            if (datagrams > MAX_DATAGRAMS) {
                throw new MalformedRecordException("last response of " + datagrams + " datagrams");
            }
            List<byte[]> last = new ArrayList<>();
            for (int i = 0; i < datagrams; i++) {
                last.add(r.bytes(r.u16("last response datagram"), "last response datagram"));
            }
            int n = r.u16("child SAs");
            if (n > MAX_CHILDREN) {
                throw new MalformedRecordException(n + " child SAs");
            }
            List<Child> children = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                children.add(readChild(r));
            }
            if (r.remaining() != 0) {
                throw new MalformedRecordException(r.remaining() + " bytes after the IKE SA record");
            }
            return new IkeSaRecord(connection, initiator, spiI, spiR, local, remote, new IkeProposal(cipher, prf, ke), keys,
                    (flags & 1) != 0, (flags & 2) != 0, (flags & 4) != 0, (flags & 8) != 0, peer, established, next, expected, last,
                    children);
        } catch (IkeProtocolException | IllegalArgumentException | MalformedRecordException e) {
            if (keys != null) {
                keys.destroy();
            }
            throw e instanceof MalformedRecordException m ? m : new MalformedRecordException("malformed IKE SA record: " + e.getMessage(), e);
        }
    }

    /** Keys of other lengths than the proposal's would fail only at the first message, on the peer's side. */
    private static void checkKeyLengths(CipherSuite cipher, PseudorandomFunction prf, IkeSaKeys keys) throws MalformedRecordException {
        int e = cipher.encryptionKeyLength();
        int a = cipher.integrityKeyLength();
        if (keys.skEi().length != e || keys.skEr().length != e || keys.skAi().length != a || keys.skAr().length != a
                || keys.skD().length == 0 || keys.skPi().length == 0 || keys.skPr().length == 0) {
            throw new MalformedRecordException("IKE SA keys do not fit " + cipher + "-" + prf.keyword());
        }
    }

    private static Child readChild(WireReader r) throws IkeProtocolException {
        String connection = RecordEncoding.text(r, "child connection");
        ChildSaDescription.Direction[] dirs = new ChildSaDescription.Direction[2];
        for (int i = 0; i < 2; i++) {
            dirs[i] = new ChildSaDescription.Direction(r.u32("child SPI"), RecordEncoding.suite(r, "child suite"),
                    RecordEncoding.flag(r, "child ESN"), RecordEncoding.lifetime(r, "child lifetime"));
        }
        var local = RecordEncoding.selectors(r, "local selectors");
        var remote = RecordEncoding.selectors(r, "remote selectors");
        var localAddress = RecordEncoding.address(r, "child local address");
        var remoteAddress = RecordEncoding.address(r, "child remote address");
        boolean udp = RecordEncoding.flag(r, "UDP encapsulation");
        CipherSuite cipher = RecordEncoding.suite(r, "child proposal");
        boolean esn = RecordEncoding.flag(r, "child proposal ESN");
        String pfs = RecordEncoding.text(r, "child proposal PFS");
        Instant established = RecordEncoding.instant(r, "child established");
        boolean createdAsInitiator = RecordEncoding.flag(r, "child created as initiator");
        ChildSaDescription d = new ChildSaDescription(connection, dirs[0], dirs[1], local, remote, localAddress, remoteAddress, udp);
        return new Child(d, new ChildProposal(cipher, esn, pfs.isEmpty() ? null : KeyExchangeMethod.valueOf(pfs)), established,
                createdAsInitiator);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof IkeSaRecord other && Arrays.equals(encode(), other.encode());
    }

    @Override
    public int hashCode() {
        return Long.hashCode(initiatorSpi) * 31 + Long.hashCode(responderSpi);
    }

    /** Never shows the keys. */
    @Override
    public String toString() {
        HexFormat hex = HexFormat.of();
        return "IKE SA record " + connection + "[" + hex.toHexDigits(initiatorSpi) + "_i " + hex.toHexDigits(responderSpi) + "_r] "
                + proposal + ", requests " + nextRequestId + " out " + expectedRequestId + " in, " + children.size() + " child SA(s)";
    }
}
