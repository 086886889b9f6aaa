package io.isthmus.control;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.isthmus.control.log.LogOutput;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.channel.unix.PeerCredentials;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.net.BindException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The management API of a running gateway: HTTP/1.1 and JSON over a Unix domain socket
 * ({@code curl --unix-socket /run/isthmus/gw.sock http://isthmus/v1/status}), the verbs in
 * {@link ApiRoutes}, the event stream in {@link EventStream}. Netty's HTTP codec on one epoll
 * event loop of its own; each request's work (which may wait for the IKE thread) on a virtual
 * thread, so a slow verb holds up no other client.
 *
 * <p>It must keep answering on a bad day, when someone's script hangs on it: at most
 * {@link Limits#clients} at once (more are answered 503), of which at most
 * {@link Limits#followers} follow the events; a request must be whole within
 * {@link Limits#requestDeadline} of connecting, an answer read within
 * {@link Limits#answerDeadline}; a body is a few KB at most; one request per connection. Only
 * root, the gateway's own user and a configured group get an answer ({@link ControlAccess}, from
 * SO_PEERCRED); anyone else is answered 403 and logged. The socket file belongs to one gateway
 * ({@link SocketFile}).
 */
final class ControlSocket implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("io.isthmus.control");
    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final AttributeKey<String> REFUSAL = AttributeKey.valueOf("isthmus.control.refusal");
    private static final AttributeKey<ApiRoutes.Caller> CALLER = AttributeKey.valueOf("isthmus.control.caller");

    /** What one socket allows; {@link #DEFAULT} in the gateway, shorter in tests. */
    record Limits(int clients, int followers, Duration requestDeadline, Duration answerDeadline, Duration streamStall, int maxBody) {
        /** Operators are few: more clients at once than this is a script gone wrong. */
        static final Limits DEFAULT = new Limits(16, 8, Duration.ofSeconds(3), Duration.ofSeconds(10), Duration.ofSeconds(30), 16 * 1024);
    }

    private final SocketFile file;
    private final Limits limits;
    private final ControlAccess access;
    private final ApiRoutes routes;
    private final EventStream events;
    private final String gatewayName;
    private final EventLoopGroup group;
    private final ChannelGroup clients = new DefaultChannelGroup("isthmus-control-clients", GlobalEventExecutor.INSTANCE);
    private final AtomicInteger refused = new AtomicInteger();
    private final AtomicInteger cutOff = new AtomicInteger();
    private final AtomicInteger denied = new AtomicInteger();
    /** Refused clients still waiting for their 503 (it goes once their request is in). */
    private final AtomicInteger waitingRefused = new AtomicInteger();
    /** Slots beyond {@link Limits#clients} that only root and the gateway's own user may take. */
    static final int RESERVED_FOR_ROOT = 4;
    private final RateLimitedLine deniedLine = new RateLimitedLine();
    private Channel server;

    private ControlSocket(SocketFile file, ControlRequests requests, ControlAccess access, Limits limits) {
        this.file = file;
        this.limits = limits;
        this.access = access;
        this.routes = new ApiRoutes(requests, LogOutput.process());
        this.events = new EventStream(limits.streamStall());
        this.gatewayName = file.path().getFileName().toString().replaceFirst("\\.sock$", "");
        this.group = new MultiThreadIoEventLoopGroup(1, Thread.ofPlatform().name("isthmus-control").daemon().factory(), EpollIoHandler.newFactory());
        requests.listen(events::publish);
    }

    /**
     * Binds {@code path} and serves the API there for root and this process's user. Throws a
     * {@link BindException} whose message is one line for the operator when another process
     * listens on the path or the path is something other than a socket.
     */
    static ControlSocket open(Path path, ControlRequests requests) throws IOException {
        return open(path, requests, ControlAccess.ownerOnly(), Limits.DEFAULT);
    }

    static ControlSocket open(Path path, ControlRequests requests, ControlAccess access, Limits limits) throws IOException {
        SocketFile file = SocketFile.claim(path);
        ControlSocket s = new ControlSocket(file, requests, access, limits);
        try {
            s.bind();
        } catch (IOException | RuntimeException e) {
            s.close();
            throw e instanceof BindException b ? b : new BindException("cannot bind control socket " + path + ": " + e.getMessage());
        }
        LOG.log(System.Logger.Level.INFO, "control socket {0}: management API v1 for {1}", path, access.describe());
        return s;
    }

    private void bind() throws IOException {
        ServerBootstrap b = new ServerBootstrap().group(group).channel(EpollServerDomainSocketChannel.class)
                .childHandler(new ChannelInitializer<EpollDomainSocketChannel>() {
                    @Override
                    protected void initChannel(EpollDomainSocketChannel ch) {
                        admit(ch);
                        ch.pipeline().addLast(new HttpServerCodec(4096, 8192, 8192), new HttpObjectAggregator(limits.maxBody()), new Handler());
                    }
                });
        var bound = b.bind(new DomainSocketAddress(file.path().toFile())).awaitUninterruptibly();
        if (!bound.isSuccess()) {
            throw new IOException(bound.cause().getMessage(), bound.cause());
        }
        server = bound.channel();
        file.bound(access.group());
    }

    /** On the event loop, for a new client: whether it may be answered, and if not why (it is told once its request is in). */
    private void admit(EpollDomainSocketChannel ch) {
        PeerCredentials who;
        try {
            who = ch.peerCredentials();
        } catch (IOException e) {
            ch.attr(REFUSAL).set("403 cannot tell who is asking");
            return;
        }
        ch.attr(CALLER).set(new ApiRoutes.Caller(who.uid(), who.pid()));
        int gid = who.gids().length > 0 ? who.gids()[0] : -1;
        if (!access.admits(who.uid(), gid, who.pid())) {
            denied.incrementAndGet();
            deniedLine.log("management API: refused uid " + who.uid() + " (pid " + who.pid() + "): only " + access.describe() + " may use it");
            ch.attr(REFUSAL).set("403 only " + access.describe() + " may use the management API");
            return;
        }
        // Root and the gateway's own user have slots of their own: a group member's clients cannot lock out systemctl reload.
        int cap = limits.clients() + (access.privileged(who.uid()) ? RESERVED_FOR_ROOT : 0);
        if (clients.size() >= cap) {
            refused.incrementAndGet();
            if (waitingRefused.incrementAndGet() > cap) {
                waitingRefused.decrementAndGet();
                ch.close(); // a flood: not even the answer, each one would hold a descriptor until its deadline
                return;
            }
            ch.closeFuture().addListener(f -> waitingRefused.decrementAndGet());
            ch.attr(REFUSAL).set("503 " + limits.clients() + " clients are being served already; try again");
            return;
        }
        clients.add(ch);
    }

    /** One client: one request, its answer (or the events, for ever), then the connection closes. */
    private final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
        private ScheduledFuture<?> deadline;
        private boolean requested;

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            arm(ctx, limits.requestDeadline());
            ctx.fireChannelActive();
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
            if (requested) {
                return; // one request per connection; a follower's stray bytes are read and dropped
            }
            requested = true;
            cancel();
            String refusal = ctx.channel().attr(REFUSAL).get();
            if (refusal != null) {
                int space = refusal.indexOf(' ');
                answer(ctx, new ApiRoutes.Answer(Integer.parseInt(refusal.substring(0, space)), Map.of("error", refusal.substring(space + 1))));
                return;
            }
            if (!request.decoderResult().isSuccess()) {
                answer(ctx, ApiRoutes.Answer.error(400, "not an HTTP request: " + request.decoderResult().cause().getMessage()));
                return;
            }
            QueryStringDecoder uri = new QueryStringDecoder(request.uri());
            String path = uri.path();
            if (!path.equals(ApiRoutes.PREFIX) && !path.startsWith(ApiRoutes.PREFIX + "/")) {
                answer(ctx, ApiRoutes.Answer.error(404, "the API is under /v1 (GET /v1 lists the verbs)"));
                return;
            }
            if (path.equals(ApiRoutes.EVENTS) && request.method().name().equals("GET")) {
                follow(ctx, uri);
                return;
            }
            ctx.channel().config().setAutoRead(false);
            List<String> segments = segments(request.uri());
            String method = request.method().name();
            var query = uri.parameters();
            byte[] body = ByteBufUtil.getBytes(request.content());
            ApiRoutes.Caller caller = ctx.channel().attr(CALLER).get();
            Thread.ofVirtual().name("isthmus-control-request").start(() -> answer(ctx, routes.answer(method, segments, query, body, caller)));
        }

        private void follow(ChannelHandlerContext ctx, QueryStringDecoder uri) {
            if (events.followers() >= limits.followers()) {
                answer(ctx, ApiRoutes.Answer.error(503, limits.followers() + " clients follow the events already; try again"));
                return;
            }
            HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
            head.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/x-ndjson");
            head.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            HttpUtil.setTransferEncodingChunked(head, true);
            ctx.writeAndFlush(head);
            List<String> connection = uri.parameters().get("connection");
            events.follow(ctx.channel(), connection == null ? null : connection.getFirst(), gatewayName);
        }

        /** From any thread: the answer, then the close; a client that does not read it is cut off. */
        private void answer(ChannelHandlerContext ctx, ApiRoutes.Answer a) {
            byte[] json;
            try {
                json = JSON.writeValueAsBytes(a.body());
            } catch (IOException | RuntimeException e) {
                LOG.log(System.Logger.Level.ERROR, "management API: an answer could not be written as JSON: " + e, e);
                json = "{\"error\": \"internal error: the answer could not be written\"}".getBytes(java.nio.charset.StandardCharsets.UTF_8);
                a = new ApiRoutes.Answer(500, null);
            }
            FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(a.status()),
                    Unpooled.wrappedBuffer(json, new byte[] {'\n'}));
            r.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON);
            r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            HttpUtil.setContentLength(r, r.content().readableBytes());
            ctx.executor().execute(() -> arm(ctx, limits.answerDeadline()));
            ctx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            cancel();
            ctx.fireChannelInactive();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            LOG.log(System.Logger.Level.DEBUG, "control socket client: {0}", cause.toString());
            ctx.close();
        }

        private void arm(ChannelHandlerContext ctx, Duration after) {
            cancel();
            deadline = ctx.executor().schedule(() -> {
                cutOff.incrementAndGet();
                ctx.close();
            }, after.toMillis(), TimeUnit.MILLISECONDS);
        }

        private void cancel() {
            if (deadline != null) {
                deadline.cancel(false);
                deadline = null;
            }
        }
    }

    /** The path's parts after /v1, each percent-decoded ({@code connections/to%20hq/reset} has the name {@code to hq}). */
    static List<String> segments(String uri) {
        String raw = uri;
        int q = raw.indexOf('?');
        if (q >= 0) {
            raw = raw.substring(0, q);
        }
        raw = raw.substring(ApiRoutes.PREFIX.length());
        List<String> out = new ArrayList<>();
        if (raw.isEmpty() || raw.equals("/")) {
            return out;
        }
        for (String s : raw.substring(1).split("/", -1)) {
            out.add(QueryStringDecoder.decodeComponent(s));
        }
        return out;
    }

    /** Clients being served now. */
    int clientsServed() {
        return clients.size();
    }

    /** Clients answered 503 because {@link Limits#clients} were being served. */
    long refusedClients() {
        return refused.get();
    }

    /** Clients cut off at a deadline. */
    long cutOffClients() {
        return cutOff.get();
    }

    /** Clients refused for who they are. */
    long deniedClients() {
        return denied.get();
    }

    /** Stops serving (followers are cut off) and removes the socket file, if it is still this socket's. */
    @Override
    public void close() {
        if (server != null) {
            server.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        }
        clients.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(3, TimeUnit.SECONDS);
        file.close();
    }

    /** Where the gateways of this host put their control sockets, one per gateway: {@code <name>.sock}. */
    static final Path RUN_DIRECTORY = Path.of("/run/isthmus");

    /**
     * Without {@code --control-socket}: the socket of the one gateway running here, or an
     * IOException whose message says why there is not exactly one (for the command's one line).
     */
    static Path onlySocketHere() throws IOException {
        return onlySocketIn(RUN_DIRECTORY);
    }

    static Path onlySocketIn(Path directory) throws IOException {
        try (var list = java.nio.file.Files.list(directory)) {
            var sockets = list.filter(p -> p.toString().endsWith(".sock")).toList();
            if (sockets.size() != 1) {
                throw new IOException(sockets.isEmpty() ? "no gateway is running here (no " + directory + "/*.sock)"
                        : "several gateways run here; choose one with --control-socket: " + sockets);
            }
            return sockets.getFirst();
        } catch (java.nio.file.NoSuchFileException e) {
            throw new IOException("no gateway is running here (no " + directory + ")");
        }
    }

    /** At most one line a minute for refusals, which come in bursts when a script loops, with how many there were. */
    private static final class RateLimitedLine {
        private static final long PERIOD_NANOS = Duration.ofMinutes(1).toNanos();
        private long last = System.nanoTime() - PERIOD_NANOS;
        private long since;

        synchronized void log(String line) {
            since++;
            long now = System.nanoTime();
            if (now - last >= PERIOD_NANOS) {
                LOG.log(System.Logger.Level.WARNING, since == 1 ? line : line + " (" + since + " refusals since the last such line)");
                last = now;
                since = 0;
            }
        }
    }
}
