package io.isthmus.control.config;

import java.nio.file.Path;

/** A configuration the gateway cannot run with: which file, which field, and what is allowed. */
public final class ConfigException extends RuntimeException {
    private final Path file;
    private final String field;

    public ConfigException(Path file, String field, String problem) {
        super((file == null ? "configuration" : file.toString()) + ": " + (field.isEmpty() ? "" : field + ": ") + problem);
        this.file = file;
        this.field = field;
    }

    public Path file() {
        return file;
    }

    public String field() {
        return field;
    }
}
