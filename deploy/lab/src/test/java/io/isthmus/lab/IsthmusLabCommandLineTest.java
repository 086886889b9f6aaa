package io.isthmus.lab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The build tree's command line: the gateway's commands and the lab's, each with --help and --version, as deploy/isthmus runs it. */
class IsthmusLabCommandLineTest {
    static List<List<String>> commandPaths(CommandLine c, List<String> path) {
        List<List<String>> all = new ArrayList<>();
        all.add(path);
        c.getSubcommands().forEach((name, sub) -> {
            List<String> p = new ArrayList<>(path);
            p.add(name);
            all.addAll(commandPaths(sub, p));
        });
        return all;
    }

    @Test
    void theLabsCommandsJoinTheGatewaysAndAllTakeHelp() {
        List<List<String>> paths = commandPaths(IsthmusLab.commandLine(false), List.of());
        for (List<String> expected : List.of(List.of("gateway", "run"), List.of("status"), List.of("demo"), List.of("lab", "iperf"),
                List.of("bench"))) {
            assertTrue(paths.contains(expected), expected + " in " + paths);
        }
        for (List<String> path : paths) {
            for (String option : List.of("--help", "--version")) {
                List<String> args = new ArrayList<>(path);
                args.add(option);
                StringWriter out = new StringWriter();
                StringWriter err = new StringWriter();
                CommandLine cmd = IsthmusLab.commandLine(false);
                cmd.setOut(new PrintWriter(out, true));
                cmd.setErr(new PrintWriter(err, true));
                assertEquals(0, cmd.execute(args.toArray(String[]::new)), args + ": " + err);
                assertTrue(out.toString().startsWith(option.equals("--help") ? "Usage: isthmus" : "isthmus "), args + ": " + out);
            }
        }
    }
}
