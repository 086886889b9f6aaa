package io.isthmus.lab;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** A lab's namespaces as the traffic and gateway helpers use them: the two-site lab's, or the pair's. */
public interface Namespaces {
    /** The work directory: configurations, logs. */
    Path work();

    /** Runs a command in namespace {@code ns}; fails with its output if it fails. */
    String in(String ns, String... command) throws IOException, InterruptedException;

    /** Starts a command in {@code ns} with its output piped back; it goes when the lab closes. */
    Process start(String ns, List<String> command) throws IOException;

    /** Starts a command in {@code ns} with its output in {@code log}; it goes when the lab closes. */
    Process spawn(String ns, Path log, List<String> command) throws IOException;
}
