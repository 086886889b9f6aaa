package io.isthmus.ike;

import io.isthmus.esp.UdpEncapsulation;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.socket.nio.NioDatagramChannel;
import java.net.BindException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * IKE over UDP with Netty: sockets on port 500 and 4500 of each local address, one event loop
 * thread that is also the engine's thread (so it is the {@link Scheduler} too). On port 4500
 * IKE messages carry the four-byte non-ESP marker (RFC 3948 §2.2); datagrams without it are ESP
 * and go to the {@link EspSink}, and one-byte 0xFF datagrams are NAT keepalives.
 */
public final class UdpTransport implements Transport, Scheduler, AutoCloseable {
    private static final System.Logger LOG = System.getLogger("io.isthmus.ike");

    /** Receives ESP-in-UDP that arrives on port 4500 (the data plane, once there is one). */
    @FunctionalInterface
    public interface EspSink {
        void esp(byte[] datagram, InetSocketAddress local, InetSocketAddress remote);
    }

    /**
     * The IKE sockets' receive buffer. The engine works on the thread that reads them, so a burst
     * of IKE_SA_INIT waits in the kernel while it computes: with Linux's default (208 KiB, about
     * 170 such datagrams) a burst of 300 from 300 peers lost requests in the kernel, each costing
     * its peer a retransmission (IKE load bench: 298 retransmissions, against strongSwan's 0,
     * whose receiver thread queues them). 4 MiB holds several thousand.
     */
    static final int RECEIVE_BUFFER = 4 << 20;
    private static final io.netty.channel.unix.IntegerUnixChannelOption RECEIVE_BUFFER_FORCE =
            new io.netty.channel.unix.IntegerUnixChannelOption("SO_RCVBUFFORCE", 1, 33);

    private final EventLoopGroup group;
    private final EventLoop loop;
    private final Map<InetSocketAddress, Channel> channels = new HashMap<>();
    private final int natTraversalPort;
    private volatile Transport.Receiver engine;
    /** On the event loop only. */
    private final NewSaRequests newSaRequests = new NewSaRequests();
    private boolean drainScheduled;
    private volatile EspSink espSink = (d, l, r) -> { };

