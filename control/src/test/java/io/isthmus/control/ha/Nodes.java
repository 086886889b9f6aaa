package io.isthmus.control.ha;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The sync link tests' nodes: a (dials) and b (listens) with certificates from one directory,
 * each closed after the test.
 */
final class Nodes implements AutoCloseable {
    private final Path certs;
    private final Path dir;
    private final List<Node> started = new ArrayList<>();

    Nodes(Path certs, Path dir) {
        this.certs = certs;
        this.dir = dir;
    }

    /** Once per test class: a certificate and key for each name, NAME.pem and NAME.key. */
    static void certificates(Path certs, String... names) throws Exception {
        for (String n : names) {
            PairCertificates.generate(n, certs.resolve(n + ".pem"), certs.resolve(n + ".key"));
        }
    }

    Node start(SyncSettings s) throws Exception {
        return start(s, SyncBounds.DEFAULT);
    }

    Node start(SyncSettings s, int maxUnsentBytes) throws Exception {
        return start(s, SyncBounds.DEFAULT.withMaxUnsentBytes(maxUnsentBytes));
    }

    Node start(SyncSettings s, SyncBounds bounds) throws Exception {
        Node n = Node.start(s, bounds);
        started.add(n);
        return n;
    }

    /** b, listening on a free port. */
    Node startB() throws Exception {
        return start(Node.settings("b", "a", certs, dir, Node.unusedPort()));
    }

    /** a, dialling {@code b}. */
    Node startA(Node b) throws Exception {
        return start(Node.settings("a", "b", certs, dir, b.link.localAddress()));
    }

    /** a and b, once both say they are connected. */
    Node[] connectedPair() throws Exception {
        Node b = startB();
        Node a = startA(b);
        a.await("connected", a.link::connected);
        b.await("connected", b.link::connected);
        return new Node[] {a, b};
    }

    /** A node the test closes itself. */
    void forget(Node n) {
        started.remove(n);
    }

    @Override
    public void close() throws Exception {
        for (Node n : started) {
            n.close();
        }
    }
}
