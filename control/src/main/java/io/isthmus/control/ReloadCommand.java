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
                + "rekey, added connections start, removed ones are deleted. A changed key is used only by a new IKE SA: an IKE SA "
                + "rekeys with CREATE_CHILD_SA, without IKE_AUTH (there is no reauthentication), so the new key is used once the IKE "
                + "SA is re-established: isthmus connection reset NAME (or when it is re-established for another reason).",
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
        return OutcomeRequest.send(socket, "reload", spec.commandLine());
    }
}