    private UdpTransport(int natTraversalPort) {
        boolean epoll = Epoll.isAvailable();
        this.group = new MultiThreadIoEventLoopGroup(1, epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
        this.loop = group.next();
        this.natTraversalPort = natTraversalPort;
        LOG.log(System.Logger.Level.INFO, "IKE transport: Netty {0}", epoll ? "epoll" : "NIO (epoll unavailable: " + Epoll.unavailabilityCause() + ")");
    }

    /**
     * Binds {@code ikePort} and {@code natTraversalPort} on every address; a port that cannot be
     * bound ends in a {@link BindException} that says which address and port, why, and what to check.
     */
    public static UdpTransport bind(List<InetAddress> addresses, int ikePort, int natTraversalPort) throws BindException, InterruptedException {
        return bind(addresses, new int[] {ikePort, natTraversalPort}, natTraversalPort);
    }

    /**
     * Binds only {@code ikePort}: for a gateway whose data plane owns port 4500 (ESP in UDP
     * and IKE share it) and hands this engine the IKE messages that arrive there.
     */
    public static UdpTransport bindIkePortOnly(List<InetAddress> addresses, int ikePort, int natTraversalPort)
            throws BindException, InterruptedException {
        return bind(addresses, new int[] {ikePort}, natTraversalPort);
    }

    /**
     * As {@link #bindIkePortOnly(List, int, int)}, and also on {@code floating} addresses, which
     * this host may not have yet (IP_FREEBIND): a pair's addresses that keepalived moves here when
     * the other instance fails. Bound from the start, the socket receives the moment the address
     * arrives; binding it then would be one more step in a takeover, and one more way to fail.
     */
    public static UdpTransport bindIkePortOnly(List<InetAddress> addresses, List<InetAddress> floating, int ikePort, int natTraversalPort)
            throws BindException, InterruptedException {
        UdpTransport t = bind(addresses, new int[] {ikePort}, natTraversalPort);
        if (floating.isEmpty()) {
            return t;
        }
        if (!Epoll.isAvailable()) {
            t.close();
            throw new BindException("floating addresses need Netty's epoll transport (IP_FREEBIND): " + Epoll.unavailabilityCause());
        }
        try {
            t.bindEach(floating, new int[] {ikePort}, true);
        } catch (BindException | RuntimeException | InterruptedException e) {
            t.close();
            throw e;
        }
        return t;
    }

    private static UdpTransport bind(List<InetAddress> addresses, int[] ports, int natTraversalPort) throws BindException, InterruptedException {
        UdpTransport t = new UdpTransport(natTraversalPort);
        try {
            t.bindEach(addresses, ports, false);
        } catch (BindException | RuntimeException | InterruptedException e) {
            t.close();
            throw e;
        }
        return t;
    }

    private void bindEach(List<InetAddress> addresses, int[] ports, boolean freeBind) throws BindException, InterruptedException {
        for (InetAddress a : addresses) {
            for (int port : ports) {
                InetSocketAddress local = new InetSocketAddress(a, port);
                Bootstrap b = new Bootstrap().group(group)
                        .channel(Epoll.isAvailable() ? EpollDatagramChannel.class : NioDatagramChannel.class)
                        .option(ChannelOption.SO_RCVBUF, RECEIVE_BUFFER)
                        .handler(new Inbound(local));
                if (Epoll.isAvailable()) {
                    // Past net.core.rmem_max where we may (root, CAP_NET_ADMIN); where we may not, Netty says so and SO_RCVBUF stays.
                    b.option(RECEIVE_BUFFER_FORCE, RECEIVE_BUFFER);
                }
                if (freeBind) {
                    b.option(EpollChannelOption.IP_FREEBIND, true);
                }
                ChannelFuture bound = b.bind(local).await();
                if (!bound.isSuccess()) {
                    throw bindFailure(local, bound.cause());
                }
                channels.put(local, bound.channel());
            }
        }
    }

    /**
     * One line for the operator, naming the usual mistakes, which Netty's own exception does not:
     * an address this host does not have (a typo, or the public address behind a cloud's 1:1 NAT,
     * where the private one is to be bound), or another IKE daemon (strongSwan's charon) on the port.
     */
    static BindException bindFailure(InetSocketAddress local, Throwable cause) {
        // Netty's epoll transport says "bind(..) failed with error(-99): Cannot assign requested address".
        String reason = cause == null || cause.getMessage() == null ? String.valueOf(cause)
                : cause.getMessage().replaceFirst("^\\w+\\(\\.\\.\\) failed( with error\\(-?\\d+\\))?: ", "");
        String hint;
        if (reason.contains("Cannot assign requested address")) {
            hint = "is the address on this host?";
        } else if (reason.contains("Address already in use")) {
            hint = "is another IKE daemon, e.g. charon, using the port?";
        } else if (reason.contains("Permission denied")) {
            hint = "ports below 1024 need root or CAP_NET_BIND_SERVICE";
        } else {
            hint = "is the address on this host? is another IKE daemon, e.g. charon, using the port?";
        }
        InetAddress a = local.getAddress();
        String host = a instanceof Inet6Address ? "[" + a.getHostAddress() + "]" : a.getHostAddress();
        BindException e = new BindException("cannot bind IKE to " + host + ":" + local.getPort() + ": " + reason + " (" + hint + ")");
        e.initCause(cause);
        return e;
    }

    /** The receive buffer the kernel gave the socket on {@code local} (it reports twice what it was asked for), or -1. */
    int receiveBuffer(InetSocketAddress local) {
        Channel c = channels.get(local);
        return c == null ? -1 : c.config().getOption(ChannelOption.SO_RCVBUF);
    }

    /**
     * A batch of the new IKE SAs' requests, once the sockets have been read again: scheduled
     * (not executed), so the event loop reads between two batches and an IKE_AUTH read meanwhile
     * goes first ({@link NewSaRequests}).
     */
    private void drainSoon() {
        if (!drainScheduled) {
            drainScheduled = true;
            loop.schedule(() -> {
                drainScheduled = false;
                Transport.Receiver e = engine;
                if (e != null && newSaRequests.drain(e)) {
                    drainSoon();
                }
            }, 0, TimeUnit.NANOSECONDS);
        }
    }

    /** IKE_SA_INIT requests for new IKE SAs dropped because {@link NewSaRequests#CAPACITY} waited already. */
    public long newSaRequestsDropped() {
        return newSaRequests.dropped();
    }

    /** The engine, which gets every IKE datagram from now on. */
    public void attach(Transport.Receiver engine) {
        this.engine = engine;
    }

    public void espSink(EspSink sink) {
        this.espSink = sink;
    }

    /** Runs {@code task} on the engine's thread, where every engine call belongs. */
    public void execute(Runnable task) {
        loop.execute(task);
    }

    @Override
    public void send(byte[] datagram, InetSocketAddress local, InetSocketAddress remote) {
        Channel c = channels.get(local);
        if (c == null) {
            LOG.log(System.Logger.Level.WARNING, "no socket on {0} to send to {1}", local, remote);
            return;
        }
        byte[] bytes = local.getPort() == natTraversalPort ? UdpEncapsulation.ikeDatagram(datagram) : datagram;
        c.writeAndFlush(new DatagramPacket(Unpooled.wrappedBuffer(bytes), remote, local));
    }

    @Override
    public void sendNatKeepalive(InetSocketAddress local, InetSocketAddress remote) {
        Channel c = channels.get(local);
        if (c != null) {
            c.writeAndFlush(new DatagramPacket(Unpooled.wrappedBuffer(UdpEncapsulation.keepalive()), remote, local));
        }
    }

    @Override
    public Instant now() {
        return Instant.now();
    }

    @Override
    public Cancellable schedule(Duration delay, Runnable task) {
        var future = loop.schedule(task, Math.max(0, delay.toNanos()), TimeUnit.NANOSECONDS);
        return () -> future.cancel(false);
    }

    @Override
    public void close() {
        // Close the sockets first and wait: the next transport may bind the same ports at once.
        for (Channel c : channels.values()) {
            c.close().syncUninterruptibly();
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private final class Inbound extends SimpleChannelInboundHandler<DatagramPacket> {
        private final InetSocketAddress local;

        Inbound(InetSocketAddress local) {
            this.local = local;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket packet) {
            ByteBuf content = packet.content();
            byte[] bytes = new byte[content.readableBytes()];
            content.getBytes(content.readerIndex(), bytes);
            InetSocketAddress remote = packet.sender();
            Transport.Receiver e = engine;
            if (local.getPort() == natTraversalPort) {
                switch (UdpEncapsulation.classify(bytes, 0, bytes.length)) {
                    case KEEPALIVE -> { }
                    case IKE -> {
                        if (e != null) {
                            e.receive(bytes, UdpEncapsulation.MARKER_LENGTH, bytes.length - UdpEncapsulation.MARKER_LENGTH, local, remote);
                        }
                    }
                    case ESP -> espSink.esp(bytes, local, remote);
                }
                return;
            }
            if (e != null && NewSaRequests.isNewSaRequest(bytes, 0, bytes.length)) {
                if (newSaRequests.offer(new NewSaRequests.Request(bytes, local, remote))) {
                    drainSoon();
                }
                return;
            }
            if (e != null) {
                e.receive(bytes, 0, bytes.length, local, remote);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            LOG.log(System.Logger.Level.WARNING, "socket " + local + ": " + cause, cause);
        }
    }
}
