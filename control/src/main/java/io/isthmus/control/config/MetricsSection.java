package io.isthmus.control.config;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.Iterator;

/**
 * The {@code metrics:} section (an Isthmus addition to Azure's model): where Prometheus scrapes
 * the gateway.
 *
 * <pre>
 * metrics:
 *   listen: 127.0.0.1:9850   # the default; '[::1]:9850' for IPv6 (quoted: YAML reads [..] as a list); off to serve nothing
 * </pre>
 *
 * Loopback by default: the metrics name the connections and peers, which is nobody else's
 * business unless the operator says so (a Prometheus on another machine, through an address
 * of the management network).
 */
final class MetricsSection {
    private static final String FIELD = "metrics";
    static final InetSocketAddress DEFAULT_LISTEN = new InetSocketAddress(InetAddress.getLoopbackAddress(), GatewayConfig.Metrics.DEFAULT_PORT);

    private MetricsSection() {
    }

    static GatewayConfig.Metrics read(Path file, JsonNode n) {
        if (n == null || n.isNull()) {
            return new GatewayConfig.Metrics(DEFAULT_LISTEN);
        }
        if (!n.isObject()) {
            throw new ConfigException(file, FIELD, "expected a mapping with listen, such as listen: 127.0.0.1:9850");
        }
        for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
            String name = it.next();
            if (!name.equals("listen")) {
                throw new ConfigException(file, FIELD + "." + name, "unknown field; allowed here: listen");
            }
        }
        return new GatewayConfig.Metrics(listen(file, n.get("listen")));
    }

    /** ADDRESS:PORT, [IPv6]:PORT, or off (YAML reads a bare off as false). */
    static InetSocketAddress listen(Path file, JsonNode n) {
        String where = FIELD + ".listen";
        if (n == null || n.isNull()) {
            return DEFAULT_LISTEN;
        }
        if (n.isBoolean() && !n.booleanValue() || n.isTextual() && n.asText().strip().equalsIgnoreCase("off")) {
            return null;
        }
        if (!n.isTextual()) {
            throw new ConfigException(file, where, "expected ADDRESS:PORT (127.0.0.1:9850, or '[::1]:9850' quoted) or off");
        }
        String text = n.asText().strip();
        int colon = text.lastIndexOf(':');
        String host = colon < 0 ? "" : text.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        } else if (host.contains(":")) {
            throw new ConfigException(file, where, "'" + text + "': an IPv6 address goes in brackets, quoted, as '[::1]:9850'");
        }
        int port;
        try {
            port = colon < 0 ? -1 : Integer.parseInt(text.substring(colon + 1));
        } catch (NumberFormatException e) {
            port = -1;
        }
        if (port < 1 || port > 65535) {
            throw new ConfigException(file, where, "'" + text + "' has no port from 1 to 65535; expected ADDRESS:PORT such as 127.0.0.1:9850");
        }
        InetAddress address;
        try {
            address = InetAddress.ofLiteral(host);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(file, where, "'" + host + "' is not an IP address (a name would depend on DNS at start)");
        }
        return new InetSocketAddress(address, port);
    }
}
