package io.isthmus.packaging;

import java.io.IOException;

/** A network namespace of this test run (its name carries the run's pid), deleted when closed. */
final class Namespace implements AutoCloseable {
    final String name;

    Namespace(String purpose) throws IOException, InterruptedException {
        if (!"root".equals(System.getProperty("user.name"))) {
            throw new AssertionError("network namespaces need root; CI runs as root");
        }
        name = PackageUnderTest.PREFIX + "-" + purpose;
        Command.run("ip", "netns", "add", name).ok();
    }

    /** A sysctl as a process in this namespace reads it (net.* are the namespace's own). */
    String sysctl(String key) throws IOException, InterruptedException {
        return Command.run("ip", "netns", "exec", name, "cat", "/proc/sys/" + key.replace('.', '/')).ok().out().strip();
    }

    /** Sets a sysctl in this namespace (a new namespace takes IPv4's from the host's first one). */
    void sysctl(String key, String value) throws IOException, InterruptedException {
        Command.run("ip", "netns", "exec", name, "sh", "-c", "echo \"$1\" > \"$0\"", "/proc/sys/" + key.replace('.', '/'), value).ok();
    }

    @Override
    public void close() throws IOException, InterruptedException {
        Command.run("ip", "netns", "delete", name).ok();
    }
}
