package io.isthmus.control.metrics;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufOutputStream;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContentCompressor;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import io.prometheus.metrics.expositionformats.ExpositionFormatWriter;
import io.prometheus.metrics.expositionformats.ExpositionFormats;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Comparator;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;

/**
 * {@code /metrics} over HTTP, for Prometheus: Netty's HTTP codec on one event loop thread of its
 * own, the scrape itself (which waits for the IKE thread's snapshot, {@link SharedScrape}) on a
 * virtual thread, so neither the event loop nor the gateway's threads wait for a client.
 *
 * <p>Whoever reaches the port may be anyone on that network, so what one client can take is
 * bounded ({@link Limits}): a connection has one request in hand at a time (it is not read
 * while its answer is being made, so pipelined requests wait in the kernel, not in memory); a
 * request must be complete within a deadline from its first byte (a slowloris is cut off);
 * headers of at most 8 KB and no body; connections in all and from one address are capped,
 * and a newcomer beyond the cap displaces the connection idle longest rather than be refused
 * (a Prometheus reconnecting must not be locked out by idle sockets); an idle connection is
 * closed after a while; a few scrapes at once, more answered 503 at once.
 *
 * <p>The port is bound at start; if it is taken (another gateway, a previous process still
 * going away), the gateway runs on without metrics, logs why, and tries again: a VPN gateway's
 * tunnels matter more than its graphs.
 */
