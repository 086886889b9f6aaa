package io.isthmus.ike;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.spi.ToolProvider;
import org.junit.jupiter.api.Test;

/**
 * The packages of ike depend on each other one way only, each on the ones below it:
 *
 * <pre>
 *   message  <-  crypto  <-  io.isthmus.ike  <-  exchange  <-  engine
 *   codec        keys, SK    the SA record,      one class     IkeEngine: the SA
 *                protection  its window, the     per exchange  table, cookies,
 *                            configuration                     half-open SAs
 * </pre>
 *
 * Read from the compiled classes with jdeps, so a fully qualified name in code counts as much as
 * an import (and a javadoc link does not).
 */
class LayeringTest {
    static final String ROOT = "io.isthmus.ike";
    static final Map<String, Set<String>> ALLOWED = Map.of(
            "message", Set.of(),
            "crypto", Set.of("message"),
            "", Set.of("message", "crypto"),
            "exchange", Set.of("", "message", "crypto"),
            "engine", Set.of("", "message", "crypto", "exchange"));

    @Test
    void eachPackageDependsOnlyOnTheOnesBelowIt() {
        Path classes = Path.of("target/classes");
        assertTrue(Files.isDirectory(classes), "compiled classes in " + classes.toAbsolutePath());
        ToolProvider jdeps = ToolProvider.findFirst("jdeps").orElseThrow();
        StringWriter out = new StringWriter();
        int rc = jdeps.run(new PrintWriter(out), new PrintWriter(out), "-verbose:package", "-filter:none", classes.toString());
        assertEquals(0, rc, out.toString());
        Pattern edge = Pattern.compile("^\\s+(" + Pattern.quote(ROOT) + "\\S*)\\s+->\\s+(" + Pattern.quote(ROOT) + "\\S*)", Pattern.MULTILINE);
        Set<String> wrong = new TreeSet<>();
        int edges = 0;
        for (Matcher m = edge.matcher(out.toString()); m.find(); ) {
            String from = layer(m.group(1));
            String to = layer(m.group(2));
            edges++;
            if (!from.equals(to) && !ALLOWED.getOrDefault(from, Set.of()).contains(to)) {
                wrong.add(m.group(1) + " -> " + m.group(2));
            }
        }
        assertTrue(edges > 5, "jdeps listed the packages' dependencies:\n" + out);
        assertTrue(wrong.isEmpty(), "dependencies against the layering: " + wrong);
    }

    private static String layer(String pkg) {
        return pkg.equals(ROOT) ? "" : pkg.substring(ROOT.length() + 1);
    }
}
