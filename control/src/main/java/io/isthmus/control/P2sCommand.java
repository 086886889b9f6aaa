package io.isthmus.control;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code isthmus p2s disconnect CLIENT}: a point-to-site client of a running gateway, as Azure's "disconnect VPN client". */
@Command(name = "p2s", description = "Act on the point-to-site clients of a running gateway.", subcommands = P2sCommand.Disconnect.class)
final class P2sCommand {
    @Command(name = "disconnect", description = {"Delete the IKE SAs of one client (the client is told); its address waits in the pool "
            + "for its reconnect. It may connect again: refuse it for good with vpnClientRevokedCertificates or at the RADIUS server.",
            OutcomeRequest.EXIT_CODES})
    static final class Disconnect implements Callable<Integer> {
        @Parameters(paramLabel = "CLIENT", description = "The client's identity as isthmus status shows it, or its virtual address.")
        String client;

        @Option(names = "--control-socket", description = "The gateway's control socket (default: the only one in /run/isthmus).")
        Path socket;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            return OutcomeRequest.send(socket, "/v1/p2s/clients/" + ApiClient.segment(client) + "/disconnect", spec.commandLine());
        }
    }
}
