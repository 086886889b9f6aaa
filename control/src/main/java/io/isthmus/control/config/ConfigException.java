package io.isthmus.control.config;

import java.nio.file.Path;
import java.util.List;

/**
 * A configuration the gateway cannot run with: which file, which field, and what is allowed.
 * Checks that look at the configuration as a whole (such as which prefixes lead into which
 * tunnel) find several problems at once; one exception then lists them all, one per line, so the
 * operator fixes them in one round rather than one start at a time.
 */
public final class ConfigException extends RuntimeException {
    private final Path file;
    private final String field;
    private final List<ConfigException> problems;

    public ConfigException(Path file, String field, String problem) {
        super((file == null ? "configuration" : file.toString()) + ": " + (field.isEmpty() ? "" : field + ": ") + problem);
        this.file = file;
        this.field = field;
        this.problems = List.of(this);
    }

    /** Several problems as one; {@link #file()} and {@link #field()} are the first one's. */
    public ConfigException(List<ConfigException> problems) {
        super(String.join("\n", problems.stream().map(ConfigException::getMessage).toList()));
        if (problems.isEmpty()) {
            throw new IllegalArgumentException("no problems to report");
        }
        this.file = problems.getFirst().file;
        this.field = problems.getFirst().field;
        this.problems = List.copyOf(problems);
    }

    /** Throws one exception listing {@code problems}, if there are any. */
    public static void throwIfAny(List<ConfigException> problems) {
        if (problems.size() == 1) {
            throw problems.getFirst();
        }
        if (!problems.isEmpty()) {
            throw new ConfigException(problems);
        }
    }

    public Path file() {
        return file;
    }

    public String field() {
        return field;
    }

    /** Every problem found: this one alone, or those it lists. */
    public List<ConfigException> problems() {
        return problems;
    }
}
