package io.isthmus.control.config;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.InetAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reading one field of a configuration node, each refusal naming the file and the field's path
 * ("virtualNetworkGateway.instances[1].name"): what {@link ConfigReader} and its sections share.
 */
class ConfigFields {
    final Path file;

    ConfigFields(Path file) {
        this.file = file;
    }

    ConfigException error(String field, String problem) {
        return new ConfigException(file, field, problem);
    }

    void onlyFields(JsonNode node, String path, String... allowed) {
        Set<String> ok = Set.of(allowed);
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String name = it.next();
            if (!ok.contains(name)) {
                throw error(join(path, name), "unknown field; allowed here: " + String.join(", ", allowed));
            }
        }
    }

    static String join(String path, String field) {
        return path.isEmpty() ? field : path + "." + field;
    }

    JsonNode required(JsonNode parent, String path, String field) {
        JsonNode n = parent.get(field);
        if (n == null || n.isNull()) {
            throw error(join(path, field), "required");
        }
        return n;
    }

    String string(JsonNode parent, String path, String field, String fallback) {
        JsonNode n = parent.get(field);
        if (n == null || n.isNull()) {
            if (fallback == null) {
                throw error(join(path, field), "required");
            }
            return fallback;
        }
        if (!n.isTextual() && !n.isNumber() && !n.isBoolean()) {
            throw error(join(path, field), "expected a single value, not " + n.getNodeType().name().toLowerCase());
        }
        String s = n.asText().strip();
        if (s.isEmpty()) {
            throw error(join(path, field), "must not be empty");
        }
        return s;
    }

    int integer(JsonNode parent, String path, String field, int fallback, int min, int max) {
        JsonNode n = parent.get(field);
        if (n == null || n.isNull()) {
            return fallback;
        }
        if (!n.canConvertToLong() || n.asLong() < min || n.asLong() > max) {
            throw error(join(path, field), "'" + n.asText() + "' is not allowed; a whole number from " + min + " to " + max);
        }
        return (int) n.asLong();
    }

    long longValue(JsonNode parent, String path, String field, long fallback, long min, long max) {
        JsonNode n = parent.get(field);
        if (n == null || n.isNull()) {
            return fallback;
        }
        if (!n.canConvertToLong() || n.asLong() < min || n.asLong() > max) {
            throw error(join(path, field), "'" + n.asText() + "' is not allowed; a whole number from " + min + " to " + max);
        }
        return n.asLong();
    }

    boolean bool(JsonNode parent, String path, String field, boolean fallback) {
        JsonNode n = parent.get(field);
        if (n == null || n.isNull()) {
            return fallback;
        }
        if (!n.isBoolean()) {
            throw error(join(path, field), "'" + n.asText() + "' is not allowed; true or false");
        }
        return n.asBoolean();
    }

    /** One of {@code allowed}'s keys (case-insensitive, as Azure accepts them). */
    <T> T choice(JsonNode parent, String path, String field, String fallback, Map<String, T> allowed) {
        String value = string(parent, path, field, fallback);
        for (Map.Entry<String, T> e : allowed.entrySet()) {
            if (e.getKey().equalsIgnoreCase(value)) {
                return e.getValue();
            }
        }
        throw error(join(path, field), "'" + value + "' is not allowed; one of " + String.join(", ", allowed.keySet()));
    }

    InetAddress address(JsonNode parent, String path, String field, boolean required) {
        JsonNode n = parent.get(field);
        if (n == null || n.isNull()) {
            if (required) {
                throw error(join(path, field), "required: an IPv4 or IPv6 address");
            }
            return null;
        }
        try {
            return InetAddress.ofLiteral(n.asText().strip());
        } catch (IllegalArgumentException e) {
            throw error(join(path, field), "'" + n.asText() + "' is not an IPv4 or IPv6 address (names are not resolved)");
        }
    }

    List<String> prefixes(JsonNode parent, String path, String field, boolean required) {
        JsonNode n = parent.get(field);
        String where = join(path, field);
        if (n == null || n.isNull()) {
            if (required) {
                throw error(where, "required: a list of address prefixes such as 192.168.20.0/24");
            }
            return List.of();
        }
        if (!n.isArray() || n.isEmpty()) {
            throw error(where, "expected a list of address prefixes such as [192.168.20.0/24, fd20::/64]");
        }
        List<String> out = new ArrayList<>();
        for (int i = 0; i < n.size(); i++) {
            String text = n.get(i).asText().strip();
            try {
                io.isthmus.dataplane.TunnelTable.route(text, null);
            } catch (IllegalArgumentException e) {
                throw error(where + "[" + i + "]", e.getMessage());
            }
            out.add(text);
        }
        return out;
    }

    List<JsonNode> list(JsonNode parent, String path, String field, int min, int max) {
        JsonNode n = parent.get(field);
        String where = join(path, field);
        if (n == null || n.isNull()) {
            if (min == 0) {
                return List.of();
            }
            throw error(where, "required: a list of " + min + (max > min ? " to " + max : "") + " entries");
        }
        if (!n.isArray() || n.size() < min || n.size() > max) {
            throw error(where, "expected a list of " + min + (max > min ? " to " + max : "") + " entries");
        }
        List<JsonNode> out = new ArrayList<>();
        n.forEach(out::add);
        return out;
    }

}
