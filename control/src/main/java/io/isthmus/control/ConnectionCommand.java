package io.isthmus.control;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code isthmus connection initiate|terminate|rekey|reset NAME}: one connection of a running gateway, as swanctl acts on one. */
@Command(name = "connection", description = "Act on one connection of a running gateway.",
        subcommands = {ConnectionCommand.Initiate.class, ConnectionCommand.Terminate.class, ConnectionCommand.Rekey.class, ConnectionCommand.Reset.class})
final class ConnectionCommand {
    /** An initiate waits for the peer: IKE's own retransmissions give up after about this long. */
    static final Duration INITIATE_WAIT = Duration.ofSeconds(40);

    @Command(name = "initiate", description = {"Bring the connection up now and wait for its child SA (or the reason it failed), "
            + "as swanctl --initiate does; after isthmus connection terminate, the gateway keeps it up again from now on. "
            + "A ResponderOnly connection is refused: its peer initiates.", OutcomeRequest.EXIT_CODES})
    static final class Initiate extends Verb {
        @Override
        String path() {
            return "initiate";
        }

        @Override
        Duration timeout() {
            return INITIATE_WAIT.plusSeconds(5);
        }
    }

    @Command(name = "terminate", description = {"Delete the connection's IKE and child SAs (the peer is told) and keep it down: "
            + "the gateway does not initiate it again until isthmus connection initiate or reset, or a restart "
            + "(a peer may still initiate it).", OutcomeRequest.EXIT_CODES})
    static final class Terminate extends Verb {
        @Override
        String path() {
            return "terminate";
        }
    }

    @Command(name = "rekey", description = {"Rekey the connection's IKE SA now (its child SAs stay), or with --child its child SAs; "
            + "the tunnel carries on meanwhile. Waits for the rekey to finish.", OutcomeRequest.EXIT_CODES})
    static final class Rekey extends Verb {
        @Option(names = "--child", description = "Rekey the child SAs instead of the IKE SA.")
        boolean child;

        @Override
        String path() {
            return "rekey?sa=" + (child ? "child" : "ike");
        }
    }

    @Command(name = "reset", description = {"Delete the connection's IKE and child SAs (the peer is told) and make them again at once, "
            + "with its configuration as loaded now: a changed key or policy takes effect now rather than at the next IKE rekey "
            + "(where a changed key is used by reauthentication, make-before-break); the tunnel drops meanwhile.", OutcomeRequest.EXIT_CODES})
    static final class Reset extends Verb {
        @Override
        String path() {
            return "reset";
        }
    }

    /** {@code POST /v1/connections/NAME/VERB}, its outcome as the exit code. */
    abstract static class Verb implements Callable<Integer> {
        @Parameters(paramLabel = "NAME", description = "The connection's name, as in the configuration's connections.")
        String name;

        @Option(names = "--control-socket", description = "The gateway's control socket (default: the only one in /run/isthmus).")
        Path socket;

        @Spec
        CommandSpec spec;

        abstract String path();

        Duration timeout() {
            return ApiClient.TIMEOUT.plus(RunningConnections.OUTCOME_WAIT);
        }

        @Override
        public Integer call() {
            return OutcomeRequest.send(socket, "/v1/connections/" + ApiClient.segment(name) + "/" + path(), timeout(), spec.commandLine());
        }
    }
}
