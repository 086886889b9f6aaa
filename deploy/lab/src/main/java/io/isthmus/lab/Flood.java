package io.isthmus.lab;

import io.isthmus.control.config.ConfigReader;
import io.isthmus.ike.IkeProposal;
import io.isthmus.ike.crypto.KeyExchangeMethod;
import io.isthmus.ike.message.ExchangeType;
import io.isthmus.ike.message.IkeHeader;
import io.isthmus.ike.message.IkeMessage;
import io.isthmus.ike.message.KePayload;
import io.isthmus.ike.message.NoncePayload;
import io.isthmus.ike.message.NotifyPayload;
import io.isthmus.ike.message.NotifyType;
import io.isthmus.ike.message.Payload;
import io.isthmus.ike.message.PayloadType;
import io.isthmus.ike.message.Proposal;
import io.isthmus.ike.message.SaPayload;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Hostile traffic for the lab's reliability tests, run inside a namespace (the peer gateway's,
 * so that it comes from the address the gateway expects its peer at, as a spoofer's would). It
 * refuses to run outside a lab namespace, stops by itself (at most {@value #MAX_SECONDS} s,
 * {@value #MAX_RATE} datagrams a second) and prints one line of counts.
 *
 * <pre>
 * Flood ike-init HOST PORT SECONDS RATE valid|bad-ke   IKE_SA_INIT requests with fresh SPIs; prints
 *        sent=N answered=A cookies=C refused=R (the answers it got, by kind)
 * Flood forged HOST PORT SPI_I SPI_R COUNT              SK-protected requests with a live SA's SPIs and
 *        message IDs 0 to 31, whose ICV cannot verify; prints sent=N answers=A
 * Flood esp HOST PORT SECONDS RATE SPI                  ESP in UDP that is not ESP anyone sealed: unknown
 *        SPIs, the given SPI with a garbage body, runts; prints sent=N
 * </pre>
 * On a PORT other than 500 every IKE message carries the non-ESP marker (RFC 3948).
 */
public final class Flood {
    private Flood() {
    }

    /** Bounds on what one run may send, whatever it is asked: a flood that stops by itself. */
    static final int MAX_SECONDS = 30;
    static final int MAX_RATE = 20_000;
    static final int MAX_COUNT = 100_000;

    public static void main(String[] args) throws Exception {
        String here = labNamespace();
        if (here == null) {
            System.err.println("Flood runs only inside a lab's network namespace (isthmus-lab-*), never on a real network");
            System.exit(2);
        }
        InetSocketAddress to = new InetSocketAddress(InetAddress.getByName(args[1]), Integer.parseInt(args[2]));
        try (DatagramSocket socket = new DatagramSocket()) {
            socket.setReceiveBufferSize(4 << 20);
            Answers answers = new Answers(socket);
            Thread reader = Thread.ofPlatform().daemon().start(answers::read);
            String line = switch (args[0]) {
                case "ike-init" -> ikeInit(socket, to, seconds(args[3]), rate(args[4]), args[5].equals("valid"), answers);
                case "forged" -> forged(socket, to, HexFormat.fromHexDigitsToLong(args[3]), HexFormat.fromHexDigitsToLong(args[4]),
                        Math.min(MAX_COUNT, Integer.parseInt(args[5])), answers);
                case "esp" -> esp(socket, to, seconds(args[3]), rate(args[4]), (int) Long.parseLong(args[5], 16));
                default -> throw new IllegalArgumentException("unknown: " + args[0]);
            };
            reader.interrupt();
            System.out.println(line);
        }
    }

    private static int seconds(String text) {
        return Math.min(MAX_SECONDS, Integer.parseInt(text));
    }

    private static int rate(String text) {
        return Math.min(MAX_RATE, Integer.parseInt(text));
    }

    /** The name of the lab namespace this process runs in, or null when it is not in one (ip netns identify). */
    private static String labNamespace() throws IOException, InterruptedException {
        Process p = new ProcessBuilder("ip", "netns", "identify", Long.toString(ProcessHandle.current().pid()))
                .redirectErrorStream(true).start();
        String name = new String(p.getInputStream().readAllBytes()).strip();
        return p.waitFor() == 0 && name.startsWith(Lab.FAMILY) ? name : null;
    }

    /** Counts what comes back, by the first notify it carries (none: an SA payload, an answer). */
    private static final class Answers {
        final DatagramSocket socket;
        final AtomicLong all = new AtomicLong();
        final AtomicLong cookies = new AtomicLong();
        final AtomicLong refused = new AtomicLong();
        final AtomicLong answered = new AtomicLong();

        Answers(DatagramSocket socket) {
            this.socket = socket;
        }

        void read() {
            byte[] buf = new byte[65536];
            try {
                socket.setSoTimeout(200);
            } catch (IOException e) {
                return;
            }
            while (!Thread.currentThread().isInterrupted() && !socket.isClosed()) {
                DatagramPacket p = new DatagramPacket(buf, buf.length);
                try {
                    socket.receive(p);
                } catch (SocketTimeoutException e) {
                    continue;
                } catch (IOException e) {
                    return;
                }
                all.incrementAndGet();
                int off = p.getLength() >= 4 && buf[0] == 0 && buf[1] == 0 && buf[2] == 0 && buf[3] == 0 ? 4 : 0;
                try {
                    IkeMessage m = IkeMessage.decode(buf, off, p.getLength() - off);
                    int notify = m.payloads().stream().filter(x -> x instanceof NotifyPayload).map(x -> ((NotifyPayload) x).notifyType())
                            .findFirst().orElse(-1);
                    if (notify == NotifyType.COOKIE) {
                        cookies.incrementAndGet();
                    } else if (notify >= 0 && notify < 16384) {
                        refused.incrementAndGet();
                    } else {
                        answered.incrementAndGet();
                    }
                } catch (Exception e) {
                    // protected answers (to forged requests) do not decode without keys: counted in all
                }
            }
        }

        /** Waits a moment for stragglers. */
        void settle() throws InterruptedException {
            Thread.sleep(500);
        }
    }

    /** Sends what {@code next} builds at {@code rate} per second for {@code seconds}, in 1 ms slices. */
    private interface Source {
        byte[] next(int i);
    }

    private static long paced(DatagramSocket socket, InetSocketAddress to, int seconds, int rate, Source source) throws IOException {
        long start = System.nanoTime();
        long end = start + seconds * 1_000_000_000L;
        long sent = 0;
        while (System.nanoTime() < end) {
            long due = (System.nanoTime() - start) * rate / 1_000_000_000L;
            while (sent < due) {
                byte[] d = source.next((int) sent);
                socket.send(new DatagramPacket(d, d.length, to));
                sent++;
            }
            java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
        }
        return sent;
    }

    private static byte[] framed(byte[] ike, int port) {
        if (port == 500) {
            return ike;
        }
        byte[] f = new byte[4 + ike.length];
        System.arraycopy(ike, 0, f, 4, ike.length);
        return f;
    }

    static String ikeInit(DatagramSocket socket, InetSocketAddress to, int seconds, int rate, boolean validKe, Answers answers)
            throws IOException, InterruptedException {
        List<Proposal> proposals = new ArrayList<>();
        List<IkeProposal> offered = ConfigReader.DEFAULT_IKE;
        for (int i = 0; i < offered.size(); i++) {
            proposals.add(offered.get(i).toProposal(i + 1, new byte[0]));
        }
        KeyExchangeMethod group = offered.getFirst().keyExchange();
        byte[] ke = validKe ? group.generate().publicValue() : new byte[group.publicValueLength()];
        if (!validKe && (group == KeyExchangeMethod.ECP_256 || group == KeyExchangeMethod.ECP_384)) {
            Arrays.fill(ke, (byte) 1); // not a point on the curve
        }
        Random random = new Random();
        byte[] nonce = new byte[32];
        random.nextBytes(nonce);
        List<Payload> payloads = List.of(new SaPayload(proposals), new KePayload(group.ianaId(), ke), new NoncePayload(nonce));
        byte[] template = IkeMessage.encode(new IkeHeader(1, 0, 0, 2, 0, ExchangeType.IKE_SA_INIT, IkeHeader.FLAG_INITIATOR, 0, 0), payloads);
        long sent = paced(socket, to, seconds, rate, i -> {
            byte[] m = template.clone();
            long spi = random.nextLong() | 1;
            for (int b = 0; b < 8; b++) {
                m[b] = (byte) (spi >>> (56 - 8 * b));
            }
            return framed(m, to.getPort());
        });
        answers.settle();
        return "sent=" + sent + " answered=" + answers.answered + " cookies=" + answers.cookies + " refused=" + answers.refused;
    }

    static String forged(DatagramSocket socket, InetSocketAddress to, long spiI, long spiR, int count, Answers answers)
            throws IOException, InterruptedException {
        Random random = new Random();
        long sent = 0;
        for (int i = 0; i < count; i++) {
            int flags = (i / 32) % 2 == 0 ? IkeHeader.FLAG_INITIATOR : 0;
            int exchange = (i / 64) % 2 == 0 ? ExchangeType.INFORMATIONAL : ExchangeType.CREATE_CHILD_SA;
            IkeHeader h = new IkeHeader(spiI, spiR, 0, 2, 0, exchange, flags, i % 32, 0);
            byte[] m = IkeMessage.encodeProtected(h, PayloadType.NONE, 80, null);
            byte[] junk = new byte[80];
            random.nextBytes(junk);
            System.arraycopy(junk, 0, m, m.length - 80, 80);
            byte[] d = framed(m, to.getPort());
            socket.send(new DatagramPacket(d, d.length, to));
            sent++;
            if (i % 50 == 49) {
                Thread.sleep(5);
            }
        }
        answers.settle();
        return "sent=" + sent + " answers=" + answers.all;
    }

    static String esp(DatagramSocket socket, InetSocketAddress to, int seconds, int rate, int knownSpi) throws IOException {
        Random random = new Random();
        long sent = paced(socket, to, seconds, rate, i -> {
            byte[] d = new byte[switch (i % 3) {
                case 0, 1 -> 120;
                default -> 6;
            }];
            random.nextBytes(d);
            int spi = i % 3 == 1 ? knownSpi : random.nextInt() | 0x100;
            if (d.length >= 8) {
                d[0] = (byte) (spi >>> 24);
                d[1] = (byte) (spi >>> 16);
                d[2] = (byte) (spi >>> 8);
                d[3] = (byte) spi;
            }
            return d;
        });
        return "sent=" + sent;
    }
}
