package io.isthmus.control;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Network namespaces for one test, each a host of its own for a gateway process: named
 * {@code isthmus-test-<this JVM's pid>-<name>} so that runs side by side (and the lab's
 * {@code isthmus-lab-...}) never meet, and removed when closed, only those made here.
 */
final class TestNamespaces implements AutoCloseable {
    static final String PREFIX = "isthmus-test-" + ProcessHandle.current().pid() + "-";

    private final List<String> made = new ArrayList<>();

    /** A namespace with loopback up and IP forwarding on (v4 and v6), as a gateway's host has it. */
    String add(String name) throws IOException, InterruptedException {
        String ns = PREFIX + name;
        run("ip", "netns", "add", ns);
        made.add(ns);
        run("ip", "-n", ns, "link", "set", "lo", "up");
        // Through /proc as the namespace sees it: sh is in every Debian, sysctl(8) is not.
        exec(ns, "sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward && echo 1 > /proc/sys/net/ipv6/conf/all/forwarding");
        return ns;
    }

    /** A veth pair between two namespaces, each end up with its address (CIDR). */
    void link(String nsA, String ifA, String cidrA, String nsB, String ifB, String cidrB) throws IOException, InterruptedException {
        run("ip", "link", "add", "name", ifA, "netns", nsA, "type", "veth", "peer", "name", ifB, "netns", nsB);
        run("ip", "-n", nsA, "addr", "add", cidrA, "dev", ifA);
        run("ip", "-n", nsB, "addr", "add", cidrB, "dev", ifB);
        run("ip", "-n", nsA, "link", "set", ifA, "up");
        run("ip", "-n", nsB, "link", "set", ifB, "up");
    }

    /** The command line prefix that runs a command in {@code ns}. */
    static List<String> in(String ns) {
        return List.of("ip", "netns", "exec", ns);
    }

    static String exec(String ns, String... command) throws IOException, InterruptedException {
        List<String> c = new ArrayList<>(in(ns));
        c.addAll(List.of(command));
        return run(c.toArray(String[]::new));
    }

    static String run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IOException(String.join(" ", command) + " failed: " + out.strip());
        }
        return out;
    }

    @Override
    public void close() throws IOException, InterruptedException {
        IOException failed = null;
        for (String ns : made.reversed()) {
            try {
                run("ip", "netns", "del", ns);
            } catch (IOException e) {
                failed = e;
            }
        }
        made.clear();
        if (failed != null) {
            throw failed;
        }
    }
}
