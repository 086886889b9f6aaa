package io.isthmus.lab;

import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the peer saw on the wide-area link, from a tcpdump capture (classic pcap, Ethernet,
 * IPv4): each ESP packet's SPI and sequence number with its time, and each IKE message's
 * exchange type, from the headers that travel in the clear. The pair's failover promises are
 * checked here, where the peer is: sequence numbers per SPI that only rise, and no IKE_SA_INIT
 * or CREATE_CHILD_SA after the fault.
 */
public final class WanCapture {
    public static final int IKE_SA_INIT = 34;
    public static final int CREATE_CHILD_SA = 36;

    /** An ESP packet: from whom, its SPI and sequence number, when (microseconds). */
    public record Esp(String source, int spi, long sequence, long micros) {
    }

    /** An IKE message: from whom, its exchange type, whether a response, when. */
    public record Ike(String source, int exchangeType, boolean response, long micros) {
    }

    public final List<Esp> esp = new ArrayList<>();
    public final List<Ike> ike = new ArrayList<>();

    private WanCapture() {
    }

    public static WanCapture read(Path pcap) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(pcap));
        WanCapture c = new WanCapture();
        if (b.remaining() < 24) {
            return c;
        }
        int magic = b.getInt(0);
        b.order(magic == 0xa1b2c3d4 ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
        boolean nanos = magic == 0xa1b23c4d || magic == 0x4d3cb2a1;
        int linkType = b.getInt(20);
        b.position(24);
        while (b.remaining() >= 16) {
            long seconds = Integer.toUnsignedLong(b.getInt());
            long fraction = Integer.toUnsignedLong(b.getInt());
            int captured = b.getInt();
            b.getInt();
            if (captured > b.remaining()) {
                break; // cut off as tcpdump was stopped
            }
            int start = b.position();
            long micros = seconds * 1_000_000 + (nanos ? fraction / 1000 : fraction);
            c.packet(b.duplicate().order(ByteOrder.BIG_ENDIAN), start, captured, linkType, micros);
            b.position(start + captured);
        }
        return c;
    }

    private void packet(ByteBuffer p, int at, int length, int linkType, long micros) {
        int ip = at;
        if (linkType == 1) { // Ethernet
            if (length < 14 || p.getShort(at + 12) != 0x0800) {
                return;
            }
            ip = at + 14;
        } else if (linkType == 113) { // Linux cooked (-i any)
            if (length < 16 || p.getShort(at + 14) != 0x0800) {
                return;
            }
            ip = at + 16;
        }
        int end = at + length;
        if (ip + 20 > end || (p.get(ip) >> 4) != 4) {
            return;
        }
        int headerLength = (p.get(ip) & 0x0f) * 4;
        int protocol = p.get(ip + 9) & 0xff;
        String source = address(p, ip + 12);
        int payload = ip + headerLength;
        if (protocol == 50 && payload + 8 <= end) {
            esp.add(new Esp(source, p.getInt(payload), Integer.toUnsignedLong(p.getInt(payload + 4)), micros));
        } else if (protocol == 17 && payload + 8 <= end) {
            int dport = p.getShort(payload + 2) & 0xffff;
            int sport = p.getShort(payload) & 0xffff;
            int udp = payload + 8;
            if (sport == 4500 || dport == 4500) {
                if (udp + 4 <= end && p.getInt(udp) == 0) {
                    udp += 4; // the non-ESP marker: IKE follows
                } else if (udp + 8 <= end && !(udp + 1 == end && p.get(udp) == (byte) 0xff)) {
                    esp.add(new Esp(source, p.getInt(udp), Integer.toUnsignedLong(p.getInt(udp + 4)), micros));
                    return;
                } else {
                    return;
                }
            } else if (sport != 500 && dport != 500) {
                return;
            }
            if (udp + 28 <= end) {
                ike.add(new Ike(source, p.get(udp + 18) & 0xff, (p.get(udp + 19) & 0x20) != 0, micros));
            }
        }
    }

    private static String address(ByteBuffer p, int at) {
        byte[] a = new byte[4];
        for (int i = 0; i < 4; i++) {
            a[i] = p.get(at + i);
        }
        try {
            return InetAddress.getByAddress(a).getHostAddress();
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Per SPI sent by {@code source}, the places where a sequence number did not rise: empty
     * when every SPI's numbers only went up (each "SPI: previous -> next").
     */
    public List<String> fallingSequences(String source) {
        Map<Integer, Long> last = new LinkedHashMap<>();
        List<String> falls = new ArrayList<>();
        for (Esp e : esp) {
            if (!e.source().equals(source)) {
                continue;
            }
            Long before = last.put(e.spi(), e.sequence());
            if (before != null && e.sequence() <= before) {
                falls.add(Integer.toHexString(e.spi()) + ": " + before + " -> " + e.sequence());
            }
        }
        return falls;
    }

    /** IKE messages of this exchange type after {@code micros}. */
    public List<Ike> ikeAfter(long micros, int exchangeType) {
        return ike.stream().filter(i -> i.micros() >= micros && i.exchangeType() == exchangeType).toList();
    }

    /** The SPIs {@code source} sent ESP with. */
    public List<Integer> spisFrom(String source) {
        return esp.stream().filter(e -> e.source().equals(source)).map(Esp::spi).distinct().toList();
    }
}
