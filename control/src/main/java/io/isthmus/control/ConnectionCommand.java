package io.isthmus.control;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code isthmus connection reset NAME}: one connection of a running gateway, made anew. */
@Command(name = "connection", description = "Act on one connection of a running gateway.", subcommands = ConnectionCommand.Reset.class)
final class ConnectionCommand {

    @Command(name = "reset", description = {"Delete the connection's IKE and child SAs (the peer is told) and make them again at once, "
            + "with its configuration as loaded now: a changed key or policy takes effect now rather than at the next IKE rekey "
            + "(where a changed key is used by reauthentication, make-before-break); the tunnel drops meanwhile.", OutcomeRequest.EXIT_CODES})
    static final class Reset implements Callable<Integer> {
        @Parameters(paramLabel = "NAME", description = "The connection's name, as in the configuration's connections.")
        String name;

        @Option(names = "--control-socket", description = "The gateway's control socket (default: the only one in /run/isthmus).")
        Path socket;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            return OutcomeRequest.send(socket, "reset " + name, spec.commandLine());
        }
    }
}