public final class MetricsServer implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("io.isthmus.control");
    private static final int MAX_HEADER_BYTES = 8192;
    private static final AttributeKey<Long> LAST_USE = AttributeKey.valueOf("isthmus.metrics.lastUse");
    private static final AttributeKey<Boolean> BUSY = AttributeKey.valueOf("isthmus.metrics.busy");

    /** What one server allows; {@link #DEFAULT} in the gateway, shorter in tests. */
    record Limits(int connections, int perAddress, int scrapes, Duration idle, Duration requestDeadline, Duration retry) {
        static final Limits DEFAULT = new Limits(32, 8, 4, Duration.ofMinutes(3), Duration.ofSeconds(10), Duration.ofSeconds(30));
    }

    private final InetSocketAddress listen;
    private final SharedScrape scrape;
    private final Limits limits;
    private final ExpositionFormats formats = ExpositionFormats.init();
    private final EventLoopGroup group;
    private final boolean epoll;
    private final ChannelGroup clients = new DefaultChannelGroup("isthmus-metrics-clients", GlobalEventExecutor.INSTANCE);
    private final Semaphore scrapes;
    private volatile Channel server;
    private volatile String problem;
    private volatile boolean closed;

    private MetricsServer(InetSocketAddress listen, PrometheusRegistry registry, Limits limits) {
        this.listen = listen;
        this.scrape = new SharedScrape(registry);
        this.limits = limits;
        this.scrapes = new Semaphore(limits.scrapes());
        this.epoll = Epoll.isAvailable();
        ThreadFactory threads = Thread.ofPlatform().name("isthmus-metrics").daemon().factory();
        this.group = new MultiThreadIoEventLoopGroup(1, threads, epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
    }

    /** Serves {@code registry} at {@code listen}, now if the port is free, else as soon as it is. */
    public static MetricsServer start(InetSocketAddress listen, PrometheusRegistry registry) {
        return start(listen, registry, Limits.DEFAULT);
    }

    static MetricsServer start(InetSocketAddress listen, PrometheusRegistry registry, Limits limits) {
        MetricsServer s = new MetricsServer(listen, registry, limits);
        s.bind(); // the first outcome logged before the gateway goes on, and describe() true from here
        return s;
    }

    /** Where metrics are served ({@code http://127.0.0.1:9850/metrics}), or why not. */
    public String describe() {
        Channel c = server;
        if (c != null) {
            InetSocketAddress a = (InetSocketAddress) c.localAddress();
            String host = a.getAddress().getHostAddress();
            return "http://" + (a.getAddress() instanceof Inet6Address ? "[" + host + "]" : host) + ":" + a.getPort() + "/metrics";
        }
        return "not served: " + problem;
    }

    /** The bound port (for a listen address with port 0), or -1 while not bound. */
    public int port() {
        Channel c = server;
        return c == null ? -1 : ((InetSocketAddress) c.localAddress()).getPort();
    }

    /** Client connections open now. */
    int connections() {
        return clients.size();
    }

    /** Scrapes admitted and not yet answered. */
    int scrapesUnderWay() {
        return limits.scrapes() - scrapes.availablePermits();
    }

    /** Binds, waiting for the outcome: never on the event loop, which the bind itself needs. */
    private void bind() {
        if (closed) {
            return;
        }
        ServerBootstrap b = new ServerBootstrap().group(group).channel(epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class)
                .option(ChannelOption.SO_REUSEADDR, true).option(ChannelOption.SO_BACKLOG, 64)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (!admit(ch)) {
                            ch.close();
                            return;
                        }
                        ch.pipeline().addLast(new RequestDeadline(), new HttpServerCodec(MAX_HEADER_BYTES, MAX_HEADER_BYTES, MAX_HEADER_BYTES),
                                new HttpObjectAggregator(0), new HttpContentCompressor(), new Handler());
                    }
                });
        ChannelFuture bound = b.bind(listen).awaitUninterruptibly();
        if (bound.isSuccess()) {
            server = bound.channel();
            boolean retried = problem != null;
            problem = null;
            LOG.log(System.Logger.Level.INFO, retried ? "metrics: serving {0} now" : "metrics: {0}", describe());
        } else {
            boolean first = problem == null;
            problem = "cannot bind " + listen.getAddress().getHostAddress() + " port " + listen.getPort() + ": " + bound.cause().getMessage()
                    + " (trying again every " + limits.retry().toSeconds() + " s)";
            if (first) {
                LOG.log(System.Logger.Level.ERROR, "metrics: {0}; the gateway runs on without them. Free the port or set metrics.listen", problem);
            }
            if (!closed) {
                group.schedule(() -> Thread.ofVirtual().name("isthmus-metrics-bind").start(this::bind), limits.retry().toMillis(),
                        TimeUnit.MILLISECONDS);
            }
        }
    }

    /**
     * On the event loop, for a new connection: within the caps, or in place of the connection idle
     * longest. Refused only when every connection is busy or its address has its share.
     */
    private boolean admit(SocketChannel ch) {
        InetAddress from = ch.remoteAddress().getAddress();
        if (clients.stream().filter(c -> from.equals(((InetSocketAddress) c.remoteAddress()).getAddress())).count() >= limits.perAddress()) {
            return false;
        }
        if (clients.size() >= limits.connections()) {
            Channel idlest = clients.stream().filter(c -> !Boolean.TRUE.equals(c.attr(BUSY).get()))
                    .min(Comparator.comparingLong(c -> c.attr(LAST_USE).get())).orElse(null);
            if (idlest == null) {
                return false;
            }
            idlest.close();
            clients.remove(idlest);
        }
        ch.attr(LAST_USE).set(System.nanoTime());
        ch.attr(BUSY).set(false);
        clients.add(ch);
        return true;
    }

    /**
     * Times a connection: a request must be whole within the deadline from its first byte, and
     * a connection with no request under way is closed once idle for longer than allowed.
     */
    private final class RequestDeadline extends ChannelInboundHandlerAdapter {
        private ScheduledFuture<?> timer;

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            idle(ctx);
            ctx.fireChannelActive();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!Boolean.TRUE.equals(ctx.channel().attr(BUSY).get())) {
                ctx.channel().attr(BUSY).set(true);
                arm(ctx, limits.requestDeadline());
            }
            ctx.fireChannelRead(msg);
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
            if (event == Answered.INSTANCE) {
                idle(ctx);
            } else if (event == Handled.INSTANCE) {
                cancel();
            } else {
                ctx.fireUserEventTriggered(event);
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            cancel();
            ctx.fireChannelInactive();
        }

        private void idle(ChannelHandlerContext ctx) {
            ctx.channel().attr(BUSY).set(false);
            ctx.channel().attr(LAST_USE).set(System.nanoTime());
            arm(ctx, limits.idle());
        }

        private void arm(ChannelHandlerContext ctx, Duration after) {
            cancel();
            timer = ctx.executor().schedule(() -> {
                ctx.close();
            }, after.toMillis(), TimeUnit.MILLISECONDS);
        }

        private void cancel() {
            if (timer != null) {
                timer.cancel(false);
                timer = null;
            }
        }
    }

    /** A whole request is in: its deadline no longer applies (the scrape's time is ours, not the client's). */
    private enum Handled { INSTANCE }

    /** The answer went out: the connection is idle until the next request. */
    private enum Answered { INSTANCE }

    /**
     * One connection's requests, answered in order, one at a time. A client may pipeline: what
     * the codec decoded meanwhile waits here (a few at most, the connection is not read while
     * any wait), and goes once the answer before it is written.
     */
    private final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
        private static final int MAX_WAITING = 4;
        private final ArrayDeque<FullHttpRequest> waiting = new ArrayDeque<>();
        private boolean answering;

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
            ctx.pipeline().fireUserEventTriggered(Handled.INSTANCE);
            ctx.channel().config().setAutoRead(false);
            if (answering) {
                if (waiting.size() >= MAX_WAITING) {
                    ctx.close();
                    return;
                }
                waiting.add(request.retain());
                return;
            }
            answering = true;
            answer(ctx, request);
        }

        /** On the event loop; the scrape itself on a virtual thread. */
        private void answer(ChannelHandlerContext ctx, FullHttpRequest request) {
            boolean keepAlive = HttpUtil.isKeepAlive(request);
            if (!request.decoderResult().isSuccess()) {
                send(ctx, text(HttpResponseStatus.BAD_REQUEST, "bad request\n"), false);
                return;
            }
            String path = new QueryStringDecoder(request.uri()).path();
            if (!path.equals("/metrics") && !path.equals("/")) {
                send(ctx, text(HttpResponseStatus.NOT_FOUND, "not found; metrics are at /metrics\n"), keepAlive);
            } else if (!request.method().equals(HttpMethod.GET)) {
                send(ctx, text(HttpResponseStatus.METHOD_NOT_ALLOWED, "only GET\n"), keepAlive);
            } else if (path.equals("/")) {
                send(ctx, text(HttpResponseStatus.OK, "Isthmus: metrics at /metrics\n"), keepAlive);
            } else if (!scrapes.tryAcquire()) {
                send(ctx, text(HttpResponseStatus.SERVICE_UNAVAILABLE, limits.scrapes() + " scrapes are running already\n"), keepAlive);
            } else {
                String accept = request.headers().get(HttpHeaderNames.ACCEPT);
                Thread.ofVirtual().name("isthmus-metrics-scrape").start(() -> {
                    FullHttpResponse response;
                    try {
                        response = scrape(ctx, accept);
                    } finally {
                        scrapes.release();
                    }
                    send(ctx, response, keepAlive);
                });
            }
        }

        /** Writes the answer; then the next request waiting, or the connection reads again, or it closes. */
        private void send(ChannelHandlerContext ctx, FullHttpResponse response, boolean keepAlive) {
            HttpUtil.setContentLength(response, response.content().readableBytes());
            response.headers().set(HttpHeaderNames.CONNECTION, keepAlive ? HttpHeaderValues.KEEP_ALIVE : HttpHeaderValues.CLOSE);
            ctx.writeAndFlush(response).addListener((ChannelFutureListener) f -> {
                if (!keepAlive || !f.isSuccess()) {
                    f.channel().close();
                    return;
                }
                FullHttpRequest next = waiting.poll();
                if (next != null) {
                    try {
                        answer(ctx, next);
                    } finally {
                        next.release();
                    }
                    return;
                }
                answering = false;
                ctx.pipeline().fireUserEventTriggered(Answered.INSTANCE);
                f.channel().config().setAutoRead(true);
            });
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            waiting.forEach(FullHttpRequest::release);
            waiting.clear();
            ctx.fireChannelInactive();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            LOG.log(System.Logger.Level.DEBUG, "metrics client {0}: {1}", ctx.channel().remoteAddress(), cause.toString());
            ctx.close();
        }
    }

    private FullHttpResponse scrape(ChannelHandlerContext ctx, String accept) {
        ExpositionFormatWriter writer = formats.findWriter(accept);
        if (!writer.isAvailable()) {
            writer = formats.getPrometheusTextFormatWriter(); // protobuf asked for: its module is not on the class path
        }
        ByteBuf body = null;
        try {
            var snapshots = scrape.snapshots();
            body = ctx.alloc().buffer(64 * 1024);
            try (ByteBufOutputStream out = new ByteBufOutputStream(body)) {
                writer.write(out, snapshots);
            }
            FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, body);
            response.headers().set(HttpHeaderNames.CONTENT_TYPE, writer.getContentType());
            return response;
        } catch (IOException | RuntimeException | Error e) {
            if (body != null) {
                body.release();
            }
            // The IKE thread did not answer in time, or a bug: Prometheus marks the target down, the log says why (the client is not told).
            LOG.log(System.Logger.Level.WARNING, "metrics: scrape failed: {0}", e.toString());
            return text(HttpResponseStatus.SERVICE_UNAVAILABLE, "scrape failed; the gateway's log says why\n");
        }
    }

    private static FullHttpResponse text(HttpResponseStatus status, String text) {
        var r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.copiedBuffer(text, StandardCharsets.UTF_8));
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
        return r;
    }

    @Override
    public void close() {
        closed = true;
        Channel c = server;
        if (c != null) {
            c.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        }
        clients.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(3, TimeUnit.SECONDS);
    }
}
