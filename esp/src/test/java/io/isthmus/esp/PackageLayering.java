package io.isthmus.esp;

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

/**
 * Checks that a module's packages depend on each other only as allowed, read from the compiled
 * classes with jdeps (so a fully qualified name in code counts as much as an import, and a
 * javadoc link does not). For each module's layering test.
 */
public final class PackageLayering {
    private PackageLayering() {
    }

    /**
     * @param root    the module's root package ("io.isthmus.ike"); its own layer is named ""
     * @param allowed for each layer (the package below {@code root}), the layers it may use
     */
    public static void assertLayering(Path classes, String root, Map<String, Set<String>> allowed) {
        assertTrue(Files.isDirectory(classes), "compiled classes in " + classes.toAbsolutePath());
        ToolProvider jdeps = ToolProvider.findFirst("jdeps").orElseThrow();
        StringWriter out = new StringWriter();
        int rc = jdeps.run(new PrintWriter(out), new PrintWriter(out), "-verbose:package", "-filter:none", classes.toString());
        assertEquals(0, rc, out.toString());
        Pattern edge = Pattern.compile("^\\s+(" + Pattern.quote(root) + "\\S*)\\s+->\\s+(" + Pattern.quote(root) + "\\S*)", Pattern.MULTILINE);
        Set<String> wrong = new TreeSet<>();
        int edges = 0;
        for (Matcher m = edge.matcher(out.toString()); m.find(); ) {
            String from = layer(root, m.group(1));
            String to = layer(root, m.group(2));
            edges++;
            if (!from.equals(to) && !allowed.getOrDefault(from, Set.of()).contains(to)) {
                wrong.add(m.group(1) + " -> " + m.group(2));
            }
        }
        assertTrue(edges > 2, "jdeps listed the packages' dependencies:\n" + out);
        assertTrue(wrong.isEmpty(), "dependencies against the layering: " + wrong);
    }

    private static String layer(String root, String pkg) {
        return pkg.equals(root) ? "" : pkg.substring(root.length() + 1);
    }
}
