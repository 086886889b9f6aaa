package io.isthmus.lab;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Random;

/**
 * Test traffic for the lab, run inside a host namespace: a "file" of pseudo-random bytes sent
 * over TCP or over paced UDP datagrams that carry sequence numbers, and on the other end its
 * SHA-256 as received, and for UDP which datagrams never came. Both ends print one line:
 * {@code bytes=N sha256=H [received=R lost=L]}.
 *
 * <pre>
 * Traffic tcp-receive PORT
 * Traffic tcp-send HOST PORT BYTES SEED
 * Traffic udp-receive PORT DATAGRAMS TIMEOUT_MS
 * Traffic udp-send HOST PORT DATAGRAMS SIZE PER_SECOND SEED
 * </pre>
 */
public final class Traffic {
    private Traffic() {
    }

    public static void main(String[] args) throws Exception {
        switch (args[0]) {
            case "tcp-receive" -> tcpReceive(Integer.parseInt(args[1]));
            case "tcp-send" -> tcpSend(args[1], Integer.parseInt(args[2]), Long.parseLong(args[3]), Long.parseLong(args[4]));
            case "udp-receive" -> udpReceive(Integer.parseInt(args[1]), Integer.parseInt(args[2]), Integer.parseInt(args[3]));
            case "udp-send" -> udpSend(args[1], Integer.parseInt(args[2]), Integer.parseInt(args[3]), Integer.parseInt(args[4]),
                    Integer.parseInt(args[5]), Long.parseLong(args[6]));
            default -> throw new IllegalArgumentException("unknown: " + args[0]);
        }
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static void tcpReceive(int port) throws IOException {
        try (ServerSocket server = new ServerSocket()) {
            server.setReuseAddress(true);
            server.bind(new InetSocketAddress(port));
            System.out.println("listening");
            System.out.flush();
            server.setSoTimeout(60_000);
            try (Socket s = server.accept(); InputStream in = s.getInputStream()) {
                MessageDigest d = sha256();
                byte[] buf = new byte[64 * 1024];
                long total = 0;
                for (int n; (n = in.read(buf)) > 0; ) {
                    d.update(buf, 0, n);
                    total += n;
                }
                System.out.println("bytes=" + total + " sha256=" + HexFormat.of().formatHex(d.digest()));
            }
        }
    }

    static void tcpSend(String host, int port, long bytes, long seed) throws IOException {
        Random random = new Random(seed);
        MessageDigest d = sha256();
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(InetAddress.getByName(host), port), 10_000);
            OutputStream out = s.getOutputStream();
            byte[] buf = new byte[64 * 1024];
            long left = bytes;
            while (left > 0) {
                int n = (int) Math.min(buf.length, left);
                random.nextBytes(buf);
                out.write(buf, 0, n);
                d.update(buf, 0, n);
                left -= n;
            }
            s.shutdownOutput();
        }
        System.out.println("bytes=" + bytes + " sha256=" + HexFormat.of().formatHex(d.digest()));
    }

    /** Datagrams: 4-byte sequence number, then payload; the file is the payloads in sequence order. */
    static void udpReceive(int port, int datagrams, int timeoutMillis) throws IOException {
        try (DatagramSocket s = new DatagramSocket(port)) {
            s.setReceiveBufferSize(8 << 20);
            System.out.println("listening");
            System.out.flush();
            byte[][] got = new byte[datagrams][];
            int received = 0;
            s.setSoTimeout(timeoutMillis);
            byte[] buf = new byte[65536];
            while (received < datagrams) {
                DatagramPacket p = new DatagramPacket(buf, buf.length);
                try {
                    s.receive(p);
                } catch (SocketTimeoutException e) {
                    break;
                }
                int seq = ((buf[0] & 0xFF) << 24) | ((buf[1] & 0xFF) << 16) | ((buf[2] & 0xFF) << 8) | (buf[3] & 0xFF);
                if (seq >= 0 && seq < datagrams && got[seq] == null) {
                    got[seq] = java.util.Arrays.copyOfRange(buf, 4, p.getLength());
                    received++;
                }
                s.setSoTimeout(timeoutMillis);
            }
            MessageDigest d = sha256();
            long total = 0;
            StringBuilder lost = new StringBuilder();
            int lostCount = 0;
            int ranges = 0;
            for (int i = 0; i < datagrams; i++) {
                if (got[i] == null) {
                    lostCount++;
                    if (i == 0 || got[i - 1] != null) {
                        // A run of lost datagrams, as first-last: with the sender's pace, when and how long an outage was.
                        int last = i;
                        while (last + 1 < datagrams && got[last + 1] == null) {
                            last++;
                        }
                        if (ranges++ < 50) {
                            lost.append(lost.isEmpty() ? "" : ",").append(i).append('-').append(last);
                        }
                    }
                    continue;
                }
                d.update(got[i]);
                total += got[i].length;
            }
            System.out.println("bytes=" + total + " sha256=" + HexFormat.of().formatHex(d.digest()) + " received=" + received + " lost="
                    + lostCount + (lostCount > 0 ? " lost-ranges=" + lost : ""));
        }
    }

    static void udpSend(String host, int port, int datagrams, int size, int perSecond, long seed) throws IOException, InterruptedException {
        Random random = new Random(seed);
        MessageDigest d = sha256();
        InetSocketAddress to = new InetSocketAddress(InetAddress.getByName(host), port);
        long gap = 1_000_000_000L / perSecond;
        long next = System.nanoTime();
        try (DatagramSocket s = new DatagramSocket()) {
            byte[] buf = new byte[4 + size];
            for (int i = 0; i < datagrams; i++) {
                buf[0] = (byte) (i >>> 24);
                buf[1] = (byte) (i >>> 16);
                buf[2] = (byte) (i >>> 8);
                buf[3] = (byte) i;
                byte[] payload = new byte[size];
                random.nextBytes(payload);
                System.arraycopy(payload, 0, buf, 4, size);
                d.update(payload);
                long wait = next - System.nanoTime();
                if (wait > 0) {
                    Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                }
                s.send(new DatagramPacket(buf, buf.length, to));
                next += gap;
            }
        }
        System.out.println("bytes=" + (long) datagrams * size + " sha256=" + HexFormat.of().formatHex(d.digest()));
    }
}
