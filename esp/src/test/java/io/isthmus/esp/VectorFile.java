package io.isthmus.esp;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the test-vector files of the test-vectors module: {@code #} comments, {@code [name]}
 * sections, {@code field = value} lines, and indented lines that continue the previous value.
 * A value is hex (spaces ignored) or {@code "ASCII text"}.
 */
public record VectorFile(String path, List<Case> cases) {

    public record Case(String file, String name, Map<String, String> fields) {
        public String string(String field) {
            String v = fields.get(field);
            if (v == null) {
                throw new IllegalArgumentException(file + " [" + name + "]: no field " + field);
            }
            return v;
        }

        public boolean has(String field) {
            return fields.containsKey(field);
        }

        /** Hex or quoted ASCII. */
        public byte[] bytes(String field) {
            String v = string(field);
            if (v.startsWith("\"")) {
                return v.substring(1, v.length() - 1).getBytes(StandardCharsets.US_ASCII);
            }
            return HexFormat.of().parseHex(v.replace(" ", ""));
        }

        public long hexLong(String field) {
            return Long.parseUnsignedLong(string(field).replace(" ", ""), 16);
        }

        public int integer(String field) {
            return Integer.parseInt(string(field));
        }

        @Override
        public String toString() {
            return file + " [" + name + "]";
        }
    }

    public static VectorFile load(String resource) {
        InputStream in = VectorFile.class.getClassLoader().getResourceAsStream(resource);
        if (in == null) {
            throw new IllegalArgumentException("no test vector file " + resource + " on the classpath");
        }
        String file = resource.substring(resource.lastIndexOf('/') + 1);
        List<Case> cases = new ArrayList<>();
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            Map<String, String> fields = null;
            String field = null;
            String line;
            while ((line = reader.readLine()) != null) {
                if (line.isBlank() || line.startsWith("#")) {
                    continue;
                }
                if (line.startsWith("[")) {
                    fields = new LinkedHashMap<>();
                    cases.add(new Case(file, line.substring(1, line.lastIndexOf(']')), fields));
                    field = null;
                } else if (Character.isWhitespace(line.charAt(0))) {
                    if (fields == null || field == null) {
                        throw new IllegalArgumentException(resource + ": continuation line outside a field: " + line);
                    }
                    fields.merge(field, line.strip(), String::concat);
                } else {
                    int eq = line.indexOf('=');
                    if (fields == null || eq < 0) {
                        throw new IllegalArgumentException(resource + ": not a field line: " + line);
                    }
                    field = line.substring(0, eq).strip();
                    fields.put(field, line.substring(eq + 1).strip());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new VectorFile(resource, List.copyOf(cases));
    }
}
