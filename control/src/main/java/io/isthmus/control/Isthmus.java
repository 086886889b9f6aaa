package io.isthmus.control;

import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code isthmus} command line. */
@Command(name = "isthmus", mixinStandardHelpOptions = true, versionProvider = Isthmus.Version.class,
        description = "Isthmus: a userspace IPsec/IKEv2 site-to-site VPN gateway for Linux.",
        subcommands = {Demo.class, GatewayCommand.class, StatusCommand.class, LabCommand.class, BenchCommand.class})
public final class Isthmus implements Callable<Integer> {

    @Override
    public Integer call() {
        CommandLine.usage(this, System.out);
        return 0;
    }

    public static void main(String[] args) {
        // One line per event, with the time: what an engineer greps at 3 a.m.
        if (System.getProperty("java.util.logging.SimpleFormatter.format") == null) {
            System.setProperty("java.util.logging.SimpleFormatter.format", "%1$tF %1$tT.%1$tL %4$s %5$s%6$s%n");
        }
        System.exit(new CommandLine(new Isthmus()).execute(args));
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String version = Isthmus.class.getPackage().getImplementationVersion();
            return new String[] {"isthmus " + (version == null ? "(development build)" : version)
                    + " on Java " + Runtime.version()};
        }
    }
}
