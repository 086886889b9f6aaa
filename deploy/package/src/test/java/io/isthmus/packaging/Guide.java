package io.isthmus.packaging;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** deploy/TWO-MACHINES.md, the two-machine guide, whose configurations the tests run. */
final class Guide {
    static final Path FILE = PackageUnderTest.SOURCE.resolve("../TWO-MACHINES.md").normalize();

    private Guide() {
    }

    /** The fenced blocks of this language (```yaml ... ```), in order. */
    static List<String> blocks(String language) throws IOException {
        List<String> blocks = new ArrayList<>();
        Matcher m = Pattern.compile("(?ms)^```" + Pattern.quote(language) + "\\s*\\n(.*?)^```\\s*$").matcher(Files.readString(FILE));
        while (m.find()) {
            blocks.add(m.group(1));
        }
        return blocks;
    }

    /** The one block of this language whose first line is this comment (the file it is, and on which machine). */
    static String block(String language, String firstLine) throws IOException {
        List<String> found = blocks(language).stream().filter(b -> b.lines().findFirst().orElse("").strip().equals(firstLine)).toList();
        if (found.size() != 1) {
            throw new AssertionError(FILE + " has " + found.size() + " ```" + language + " blocks starting with '" + firstLine + "', not one");
        }
        return found.getFirst();
    }

    /** The sharedKeyFile paths a configuration names. */
    static List<String> sharedKeyFiles(String yaml) {
        List<String> files = new ArrayList<>();
        Matcher m = Pattern.compile("(?m)^\\s*sharedKeyFile:\\s*(\\S+)").matcher(yaml);
        while (m.find()) {
            files.add(m.group(1));
        }
        return files;
    }

    /** {@code text} with each address replaced, failing if one is not in it (the guide changed, the test must follow). */
    static String readdressed(String text, String... fromTo) {
        String out = text;
        for (int i = 0; i < fromTo.length; i += 2) {
            if (!out.contains(fromTo[i])) {
                throw new AssertionError("'" + fromTo[i] + "' is not in:\n" + text);
            }
            out = out.replace(fromTo[i], fromTo[i + 1]);
        }
        return out;
    }
}
