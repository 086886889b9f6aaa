package io.isthmus.lab;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.PortUnreachableException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * UDP probes for the NAT lab, run inside a host namespace: what a NAT rule did to a flow is only
 * visible from the hosts at its ends, so each end says which address and port it saw.
 *
 * <pre>
 * NatProbe echo PORT
 *     answers every datagram with "seen=ADDRESS:PORT" of its sender (prints "listening" once bound)
 * NatProbe flows HOST PORT BIND FIRST_LOCAL_PORT COUNT TRIES
 *     COUNT flows, from BIND:FIRST_LOCAL_PORT, +1, ...: one datagram each (sent again up to TRIES
 *     times while unanswered), and one line per flow:
 *     "flow local=P answered=true seen=A:Q from=R:S" (seen: what the echo saw; from: who answered)
 *     then "answered=N of COUNT"
 * NatProbe closed HOST PORT BIND
 *     one datagram to a port nobody listens on, from a connected socket: "port-unreachable" when the
 *     kernel delivers an ICMP port unreachable to the socket (it does only when the error's quoted
 *     header is of this very flow: this address and port to that one), else "no-error"
 * </pre>
 */
public final class NatProbe {
    private NatProbe() {
    }

    public static void main(String[] args) throws Exception {
        switch (args[0]) {
            case "echo" -> echo(Integer.parseInt(args[1]));
            case "flows" -> flows(args[1], Integer.parseInt(args[2]), args[3], Integer.parseInt(args[4]), Integer.parseInt(args[5]),
                    Integer.parseInt(args[6]));
            case "closed" -> closed(args[1], Integer.parseInt(args[2]), args[3]);
            default -> throw new IllegalArgumentException("unknown: " + args[0]);
        }
    }

    static void echo(int port) throws IOException {
        try (DatagramChannel ch = DatagramChannel.open()) {
            ch.bind(new InetSocketAddress(port));
            System.out.println("listening");
            System.out.flush();
            ByteBuffer in = ByteBuffer.allocate(2048);
            while (true) {
                in.clear();
                InetSocketAddress from = (InetSocketAddress) ch.receive(in);
                String seen = "seen=" + from.getAddress().getHostAddress() + ":" + from.getPort();
                ch.send(ByteBuffer.wrap(seen.getBytes(StandardCharsets.US_ASCII)), from);
            }
        }
    }

    static void flows(String host, int port, String bind, int firstLocalPort, int count, int tries) throws IOException, InterruptedException {
        InetSocketAddress to = new InetSocketAddress(InetAddress.getByName(host), port);
        List<DatagramChannel> channels = new ArrayList<>();
        String[] answers = new String[count];
        try {
            for (int i = 0; i < count; i++) {
                DatagramChannel ch = DatagramChannel.open();
                ch.bind(new InetSocketAddress(InetAddress.getByName(bind), firstLocalPort + i));
                ch.configureBlocking(false);
                channels.add(ch);
            }
            ByteBuffer in = ByteBuffer.allocate(2048);
            for (int t = 0; t < tries; t++) {
                for (int i = 0; i < count; i++) {
                    if (answers[i] == null) {
                        channels.get(i).send(ByteBuffer.wrap(("probe " + i).getBytes(StandardCharsets.US_ASCII)), to);
                        Thread.sleep(2); // paced: a light load on a shared machine, and no burst for a queue to drop
                    }
                }
                long end = System.nanoTime() + 3_000_000_000L;
                while (System.nanoTime() < end && java.util.Arrays.stream(answers).anyMatch(a -> a == null)) {
                    for (int i = 0; i < count; i++) {
                        if (answers[i] != null) {
                            continue;
                        }
                        in.clear();
                        InetSocketAddress from = (InetSocketAddress) channels.get(i).receive(in);
                        if (from != null) {
                            in.flip();
                            answers[i] = StandardCharsets.US_ASCII.decode(in) + " from=" + from.getAddress().getHostAddress() + ":" + from.getPort();
                        }
                    }
                    Thread.sleep(5);
                }
            }
        } finally {
            for (DatagramChannel ch : channels) {
                ch.close();
            }
        }
        int answered = 0;
        for (int i = 0; i < count; i++) {
            System.out.println("flow local=" + (firstLocalPort + i) + " answered=" + (answers[i] != null) + (answers[i] == null ? "" : " " + answers[i]));
            answered += answers[i] == null ? 0 : 1;
        }
        System.out.println("answered=" + answered + " of " + count);
    }

    static void closed(String host, int port, String bind) throws IOException {
        try (java.net.DatagramSocket s = new java.net.DatagramSocket(new InetSocketAddress(InetAddress.getByName(bind), 0))) {
            s.connect(new InetSocketAddress(InetAddress.getByName(host), port));
            s.setSoTimeout(3000);
            s.send(new java.net.DatagramPacket(new byte[] {1, 2, 3}, 3));
            try {
                s.receive(new java.net.DatagramPacket(new byte[64], 64));
                System.out.println("answered");
            } catch (PortUnreachableException e) {
                System.out.println("port-unreachable local=" + s.getLocalPort());
            } catch (SocketTimeoutException e) {
                System.out.println("no-error local=" + s.getLocalPort());
            }
        }
    }
}
