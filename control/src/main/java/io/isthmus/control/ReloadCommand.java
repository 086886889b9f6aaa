package io.isthmus.control;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code isthmus reload}: what systemctl reload runs. */
@Command(name = "reload", description = {
        "Make a running gateway read its configuration file again and apply what changed, connection by connection: "
                + "unchanged connections keep their SAs, changed prefixes take effect at once, a changed policy or key at the next "
                + "rekey (or with isthmus connection reset), added connections start, removed ones are deleted.",
        "A file that does not check, or a change that needs a restart, is refused with the reason (exit 2); the running "
                + "configuration stays. SIGHUP does the same."})
final class ReloadCommand implements Callable<Integer> {
    @Option(names = "--control-socket", description = "The gateway's control socket (default: the only one in /run/isthmus).")
    Path socket;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        return OutcomeRequest.send(socket, "reload", spec.commandLine());
    }
}
