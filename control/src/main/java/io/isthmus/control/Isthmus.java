package io.isthmus.control;

import io.isthmus.control.config.ConfigException;
import io.isthmus.control.log.LogOutput;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.net.BindException;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * The {@code isthmus} command line. Every command takes --help and --version (inherited from
 * here); {@code isthmus help gateway run} shows a subcommand's usage; an operator's mistake ends
 * in one line on stderr, not a stack trace (ISTHMUS_DEBUG=1 adds it).
 */
@Command(name = "isthmus", mixinStandardHelpOptions = true, versionProvider = Isthmus.Version.class, scope = ScopeType.INHERIT,
        description = "Isthmus: a userspace IPsec/IKEv2 site-to-site VPN gateway for Linux.",
        subcommands = {GatewayCommand.class, StatusCommand.class, MonitorCommand.class, CaptureCommand.class, ReloadCommand.class, ConnectionCommand.class, P2sCommand.class,
                LogLevelCommand.class,
                PairCommand.class,
                Isthmus.Help.class})
public final class Isthmus implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getOut());
        return 0;
    }

    public static void main(String[] args) {
        setUpLogging();
        System.exit(commandLine("1".equals(System.getenv("ISTHMUS_DEBUG"))).execute(args));
    }

    /**
     * First thing in main: Logback starts (configured by io.isthmus.control.log, no XML), so the
     * first line already has its format, and Netty is pointed at SLF4J.
     */
    public static void setUpLogging() {
        LogOutput.install();
    }

    /**
     * The flags every Isthmus JVM runs with (FFM native access, the crypto provider's package
     * open for the intrinsics), as the build wrote them from the root pom's
     * isthmus.jvm.flags: for starting gateways in other JVMs (the lab) without writing them again.
     */
    public static List<String> jvmOptions() {
        try (InputStream in = Isthmus.class.getResourceAsStream("jvm.options")) {
            if (in == null) {
                throw new IllegalStateException("jvm.options missing from the build");
            }
            return List.of(new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).strip().split("\\s+"));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The command line as main runs it; {@code debug}: errors with their stack trace. */
    public static CommandLine commandLine(boolean debug) {
        return new CommandLine(new Isthmus()).setExecutionExceptionHandler(new OneLineErrors(debug));
    }

    /**
     * What a command throws, as the operator reads it: "isthmus: " and the message, one line.
     * A configuration mistake exits 2 (as picocli does for a bad option), anything else 1.
     */
    static final class OneLineErrors implements CommandLine.IExecutionExceptionHandler {
        private final boolean debug;

        OneLineErrors(boolean debug) {
            this.debug = debug;
        }

        @Override
        public int handleExecutionException(Exception e, CommandLine cmd, CommandLine.ParseResult parsed) {
            PrintWriter err = cmd.getErr();
            err.println("isthmus: " + describe(e) + (explainsItself(e) || debug ? "" : " (ISTHMUS_DEBUG=1 prints the stack trace)"));
            if (debug) {
                e.printStackTrace(err);
            }
            err.flush();
            return e instanceof ConfigException ? 2 : 1;
        }

        /** Exceptions written for the operator: the file and field, or the address and what to check. */
        private static boolean explainsItself(Exception e) {
            return e instanceof ConfigException || e instanceof BindException;
        }

        /** The one line an operator reads for {@code e} (also systemd's STATUS= after a failed start). */
        static String describe(Exception e) {
            if (e instanceof ConfigException) {
                return e.getMessage(); // one line per problem, as written
            }
            String text = e instanceof IOException && e.getMessage() != null ? e.getMessage() : e.toString();
            return text.strip().replaceAll("\\s*\\R\\s*", "; ");
        }
    }

    /**
     * {@code isthmus help [COMMAND [SUBCOMMAND...]]}. Not picocli's HelpCommand: that one takes a
     * single name, so {@code isthmus help gateway run} would show the usage of gateway.
     */
    @Command(name = "help", helpCommand = true,
            description = "Show the usage of isthmus or of one of its commands, e.g. isthmus help gateway run.")
    static final class Help implements CommandLine.IHelpCommandInitializable2, Runnable {
        @Parameters(paramLabel = "COMMAND", arity = "0..*", description = "A command, then its subcommands in turn.")
        List<String> commands = new ArrayList<>();

        private CommandLine self;
        private CommandLine.Help.ColorScheme colors;
        private PrintWriter out;

        @Override
        public void init(CommandLine helpCommandLine, CommandLine.Help.ColorScheme colorScheme, PrintWriter outWriter, PrintWriter errWriter) {
            this.self = helpCommandLine;
            this.colors = colorScheme;
            this.out = outWriter;
        }

        @Override
        public void run() {
            CommandLine shown = self.getParent();
            for (String name : commands) {
                CommandLine sub = shown.getSubcommands().get(name);
                if (sub == null) {
                    throw new CommandLine.ParameterException(self, "'" + String.join(" ", commands) + "': " + qualifiedName(shown)
                            + " has no command '" + name + "'; it has: " + String.join(", ", shown.getSubcommands().keySet()));
                }
                shown = sub;
            }
            shown.usage(out, colors);
        }

        private static String qualifiedName(CommandLine c) {
            return c.getCommandSpec().qualifiedName();
        }
    }

    /** The version Maven put into version.properties (a filtered resource), so a build tree knows it too. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"isthmus " + version() + " on Java " + Runtime.version()};
        }

        static String version() {
            try (InputStream in = Isthmus.class.getResourceAsStream("version.properties")) {
                if (in != null) {
                    Properties p = new Properties();
                    p.load(in);
                    String v = p.getProperty("version", "");
                    if (!v.isEmpty() && !v.startsWith("${")) {
                        return v;
                    }
                }
            } catch (IOException ignored) {
                // fall back to the manifest
            }
            String fromManifest = Isthmus.class.getPackage().getImplementationVersion();
            return fromManifest != null ? fromManifest : "(development build)";
        }
    }
}
