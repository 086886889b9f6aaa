package io.isthmus.control.radius;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.socket.nio.NioDatagramChannel;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * A RADIUS authentication client (RFC 2865, with EAP per RFC 3579): sends Access-Requests to the
 * configured servers, retransmits, fails over by score, and hands back verified answers.
 *
 * <p>One UDP socket on one Netty event loop of its own; all state below is touched only on that
 * loop, so it takes no lock. Callers on any thread get a CompletableFuture that completes on the
 * loop: the IKE side moves it onto its own thread (it never waits for it).
 *
 * <p>Retransmission resends the same bytes (same Identifier and Request Authenticator, RFC 2865
 * §2.5) {@code tries - 1} times; then the server is marked down for {@link #DOWN_FOR} and the
 * next server by score gets a freshly signed request (its own secret). A conversation that
 * carries a State stays with the server that issued it: no other server could continue it.
 */
public final class RadiusClient implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("io.isthmus.control");
    static final Duration DOWN_FOR = Duration.ofSeconds(30);
    /** The Message-Authenticator every request gets (RadiusSecret.sign): type, length and 16 bytes. */
    public static final int MESSAGE_AUTHENTICATOR_LENGTH = 18;

    private final List<RadiusServer> servers;
    private final Map<InetSocketAddress, ServerState> byAddress = new HashMap<>();
    private final Duration timeout;
    private final int tries;
    private final RadiusCounters counters;
    private final EventLoopGroup group;
    private final Channel channel;
    private final EventLoop loop;
    private final SecureRandom random = new SecureRandom();

    private static final class ServerState {
        final RadiusServer server;
        final Pending[] inFlight = new Pending[256];
        int nextId;
        /** Set when the server used up its tries; it is then asked last until downUntilNanos. */
        boolean down;
        long downUntilNanos;

        ServerState(RadiusServer server) {
            this.server = server;
        }

        boolean down(long now) {
            return down && now - downUntilNanos < 0;
        }
    }

    private static final class Pending {
        final List<RadiusPacket.Attribute> attributes;
        final CompletableFuture<RadiusAnswer> answer = new CompletableFuture<>();
        final List<ServerState> candidates;
        ServerState at;
        int id;
        byte[] wire;
        byte[] requestAuthenticator;
        int triesLeft;
        ScheduledFuture<?> timer;

        Pending(List<RadiusPacket.Attribute> attributes, List<ServerState> candidates) {
            this.attributes = attributes;
            this.candidates = candidates;
        }
    }

    private RadiusClient(List<RadiusServer> servers, Duration timeout, int tries, RadiusCounters counters, EventLoopGroup group,
            Channel channel) {
        this.servers = servers.stream().sorted(Comparator.comparingInt(RadiusServer::score).reversed()).toList();
        this.servers.forEach(s -> byAddress.put(s.address(), new ServerState(s)));
        this.timeout = timeout;
        this.tries = tries;
        this.counters = counters;
        this.group = group;
        this.channel = channel;
        this.loop = channel.eventLoop();
    }

    /**
     * Opens the client's socket on {@code local} (port 0 for any). {@code timeout} per try and
     * {@code tries} per server are the operator's; strongSwan's eap-radius uses 3 tries, growing
     * timeouts.
     */
    public static RadiusClient open(List<RadiusServer> servers, InetSocketAddress local, Duration timeout, int tries,
            RadiusCounters counters) throws InterruptedException {
        if (servers.isEmpty() || tries < 1) {
            throw new IllegalArgumentException("a RADIUS client needs at least one server and one try");
        }
        boolean epoll = Epoll.isAvailable();
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
        RadiusClient[] self = new RadiusClient[1];
        Bootstrap b = new Bootstrap().group(group)
                .channel(epoll ? EpollDatagramChannel.class : NioDatagramChannel.class)
                // One byte more than the largest RADIUS packet: a datagram that fills it was longer and is dropped.
                // Room for a burst of answers (and of forgeries among them) while the loop is busy.
                .option(ChannelOption.SO_RCVBUF, 1 << 20)
                .option(ChannelOption.RCVBUF_ALLOCATOR, new FixedRecvByteBufAllocator(RadiusPacket.MAX_LENGTH + 1))
                .handler(new SimpleChannelInboundHandler<DatagramPacket>() {
                    @Override
                    protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket p) {
                        ByteBuf buf = p.content();
                        byte[] data = new byte[buf.readableBytes()];
                        buf.getBytes(buf.readerIndex(), data);
                        self[0].received(p.sender(), data);
                    }

                    @Override
                    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                        // ICMP port unreachable and the like: the retransmission timer decides, not the error.
                        LOG.log(System.Logger.Level.DEBUG, "RADIUS socket: {0}", cause.toString());
                    }
                });
        try {
            Channel ch = b.bind(local).sync().channel();
            self[0] = new RadiusClient(servers, timeout, tries, counters, group, ch);
            return self[0];
        } catch (RuntimeException | InterruptedException e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw e;
        }
    }

    public InetSocketAddress localAddress() {
        return (InetSocketAddress) channel.localAddress();
    }

    public List<RadiusServer> servers() {
        return servers;
    }

    /**
     * Sends an Access-Request with {@code attributes} (a Message-Authenticator is added) to
     * {@code server} only when given (a conversation under way), else to the servers by score,
     * those marked down last.
     */
    public CompletableFuture<RadiusAnswer> accessRequest(List<RadiusPacket.Attribute> attributes, Optional<RadiusServer> server) {
        List<RadiusPacket.Attribute> copy = List.copyOf(attributes);
        CompletableFuture<RadiusAnswer> result = new CompletableFuture<>();
        if (RadiusPacket.encodedLength(copy) + MESSAGE_AUTHENTICATOR_LENGTH > RadiusPacket.MAX_LENGTH) {
            // Signing would throw on the loop and leave the future pending for ever: the caller's mistake, told at once.
            result.completeExceptionally(new IllegalArgumentException("an Access-Request of "
                    + (RadiusPacket.encodedLength(copy) + MESSAGE_AUTHENTICATOR_LENGTH) + " bytes, at most " + RadiusPacket.MAX_LENGTH));
            return result;
        }
        loop.execute(() -> {
            long now = System.nanoTime();
            List<ServerState> candidates = new ArrayList<>();
            if (server.isPresent()) {
                ServerState s = byAddress.get(server.get().address());
                if (s != null) {
                    candidates.add(s);
                }
            } else {
                servers.stream().map(s -> byAddress.get(s.address())).filter(s -> !s.down(now)).forEach(candidates::add);
                servers.stream().map(s -> byAddress.get(s.address())).filter(s -> s.down(now)).forEach(candidates::add);
            }
            Pending p = new Pending(copy, candidates);
            p.answer.whenComplete((a, e) -> {
                if (e != null) {
                    result.completeExceptionally(e);
                } else {
                    result.complete(a);
                }
            });
            counters.requests.incrementAndGet();
            next(p);
        });
        return result;
    }

    /** Sends {@code p} to its next candidate server, or gives up. */
    private void next(Pending p) {
        while (!p.candidates.isEmpty()) {
            ServerState s = p.candidates.removeFirst();
            int id = freeId(s);
            if (id < 0) {
                counters.busy.incrementAndGet();
                continue;
            }
            p.at = s;
            p.id = id;
            p.requestAuthenticator = new byte[16];
            random.nextBytes(p.requestAuthenticator);
            p.wire = s.server.secret().sign(new RadiusPacket(RadiusPacket.ACCESS_REQUEST, id, p.requestAuthenticator, p.attributes));
            p.triesLeft = tries;
            s.inFlight[id] = p;
            transmit(p);
            return;
        }
        counters.unreachable.incrementAndGet();
        p.answer.complete(RadiusAnswer.unreachable());
    }

    private int freeId(ServerState s) {
        for (int i = 0; i < 256; i++) {
            int id = (s.nextId + i) & 0xFF;
            if (s.inFlight[id] == null) {
                s.nextId = id + 1;
                return id;
            }
        }
        return -1;
    }

    private void transmit(Pending p) {
        p.triesLeft--;
        channel.writeAndFlush(new DatagramPacket(Unpooled.wrappedBuffer(p.wire), p.at.server.address()));
        p.timer = loop.schedule(() -> expired(p), timeout.toNanos(), TimeUnit.NANOSECONDS);
    }

    private void expired(Pending p) {
        if (p.at.inFlight[p.id] != p) {
            return;
        }
        if (p.triesLeft > 0) {
            counters.retransmissions.incrementAndGet();
            transmit(p);
            return;
        }
        counters.serverTimeouts.incrementAndGet();
        p.at.inFlight[p.id] = null;
        p.at.down = true;
        p.at.downUntilNanos = System.nanoTime() + DOWN_FOR.toNanos();
        LOG.log(System.Logger.Level.WARNING, "RADIUS server {0} did not answer {1} tries", p.at.server.address(), tries);
        next(p);
    }

    /** One datagram from the socket: the verified answer to a request in flight, or dropped and counted. */
    private void received(InetSocketAddress sender, byte[] data) {
        if (data.length > RadiusPacket.MAX_LENGTH) {
            counters.malformed.incrementAndGet();
            return;
        }
        ServerState s = byAddress.get(sender);
        Pending p = s == null || data.length < 2 ? null : s.inFlight[data[1] & 0xFF];
        if (p == null) {
            counters.unexpected.incrementAndGet();
            return;
        }
        RadiusPacket answer;
        try {
            answer = RadiusPacket.decode(data, data.length);
        } catch (MalformedRadiusException e) {
            counters.malformed.incrementAndGet();
            return;
        }
        RadiusSecret secret = s.server.secret();
        if (!secret.verifiesAnswer(data, data.length, answer, p.requestAuthenticator)) {
            counters.badAuthenticator.incrementAndGet();
            return;
        }
        RadiusAnswer.Outcome outcome = switch (answer.code()) {
            case RadiusPacket.ACCESS_ACCEPT -> RadiusAnswer.Outcome.ACCEPT;
            case RadiusPacket.ACCESS_REJECT -> RadiusAnswer.Outcome.REJECT;
            case RadiusPacket.ACCESS_CHALLENGE -> RadiusAnswer.Outcome.CHALLENGE;
            default -> null;
        };
        if (outcome == null) {
            counters.badCode.incrementAndGet();
            return;
        }
        s.inFlight[p.id] = null;
        p.timer.cancel(false);
        s.down = false;
        (switch (outcome) {
            case ACCEPT -> counters.accepts;
            case REJECT -> counters.rejects;
            default -> counters.challenges;
        }).incrementAndGet();
        Optional<byte[]> msk = outcome == RadiusAnswer.Outcome.ACCEPT ? secret.msk(answer, p.requestAuthenticator) : Optional.empty();
        p.answer.complete(new RadiusAnswer(outcome, answer.joined(RadiusPacket.EAP_MESSAGE), answer.first(RadiusPacket.STATE), msk,
                framedIpAddress(answer), s.server));
    }

    private static Optional<Inet4Address> framedIpAddress(RadiusPacket answer) {
        return answer.first(RadiusPacket.FRAMED_IP_ADDRESS).filter(v -> v.length == 4).flatMap(v -> {
            // 255.255.255.254 and 255.255.255.255 mean "the NAS chooses" / "the user chooses" (RFC 2865 §5.8): the pool decides.
            if ((v[0] & v[1] & v[2] & 0xFF) == 0xFF && (v[3] & 0xFE) == 0xFE) {
                return Optional.empty();
            }
            try {
                return Optional.of((Inet4Address) InetAddress.getByAddress(v));
            } catch (UnknownHostException e) {
                return Optional.empty();
            }
        });
    }

    @Override
    public void close() {
        loop.execute(() -> byAddress.values().forEach(s -> {
            for (int i = 0; i < 256; i++) {
                Pending p = s.inFlight[i];
                if (p != null) {
                    s.inFlight[i] = null;
                    p.timer.cancel(false);
                    p.answer.complete(RadiusAnswer.unreachable());
                }
            }
        }));
        channel.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    @Override
    public String toString() {
        return "RadiusClient" + servers.stream().map(s -> s.address().toString()).toList();
    }

    static byte[] copy(byte[] b) {
        return Arrays.copyOf(b, b.length);
    }
}
