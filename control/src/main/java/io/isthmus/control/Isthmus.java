package io.isthmus.control;

import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code isthmus} command line. */
@Command(name = "isthmus", mixinStandardHelpOptions = true, versionProvider = Isthmus.Version.class,
        description = "Isthmus: a userspace IPsec/IKEv2 site-to-site VPN gateway for Linux.",
        subcommands = {Demo.class})
public final class Isthmus implements Callable<Integer> {

    @Override
    public Integer call() {
        CommandLine.usage(this, System.out);
        return 0;
    }

    public static void main(String[] args) {
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
