package io.isthmus.control.config;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.Iterator;

/**
 * The {@code control:} section (an Isthmus addition): who besides root and the gateway's own
 * user may use the management API on the control socket.
 *
 * <pre>
 * control:
 *   group: isthmus-ops   # its members may run isthmus status, monitor, connection ...
 * </pre>
 *
 * Whether the group exists is checked when the socket is bound (it is the machine's, not the file's).
 */
final class ControlSection {
    private static final String FIELD = "control";

    private ControlSection() {
    }

    static GatewayConfig.Control read(Path file, JsonNode n) {
        if (n == null || n.isNull()) {
            return new GatewayConfig.Control(null);
        }
        if (!n.isObject()) {
            throw new ConfigException(file, FIELD, "expected a mapping with group, such as group: isthmus-ops");
        }
        for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
            String name = it.next();
            if (!name.equals("group")) {
                throw new ConfigException(file, FIELD + "." + name, "unknown field; allowed here: group");
            }
        }
        JsonNode g = n.get("group");
        if (g == null || g.isNull()) {
            return new GatewayConfig.Control(null);
        }
        if (!g.isTextual() || !g.asText().matches("[a-z_][a-z0-9_.-]{0,31}\\$?")) {
            throw new ConfigException(file, FIELD + ".group", "expected a group's name, such as isthmus-ops");
        }
        return new GatewayConfig.Control(g.asText());
    }
}
