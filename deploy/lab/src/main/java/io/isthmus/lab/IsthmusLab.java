package io.isthmus.lab;

import io.isthmus.control.Isthmus;
import picocli.CommandLine;

/**
 * The {@code isthmus} command line of a build tree: the gateway's own commands (gateway, status,
 * help) and the tools around it, {@code demo}, {@code lab} and {@code bench}, which live in this
 * module so that the daemon's jar carries only the gateway. deploy/isthmus runs this.
 */
public final class IsthmusLab {
    private IsthmusLab() {
    }

    public static void main(String[] args) {
        Isthmus.setUpLogging();
        System.exit(commandLine("1".equals(System.getenv("ISTHMUS_DEBUG"))).execute(args));
    }

    /** The gateway's command line with the lab's commands added. */
    static CommandLine commandLine(boolean debug) {
        return Isthmus.commandLine(debug).addSubcommand(new Demo()).addSubcommand(new LabCommand()).addSubcommand(new BenchCommand());
    }
}
