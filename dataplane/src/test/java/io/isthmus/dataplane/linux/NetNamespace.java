package io.isthmus.dataplane.linux;

import java.io.IOException;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * A network namespace of one test ({@code bgprt-<pid>-<name>}), removed when closed; code runs in
 * it by moving the calling thread there with setns(2) and back. Only the thread moves, and a
 * socket stays in the namespace it was made in: so a monitor opened inside reads that
 * namespace's routes for its whole life, while the test's JVM and ip(8) stay outside.
 */
public final class NetNamespace implements AutoCloseable {
    private static final int CLONE_NEWNET = 0x40000000;
    private static final MethodHandle SETNS = Linker.nativeLinker().downcallHandle(
            Linker.nativeLinker().defaultLookup().find("setns").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));

    public final String name;

    /** A new namespace, its name {@code name} after the test run's prefix, with lo up. */
    public NetNamespace(String name) throws IOException, InterruptedException {
        this("bgprt", name);
    }

    /** A new namespace named {@code family-<pid>-name}, with lo up. */
    public NetNamespace(String family, String name) throws IOException, InterruptedException {
        this.name = family + "-" + ProcessHandle.current().pid() + "-" + name;
        run("ip", "netns", "add", this.name);
        run("ip", "-n", this.name, "link", "set", "lo", "up");
    }

    /** ip(8) in the namespace: {@code ip -n NAME args...}. */
    public String ip(String... args) throws IOException, InterruptedException {
        List<String> c = new ArrayList<>(List.of("ip", "-n", name));
        c.addAll(List.of(args));
        return run(c.toArray(String[]::new));
    }

    /** {@code ip -n NAME -batch FILE} with these lines: thousands of routes in one process. */
    public void batch(List<String> lines) throws IOException, InterruptedException {
        java.nio.file.Path f = java.nio.file.Files.createTempFile("bgprt-" + ProcessHandle.current().pid() + "-", ".batch");
        try {
            java.nio.file.Files.write(f, lines);
            ip("-batch", f.toString());
        } finally {
            java.nio.file.Files.deleteIfExists(f);
        }
    }

    /** Runs {@code task} on this thread inside the namespace, then moves the thread back. */
    public <T> T inside(Callable<T> task) throws Exception {
        Libc.CallState s = new Libc.CallState();
        int home = Libc.open(s, "/proc/thread-self/ns/net", Libc.O_CLOEXEC);
        int there = Libc.open(s, "/run/netns/" + name, Libc.O_CLOEXEC);
        if (home < 0 || there < 0) {
            throw new IOException("namespace files: " + Libc.describe(-Math.min(home, there)));
        }
        try {
            int r = (int) SETNS.invokeExact(there, CLONE_NEWNET);
            if (r != 0) {
                throw new IOException("setns into " + name + " failed");
            }
            try {
                return task.call();
            } finally {
                int back = (int) SETNS.invokeExact(home, CLONE_NEWNET);
                if (back != 0) {
                    throw new IllegalStateException("setns back to the test's namespace failed: this thread is lost");
                }
            }
        } catch (Exception | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        } finally {
            Libc.close(s, home);
            Libc.close(s, there);
        }
    }

    public static String run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) {
            throw new IOException(String.join(" ", command) + " failed: " + out.strip());
        }
        return out;
    }

    @Override
    public void close() throws IOException, InterruptedException {
        run("ip", "netns", "del", name);
    }
}
