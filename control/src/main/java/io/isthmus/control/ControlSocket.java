package io.isthmus.control;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.isthmus.control.log.LogOutput;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.BindException;
import java.net.ConnectException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.OverlappingFileLockException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The management socket of a running gateway: a Unix domain socket (only root and the owner may
 * connect: mode 0600) that answers one line, {@code status}, {@code reload} or {@code reset NAME},
 * as JSON (the gateway's status, or what the reload or reset did).
 *
 * <p>It must keep answering on a bad day, when someone's script hangs on it: clients are served
 * at once, each on its own virtual thread, up to {@link #MAX_CLIENTS} (more are closed unserved);
 * a client that has not sent its request line within {@link #REQUEST_DEADLINE} is cut off; a
 * request is one line of at most {@link #MAX_REQUEST_BYTES}. And only one gateway owns a path:
 * a socket someone still listens on is never taken over, a stale one is replaced.
 */
final class ControlSocket implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("io.isthmus.control");
    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** Status requests are cheap and operators few: more at once than this is a script gone wrong. */
    static final int MAX_CLIENTS = 16;
    /** A person's `isthmus status` sends its line at once; waiting longer only ties up a slot. */
    static final Duration REQUEST_DEADLINE = Duration.ofSeconds(3);
    /** A client that does not read its answer is cut off too. */
    static final Duration ANSWER_DEADLINE = Duration.ofSeconds(10);
    /** The longest request line ("status" and its future siblings are short). */
    static final int MAX_REQUEST_BYTES = 256;
    /** How long {@code isthmus status} waits: the gateway itself gives the IKE thread 10 s to answer. */
    static final Duration ASK_TIMEOUT = Duration.ofSeconds(15);

    private final Path path;
    private final FileChannel lock;
    private final Object fileKey;
    private final ServerSocketChannel server;
    private final ControlRequests requests;
    private final Semaphore slots;
    private final Duration requestDeadline;
    private final RateLimitedWarning refused = new RateLimitedWarning("connections closed unserved: too many clients at once");
    private final RateLimitedWarning cutOff = new RateLimitedWarning("clients cut off: no request line in time, or the answer not read");
    private final Thread acceptor;

    private ControlSocket(Path path, Object fileKey, ServerSocketChannel server, FileChannel lock, ControlRequests requests, int maxClients,
                          Duration requestDeadline) {
        this.path = path;
        this.lock = lock;
        this.fileKey = fileKey;
        this.server = server;
        this.requests = requests;
        this.slots = new Semaphore(maxClients);
        this.requestDeadline = requestDeadline;
        this.acceptor = Thread.ofVirtual().name("isthmus-control").start(this::accept);
    }

    /**
     * Binds {@code path} and serves {@code requests} there. Throws a {@link BindException} whose
     * message is one line for the operator when another process listens on the path or the
     * path is something other than a socket.
     */
    static ControlSocket open(Path path, ControlRequests requests) throws IOException {
        return open(path, requests, MAX_CLIENTS, REQUEST_DEADLINE);
    }

    static ControlSocket open(Path path, ControlRequests requests, int maxClients, Duration requestDeadline) throws IOException {
        try {
            Files.createDirectories(path.toAbsolutePath().getParent());
        } catch (AccessDeniedException e) {
            throw new BindException("cannot create control socket " + path + ": permission denied on " + e.getFile()
                    + " (run as root, or choose another place with --control-socket)");
        }
        // Held for as long as this gateway runs: two gateways starting together cannot both find the
        // socket stale, and one cannot delete the socket the other has just bound.
        FileChannel lock = lock(path);
        ServerSocketChannel server = null;
        Object fileKey;
        try {
            removeIfStale(path);
            server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            server.bind(UnixDomainSocketAddress.of(path));
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-------"));
            fileKey = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
        } catch (IOException e) {
            if (server != null) {
                server.close();
            }
            lock.close();
            throw e instanceof BindException ? e : new BindException("cannot bind control socket " + path + ": " + e.getMessage());
        }
        LOG.log(System.Logger.Level.INFO, "control socket {0}", path);
        return new ControlSocket(path, fileKey, server, lock, requests, maxClients, requestDeadline);
    }

    /** An exclusive lock on PATH.lock, or a BindException saying another gateway holds it. */
    private static FileChannel lock(Path path) throws IOException {
        Path lockFile = Path.of(path + ".lock");
        FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        try {
            Files.setPosixFilePermissions(lockFile, PosixFilePermissions.fromString("rw-------"));
            if (channel.tryLock() != null) {
                return channel;
            }
        } catch (OverlappingFileLockException heldInThisProcess) {
            // another gateway of this very JVM (tests) holds it
        } catch (IOException e) {
            channel.close();
            throw e;
        }
        channel.close();
        throw new BindException("another gateway is running on control socket " + path
                + " (stop it first, or give this one another --control-socket)");
    }

    /**
     * Something at {@code path} already: if a process answers there, another gateway owns it and
     * this one must not start (deleting the file would silently cut that gateway off from
     * {@code isthmus status}); if nothing listens, a gateway died without cleaning up.
     */
    private static void removeIfStale(Path path) throws IOException {
        if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        int mode = (Integer) Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        if ((mode & 0170000) != 0140000) {
            throw new BindException("control socket " + path + " exists and is not a socket; remove it or choose another --control-socket");
        }
        try {
            SocketChannel.open(UnixDomainSocketAddress.of(path)).close();
        } catch (ConnectException nobodyListens) {
            LOG.log(System.Logger.Level.INFO, "control socket {0} was left behind by a gateway that is gone; replacing it", path);
            Files.deleteIfExists(path);
            return;
        }
        throw new BindException("another gateway is running on control socket " + path + " (stop it first, or give this one another --control-socket)");
    }

    private void accept() {
        while (server.isOpen()) {
            SocketChannel client;
            try {
                client = server.accept();
            } catch (IOException e) {
                if (!server.isOpen()) {
                    return;
                }
                // E.g. out of file descriptors: pause rather than spin and flood the log.
                LOG.log(System.Logger.Level.WARNING, "control socket {0}: {1}; trying again in a second", path, e.toString());
                try {
                    Thread.sleep(1000);
                } catch (InterruptedException closing) {
                    return;
                }
                continue;
            }
            if (!slots.tryAcquire()) {
                refused.happened();
                closeQuietly(client);
                continue;
            }
            Thread.ofVirtual().name("isthmus-control-client").start(() -> {
                try {
                    serve(client);
                } catch (Throwable t) {
                    // Not a request's failure (serve answers those): the client is dropped, but not without a word.
                    LOG.log(System.Logger.Level.ERROR, "control socket: serving a client failed: " + t, t);
                    closeQuietly(client);
                } finally {
                    slots.release();
                }
            });
        }
    }

    private void serve(SocketChannel client) {
        Deadline deadline = new Deadline(client, requestDeadline);
        try (client) {
            byte[] answer;
            boolean unread = false;
            try {
                String request = readRequest(client);
                if (request == null) {
                    return; // connected and left without a word: another gateway's start, probing
                }
                deadline.close(); // the status itself may take a while: that is not the client's fault
                String problem = problem(request);
                answer = problem != null ? error(problem) : answerOrInternalError(request);
            } catch (RequestTooLong e) {
                answer = error("request longer than " + MAX_REQUEST_BYTES + " bytes");
                unread = true;
            }
            deadline.close();
            deadline = new Deadline(client, ANSWER_DEADLINE);
            ByteBuffer b = ByteBuffer.wrap(answer);
            while (b.hasRemaining()) {
                client.write(b);
            }
            if (unread) {
                // Closed with the rest of its request unread, the socket would reset and the client lose the answer.
                client.shutdownOutput();
                discardUntilEnd(client);
            }
        } catch (IOException e) {
            if (deadline.expired()) {
                cutOff.happened();
            } else if (server.isOpen()) {
                LOG.log(System.Logger.Level.DEBUG, "control socket client: {0}", e.toString());
            }
        } finally {
            deadline.close();
        }
    }

    /**
     * The answer, or for anything a handler throws that {@link #answered} does not (an Error such
     * as OutOfMemoryError or StackOverflowError, or a failure outside the handler) one line
     * naming its class, logged once with its stack: the client is told, the server goes on.
     */
    private byte[] answerOrInternalError(String request) throws IOException {
        try {
            return answer(request);
        } catch (Throwable t) {
            LOG.log(System.Logger.Level.ERROR, "control socket: request '" + request + "' failed: " + t, t);
            return error("internal error: " + t.getClass().getName());
        }
    }

    /**
     * Why a request is not one line of printable text, or null if it is. A control character
     * (a second line above all) would make the gateway act on something other than what the
     * operator typed: {@code reset $'to-peer\nstatus'} reset to-peer.
     */
    static String problem(String request) {
        for (int i = 0; i < request.length(); ) {
            int c = request.codePointAt(i);
            int type = Character.getType(c);
            if (type == Character.CONTROL || type == Character.LINE_SEPARATOR || type == Character.PARAGRAPH_SEPARATOR) {
                return (c == '\n' ? "a request is one line; this one has a second" : "the request carries a control character")
                        + String.format(" (U+%04X at character %d)", c, request.codePointCount(0, i) + 1);
            }
            i += Character.charCount(c);
        }
        return null;
    }

    private byte[] answer(String request) throws IOException {
        if (LogLevelRequest.is(request)) {
            return JSON.writeValueAsBytes(LogLevelRequest.answer(request, LogOutput.process()));
        }
        String[] words = request.split(" ", 2);
        return switch (words[0]) {
            case "status" -> words.length == 1 ? answered("status", requests::status) : unknown(request);
            case "reload" -> words.length == 1 ? answered("reload", requests::reload) : unknown(request);
            case "handover" -> words.length == 1 ? answered("handover", requests::handover) : unknown(request);
            case "resume" -> words.length == 1 ? answered("resume", requests::resume) : unknown(request);
            // The rest of the line is the name: a connection's name may have spaces in it.
            case "reset" -> words.length == 2 && !words[1].isBlank() ? answered("reset", () -> requests.reset(words[1].strip()))
                    : error("reset needs a connection's name: reset NAME");
            default -> unknown(request);
        };
    }

    private static byte[] unknown(String request) throws IOException {
        return error("unknown request '" + request + "'; try status, reload, reset NAME, log-level, handover or resume");
    }

    /** The request's answer as JSON, or its failure as an error (an operator's mistake, such as an unknown name, is not logged). */
    private static byte[] answered(String what, java.util.concurrent.Callable<Object> request) throws IOException {
        try {
            return JSON.writeValueAsBytes(request.call());
        } catch (IllegalArgumentException e) {
            return error(e.getMessage());
        } catch (Exception e) {
            LOG.log(System.Logger.Level.WARNING, "control socket: " + what + " failed: " + e, e);
            return error(what + " failed: " + e.getMessage());
        }
    }

    private static byte[] error(String message) throws IOException {
        return JSON.writeValueAsBytes(Map.of("error", message));
    }

    /**
     * One line (up to the newline, or all a client sent before it shut its side); null if it sent
     * nothing. What came in after the newline is kept (with that newline), so that a second line
     * is refused by {@link #problem} rather than silently dropped.
     */
    private static String readRequest(SocketChannel c) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(MAX_REQUEST_BYTES + 1);
        int end;
        while ((end = indexOfNewline(b)) < 0 && b.hasRemaining() && c.read(b) > 0) {
            // more of the line
        }
        if (end < 0 && !b.hasRemaining()) {
            throw new RequestTooLong();
        }
        if (b.position() == 0) {
            return null;
        }
        int length = b.position();
        if (end == length - 1) {
            length = end; // the one newline that ends the line
        }
        return new String(b.array(), 0, length, StandardCharsets.UTF_8).strip();
    }

    /** Reads and drops what a client still sends, up to a bound, until it closes its side. */
    private static void discardUntilEnd(SocketChannel c) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(4096);
        int total = 0;
        int n;
        while (total < 1 << 20 && (n = c.read(b)) >= 0) {
            total += n;
            b.clear();
        }
    }

    private static int indexOfNewline(ByteBuffer b) {
        for (int i = 0; i < b.position(); i++) {
            if (b.get(i) == '\n') {
                return i;
            }
        }
        return -1;
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
        try (var list = Files.list(directory)) {
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

    /** Client side: sends {@code request}, returns the answer; gives up after {@link #ASK_TIMEOUT}. */
    static String ask(Path path, String request) throws IOException {
        return ask(path, request, ASK_TIMEOUT);
    }

    /** @throws IllegalArgumentException before connecting, for a request that is not one line of printable text */
    static String ask(Path path, String request, Duration timeout) throws IOException {
        String problem = problem(request);
        if (problem != null) {
            throw new IllegalArgumentException("not sent: " + problem + "; a request is one line of printable text");
        }
        try (SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX); Deadline d = new Deadline(c, timeout)) {
            try {
                // The deadline covers the connect too: a gateway that no longer accepts fills its backlog, and connect waits.
                c.connect(UnixDomainSocketAddress.of(path));
                c.write(ByteBuffer.wrap((request + "\n").getBytes(StandardCharsets.UTF_8)));
                return new String(readAll(c), StandardCharsets.UTF_8);
            } catch (IOException e) {
                if (d.expired()) {
                    throw new IOException("no answer within " + (timeout.toMillis() % 1000 == 0 ? timeout.toSeconds() + " s" : timeout.toMillis() + " ms"));
                }
                throw e;
            }
        }
    }

    private static byte[] readAll(SocketChannel c) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteBuffer b = ByteBuffer.allocate(64 * 1024);
        while (c.read(b) > 0) {
            out.write(b.array(), 0, b.position());
            b.clear();
        }
        return out.toByteArray();
    }

    /** Connections closed unserved because {@link #MAX_CLIENTS} were being served. */
    long refusedClients() {
        return refused.total();
    }

    /** Clients cut off at a deadline. */
    long cutOffClients() {
        return cutOff.total();
    }

    /** Stops accepting and removes the socket file, if it is still this socket's. */
    @Override
    public void close() {
        try {
            server.close();
            Object now = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
            if (Objects.equals(now, fileKey)) {
                Files.deleteIfExists(path);
            }
        } catch (IOException ignored) {
            // gone already, or going away anyway
        }
        try {
            lock.close(); // the lock file stays: deleting it would let two newcomers lock two different files
        } catch (IOException ignored) {
            // released with the process anyway
        }
        acceptor.interrupt();
    }

    private static void closeQuietly(SocketChannel c) {
        try {
            c.close();
        } catch (IOException ignored) {
            // nothing to tell anyone
        }
    }

    /** A read or write on a channel has no timeout of its own: this closes the channel when time is up. */
    private static final class Deadline implements AutoCloseable {
        private final Thread timer;
        private volatile boolean expired;

        Deadline(SocketChannel c, Duration after) {
            this.timer = Thread.ofVirtual().name("isthmus-control-deadline").start(() -> {
                try {
                    Thread.sleep(after);
                } catch (InterruptedException done) {
                    return;
                }
                expired = true;
                closeQuietly(c);
            });
        }

        boolean expired() {
            return expired;
        }

        @Override
        public void close() {
            timer.interrupt();
        }
    }

    /** No newline in the first {@link #MAX_REQUEST_BYTES} + 1 bytes. */
    private static final class RequestTooLong extends IOException {
        RequestTooLong() {
            super("request too long");
        }
    }

    /** At most one log line a minute for something that comes in bursts, with how often it happened meanwhile. */
    private final class RateLimitedWarning {
        private static final long PERIOD_NANOS = Duration.ofMinutes(1).toNanos();
        private final String what;
        private final AtomicLong total = new AtomicLong();
        private final AtomicLong sinceLastLine = new AtomicLong();
        private final AtomicLong lastLine = new AtomicLong(System.nanoTime() - PERIOD_NANOS);

        RateLimitedWarning(String what) {
            this.what = what;
        }

        void happened() {
            total.incrementAndGet();
            sinceLastLine.incrementAndGet();
            long now = System.nanoTime();
            long last = lastLine.get();
            if (now - last >= PERIOD_NANOS && lastLine.compareAndSet(last, now)) {
                LOG.log(System.Logger.Level.WARNING, "control socket {0}: {1}: {2} (at most one such line a minute)", path,
                        what, sinceLastLine.getAndSet(0));
            }
        }

        long total() {
            return total.get();
        }
    }
}
