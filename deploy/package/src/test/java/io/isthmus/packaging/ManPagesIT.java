package io.isthmus.packaging;

import static io.isthmus.packaging.PackageUnderTest.installedRoot;
import static io.isthmus.packaging.PackageUnderTest.isthmus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The man pages the build made from the command line: one per command, each rendering cleanly and naming every option. */
class ManPagesIT {

    private static Path manDir() throws Exception {
        return installedRoot().resolve("usr/share/man/man1");
    }

    /** A page as plain text 200 wide (no bold, no underline), with groff's warnings on stderr. */
    private static Command render(Path page) throws Exception {
        return Command.run(List.of("sh", "-c", "zcat \"$0\" | groff -man -Tascii -P-cbou -ww -rLL=200n", page.toString()),
                PackageUnderTest.plainEnvironment());
    }

    @Test
    void everyCommandHasAPageAndEveryPageRendersWithoutWarnings() throws Exception {
        List<String> pages;
        try (Stream<Path> files = Files.list(manDir())) {
            pages = files.map(p -> p.getFileName().toString()).sorted().toList();
        }
        // The commands, from isthmus's own help: each one has its page.
        List<String> commands = new ArrayList<>();
        commands.add("isthmus");
        for (String top : commandsListedBy(isthmus("--help").ok().out())) {
            commands.add("isthmus-" + top);
            for (String sub : commandsListedBy(isthmus("help", top).ok().out())) {
                commands.add("isthmus-" + top + "-" + sub);
            }
        }
        for (String c : commands) {
            assertTrue(pages.contains(c + ".1.gz"), c + " has no man page in " + pages);
        }
        for (String page : pages) {
            Command r = render(manDir().resolve(page));
            assertEquals(0, r.exit(), r.toString());
            assertEquals("", r.err(), page + ": groff warns");
            assertTrue(r.out().contains("isthmus " + PackageUnderTest.VERSION), page + " names the package's version at its foot");
        }
    }

    @Test
    void everyOptionOfACommandIsOnItsPage() throws Exception {
        for (String words : List.of("gateway run", "gateway check", "status")) {
            String help = isthmus(Stream.concat(Stream.of("help"), Arrays.stream(words.split(" "))).toArray(String[]::new)).ok().out();
            String page = render(manDir().resolve("isthmus-" + words.replace(' ', '-') + ".1.gz")).ok().out();
            Matcher option = Pattern.compile("--[a-z][a-z-]+").matcher(help);
            int found = 0;
            while (option.find()) {
                found++;
                assertTrue(page.contains(option.group()), "isthmus " + words + " takes " + option.group() + ", its page does not say so");
            }
            assertTrue(found >= 2, "isthmus help " + words + " lists options: " + help);
        }
    }

    @Test
    void isthmus1SaysWhereTheFilesAre() throws Exception {
        String page = render(manDir().resolve("isthmus.1.gz")).ok().out();
        for (String file : List.of("/etc/isthmus/NAME.yaml", "/run/isthmus/NAME.sock", "/lib/systemd/system/isthmus@.service",
                "/usr/lib/sysctl.d/60-isthmus.conf", "/etc/isthmus/credentials/", "EXIT STATUS")) {
            assertTrue(page.contains(file), "isthmus(1) says nothing of " + file);
        }
    }

    /** The subcommand names under "Commands:" in picocli's usage text. */
    static List<String> commandsListedBy(String usage) {
        List<String> names = new ArrayList<>();
        boolean in = false;
        for (String line : usage.split("\n")) {
            if (line.startsWith("Commands:")) {
                in = true;
            } else if (in && line.matches("  [a-z][a-z-]*(\\s.*)?")) {
                names.add(line.strip().split("\\s+")[0]);
            } else if (in && !line.startsWith("   ") && !line.isBlank()) {
                in = false;
            }
        }
        return names;
    }
}
