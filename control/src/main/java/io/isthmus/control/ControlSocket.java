package io.isthmus.control;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * The management socket of a running gateway: a Unix domain socket (only root and the owner may
 * connect: mode 0600) that answers one line, {@code status}, with the gateway's status as JSON.
 */
final class ControlSocket implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("io.isthmus.gateway");
    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final Path path;
    private final ServerSocketChannel server;
    private final Thread thread;

    private ControlSocket(Path path, ServerSocketChannel server, Gateway gateway) {
        this.path = path;
        this.server = server;
        this.thread = Thread.ofVirtual().name("isthmus-control").start(() -> serve(gateway));
    }

    static ControlSocket open(Path path, Gateway gateway) throws IOException {
        Files.createDirectories(path.toAbsolutePath().getParent());
        Files.deleteIfExists(path);
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(path));
        Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-------"));
        LOG.log(System.Logger.Level.INFO, "control socket {0}", path);
        return new ControlSocket(path, server, gateway);
    }

    private void serve(Gateway gateway) {
        while (server.isOpen()) {
            try (SocketChannel client = server.accept()) {
                String request = readLine(client);
                byte[] answer = switch (request) {
                    case "status" -> JSON.writeValueAsBytes(gateway.status());
                    default -> ("{\"error\": \"unknown request '" + request.replace("\"", "") + "'; try status\"}").getBytes(StandardCharsets.UTF_8);
                };
                ByteBuffer b = ByteBuffer.wrap(answer);
                while (b.hasRemaining()) {
                    client.write(b);
                }
            } catch (IOException e) {
                if (server.isOpen()) {
                    LOG.log(System.Logger.Level.WARNING, "control socket: {0}", e.toString());
                }
            } catch (Exception e) {
                LOG.log(System.Logger.Level.WARNING, "control socket: " + e, e);
            }
        }
    }

    private static String readLine(SocketChannel c) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(256);
        while (b.hasRemaining() && c.read(b) > 0) {
            if (b.get(b.position() - 1) == '\n') {
                break;
            }
        }
        return new String(b.array(), 0, b.position(), StandardCharsets.UTF_8).strip();
    }

    /** Client side: sends {@code request}, returns the answer. */
    static String ask(Path path, String request) throws IOException {
        try (SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(path))) {
            c.write(ByteBuffer.wrap((request + "\n").getBytes(StandardCharsets.UTF_8)));
            return new String(readAll(c), StandardCharsets.UTF_8);
        }
    }

    private static byte[] readAll(SocketChannel c) throws IOException {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        ByteBuffer b = ByteBuffer.allocate(64 * 1024);
        while (c.read(b) > 0) {
            out.write(b.array(), 0, b.position());
            b.clear();
        }
        return out.toByteArray();
    }

    @Override
    public void close() {
        try {
            server.close();
            Files.deleteIfExists(path);
        } catch (IOException ignored) {
            // going away anyway
        }
        thread.interrupt();
    }
}
