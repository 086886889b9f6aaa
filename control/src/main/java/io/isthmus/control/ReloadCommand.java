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
                + "unchanged connections keep their SAs, changed prefixes take effect at once, a changed policy at the next "
                + "rekey, added connections start, removed ones are deleted. A changed key is used at the next IKE rekey, which "
                + "is then a reauthentication: a new IKE SA with the new key and its child SA, and only then the old IKE SA "
                + "deleted (make-before-break); if the peer refuses the new key, the old IKE SA is rekeyed, a warning is logged, "
                + "and the next rekey tries again. isthmus connection reset NAME uses it at once (the tunnel drops briefly).",
        "systemd credentials (LoadCredential=) are copied when the service starts, not on a reload: a rotated credential "
                + "file needs systemctl restart.",
        "A file that does not check, or a change that needs a restart, is refused with the reason; the running "
                + "configuration stays. SIGHUP does the same.",
        OutcomeRequest.EXIT_CODES})
final class ReloadCommand implements Callable<Integer> {
    @Option(names = "--control-socket", description = "The gateway's control socket (default: the only one in /run/isthmus).")
    Path socket;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        return OutcomeRequest.send(socket, "/v1/reload", spec.commandLine());
    }
}
