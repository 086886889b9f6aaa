package io.isthmus.control;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Another JVM running a main class of this build (this JVM's java and class path, as the lab
 * starts its gateways), its stdout and stderr in one file: for what only a whole process shows,
 * signals and shutdown.
 */
final class ChildJvm implements AutoCloseable {
    private final Process process;
    private final Path output;

    private ChildJvm(Process process, Path output) {
        this.process = process;
        this.output = output;
    }

    static ChildJvm start(Class<?> main, Path output) throws IOException {
        return start(List.of(), Map.of(), main, List.of(), output);
    }

    /**
     * {@code main} with {@code arguments}, its command line after {@code wrapper} (e.g. ip netns
     * exec NS, which execs: the pid is the JVM's), with {@code environment} added to this one's.
     */
    static ChildJvm start(List<String> wrapper, Map<String, String> environment, Class<?> main, List<String> arguments, Path output)
            throws IOException {
        String java = ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> command = new ArrayList<>(wrapper);
        command.add(java);
        command.addAll(Isthmus.jvmOptions());
        command.addAll(List.of("-cp", System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"))));
        command.add(main.getName());
        command.addAll(arguments);
        ProcessBuilder b = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile());
        b.environment().putAll(environment);
        return new ChildJvm(b.start(), output);
    }

    long pid() {
        return process.pid();
    }

    boolean alive() {
        return process.isAlive();
    }

    String output() throws IOException {
        return Files.readString(output);
    }

    /** Waits until the output contains {@code text}; false if the time ran out or the process ended first. */
    boolean awaitOutput(String text, Duration within) throws IOException, InterruptedException {
        long end = System.nanoTime() + within.toNanos();
        while (System.nanoTime() < end) {
            if (output().contains(text)) {
                return true;
            }
            if (!process.isAlive()) {
                return output().contains(text);
            }
            Thread.sleep(20);
        }
        return false;
    }

    /** Sends {@code signal} (HUP, TERM ...) with kill(1). */
    void signal(String signal) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-s", signal, Long.toString(pid())).inheritIO().start();
        if (kill.waitFor() != 0) {
            throw new IOException("kill -s " + signal + " " + pid() + " failed");
        }
    }

    /** The exit code, or null if it is still running after {@code within}. */
    Integer awaitExit(Duration within) throws InterruptedException {
        return process.waitFor(within.toMillis(), TimeUnit.MILLISECONDS) ? process.exitValue() : null;
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
