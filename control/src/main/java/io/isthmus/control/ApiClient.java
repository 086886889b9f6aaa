package io.isthmus.control;

import com.fasterxml.jackson.databind.JsonNode;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * The management API from the command line's side (and the lab's, and the demo's): one request
 * over the control socket and its answer, or the event stream line by line. Netty's HTTP client
 * codec, as the server's; the client gives up after a timeout, a gateway that hangs must not hang
 * the operator's shell.
 */
final class ApiClient {
    /** How long {@code isthmus status} waits: the gateway itself gives the IKE thread 10 s to answer. */
    static final Duration TIMEOUT = Duration.ofSeconds(15);

    /** An answer: the HTTP status and the body (JSON). */
    record Response(int status, String body) {
        JsonNode json() throws IOException {
            return ControlSocket.JSON.readTree(body);
        }

        /** The error the gateway gave, or null. */
        String error() {
            try {
                JsonNode e = json().get("error");
                return e == null ? null : e.asText();
            } catch (IOException notJson) {
                return status >= 400 ? "HTTP " + status : null;
            }
        }
    }

    private ApiClient() {
    }

    /** {@code name} as one path segment (a space, a slash or a newline in it stays in the name). */
    static String segment(String name) {
        return URLEncoder.encode(name, StandardCharsets.UTF_8).replace("+", "%20");
    }

    static Response get(Path socket, String path) throws IOException {
        return call(socket, HttpMethod.GET, path, null, TIMEOUT);
    }

    static Response post(Path socket, String path, Duration timeout) throws IOException {
        return call(socket, HttpMethod.POST, path, null, timeout);
    }

    /** Sends the request, returns the answer; an IOException when the gateway cannot be reached or answers nothing in time. */
    static Response call(Path socket, HttpMethod method, String path, String jsonBody, Duration timeout) throws IOException {
        CompletableFuture<Response> answer = new CompletableFuture<>();
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        int[] status = {0};
        exchange(socket, request(method, path, jsonBody), timeout, answer, new SimpleChannelInboundHandler<HttpObject>() {
            @Override
            protected void channelRead0(ChannelHandlerContext ctx, HttpObject msg) {
                if (msg instanceof HttpResponse r) {
                    status[0] = r.status().code();
                }
                if (msg instanceof HttpContent c) {
                    if (body.size() < 64 << 20) {
                        body.writeBytes(io.netty.buffer.ByteBufUtil.getBytes(c.content()));
                    }
                    if (msg instanceof LastHttpContent) {
                        answer.complete(new Response(status[0], body.toString(StandardCharsets.UTF_8)));
                        ctx.close();
                    }
                }
            }

            @Override
            public void channelInactive(ChannelHandlerContext ctx) {
                answer.completeExceptionally(new IOException("the gateway closed the connection without an answer"));
            }
        });
        return answer.join();
    }

    /**
     * {@code GET path} on the event stream: every line to {@code lines} as it comes, until the
     * gateway closes the stream (it stops) or the caller's thread is interrupted. Returns the
     * answer's status and body when the gateway refuses the stream instead.
     */
    static Response follow(Path socket, String path, Consumer<String> lines) throws IOException {
        CompletableFuture<Response> ended = new CompletableFuture<>();
        ByteArrayOutputStream pending = new ByteArrayOutputStream();
        int[] status = {0};
        exchange(socket, request(HttpMethod.GET, path, null), null, ended, new SimpleChannelInboundHandler<HttpObject>() {
            @Override
            protected void channelRead0(ChannelHandlerContext ctx, HttpObject msg) {
                if (msg instanceof HttpResponse r) {
                    status[0] = r.status().code();
                }
                if (msg instanceof HttpContent c) {
                    ByteBuf b = c.content();
                    while (b.isReadable()) {
                        byte x = b.readByte();
                        if (x == '\n' && status[0] == 200) {
                            lines.accept(pending.toString(StandardCharsets.UTF_8));
                            pending.reset();
                        } else if (pending.size() < 1 << 20) {
                            pending.write(x);
                        }
                    }
                    if (msg instanceof LastHttpContent) {
                        ended.complete(new Response(status[0], pending.toString(StandardCharsets.UTF_8)));
                        ctx.close();
                    }
                }
            }

            @Override
            public void channelInactive(ChannelHandlerContext ctx) {
                ended.complete(new Response(status[0], pending.toString(StandardCharsets.UTF_8)));
            }
        });
        return ended.join();
    }

    private static FullHttpRequest request(HttpMethod method, String path, String jsonBody) {
        ByteBuf content = jsonBody == null ? Unpooled.EMPTY_BUFFER : Unpooled.copiedBuffer(jsonBody, StandardCharsets.UTF_8);
        FullHttpRequest r = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, method, path, content);
        r.headers().set(HttpHeaderNames.HOST, "isthmus");
        r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        if (jsonBody != null) {
            r.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON);
        }
        HttpUtil.setContentLength(r, content.readableBytes());
        return r;
    }

    /** Connects, sends, and waits for {@code done} ({@code timeout} at most, or for ever if null); the event loop goes after. */
    private static <T> void exchange(Path socket, FullHttpRequest request, Duration timeout, CompletableFuture<T> done,
                                     SimpleChannelInboundHandler<HttpObject> handler) throws IOException {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, Thread.ofPlatform().name("isthmus-api-client").daemon().factory(),
                EpollIoHandler.newFactory());
        Channel channel = null;
        try {
            var connected = new Bootstrap().group(group).channel(EpollDomainSocketChannel.class).handler(new ChannelInitializer<Channel>() {
                @Override
                protected void initChannel(Channel ch) {
                    ch.pipeline().addLast(new HttpClientCodec(), handler);
                }
            }).connect(new DomainSocketAddress(socket.toFile())).awaitUninterruptibly();
            if (!connected.isSuccess()) {
                request.release();
                Throwable c = connected.cause();
                throw new IOException(c.getMessage() == null ? c.toString() : c.getMessage().replaceFirst("^connect\\(\\.\\.\\) failed: ", ""));
            }
            channel = connected.channel();
            channel.writeAndFlush(request);
            try {
                if (timeout == null) {
                    done.get();
                } else {
                    done.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
                }
            } catch (TimeoutException e) {
                throw new IOException("no answer within " + (timeout.toMillis() % 1000 == 0 ? timeout.toSeconds() + " s" : timeout.toMillis() + " ms"));
            } catch (ExecutionException e) {
                throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted");
            }
        } finally {
            if (channel != null) {
                channel.close();
            }
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
    }
}
