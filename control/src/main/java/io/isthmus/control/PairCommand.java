package io.isthmus.control;

import io.isthmus.control.ha.PairCertificates;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code isthmus ha}: an active-active pair's planned handover and return, and its certificates. */
@Command(name = "ha", description = "An active-active pair: hand this instance's tunnels to the partner and take them back, "
        + "and make the certificates of the pair's sync link.",
        subcommands = {PairCommand.Handover.class, PairCommand.Resume.class, PairCommand.Certificate.class, PairKeepalivedCommand.class})
final class PairCommand {
    private PairCommand() {
    }

    @Command(name = "handover", description = {
            "Hand every floating address this instance carries, with its SAs, to the partner, losing nothing: the SAs here stop, "
                    + "their exact sequence numbers and replay windows go to the partner, which carries them on; keepalived then moves "
                    + "the addresses (this instance reports FAULT to it until isthmus ha resume). For maintenance of this machine; "
                    + "stopping the service does the same.",
            OutcomeRequest.EXIT_CODES})
    static final class Handover extends SocketWord {
        Handover() {
            super("handover");
        }
    }

    @Command(name = "resume", description = {
            "After isthmus ha handover: this instance may carry tunnels again; keepalived gives it back its own floating address "
                    + "after its preemption delay, and the partner's copy of the SAs comes with it.",
            OutcomeRequest.EXIT_CODES})
    static final class Resume extends SocketWord {
        Resume() {
            super("resume");
        }
    }

    /** A word to the gateway's control socket, its outcome as the exit code. */
    abstract static class SocketWord implements Callable<Integer> {
        private final String word;

        @Option(names = "--control-socket", description = "The gateway's control socket (default: the only one in /run/isthmus).")
        Path socket;

        @Spec
        CommandSpec spec;

        SocketWord(String word) {
            this.word = word;
        }

        @Override
        public Integer call() {
            return OutcomeRequest.send(socket, "/v1/pair/" + word, spec.commandLine());
        }
    }

    @Command(name = "certificate", description = "Make an instance's certificate and private key for the pair's sync link (P-256, "
            + "self-signed; the partner pins it): NAME.crt and NAME.key (mode 600) in the directory. Copy NAME.crt to the partner; "
            + "the key stays on this machine. Never overwrites.")
    static final class Certificate implements Callable<Integer> {
        @Option(names = "--name", required = true, description = "The instance's name, as in the configuration's pair.instances.")
        String name;

        @Option(names = "--directory", defaultValue = "/etc/isthmus/pair", description = "Where to write them (default ${DEFAULT-VALUE}).")
        Path directory;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            Files.createDirectories(directory);
            Path crt = directory.resolve(name + ".crt");
            Path key = directory.resolve(name + ".key");
            PairCertificates.generate(name, crt, key);
            spec.commandLine().getOut().printf("%s%n%s%n", crt, key);
            spec.commandLine().getOut().flush();
            return 0;
        }
    }
}
