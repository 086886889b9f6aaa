package io.isthmus.control;

import com.fasterxml.jackson.databind.JsonNode;
import io.isthmus.dataplane.capture.CaptureFilter;
import io.isthmus.dataplane.capture.IpPrefix;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * {@code POST /v1/captures}: its JSON body, read into a {@link CaptureFilter} and whether to
 * export keys. Every field is optional; a wrong one is an IllegalArgumentException naming it.
 *
 * <pre>
 * {"connection": "to-hq", "layers": "both|outer|inner", "direction": "both|ingress|egress",
 *  "sourceSubnets": ["192.168.10.0/24"], "destinationSubnets": [...], "sourcePorts": [5000],
 *  "destinationPorts": [443], "protocols": ["tcp", "icmp", 50], "tcpFlags": ["SYN", "FIN"],
 *  "snapLength": 65535, "maxBytes": 104857600, "durationSeconds": 300, "keys": false}
 * </pre>
 */
record CaptureRequest(CaptureFilter filter, boolean keys) {
    static final Map<String, Integer> PROTOCOLS = Map.of("icmp", 1, "tcp", 6, "udp", 17, "esp", 50, "icmpv6", 58, "sctp", 132, "gre", 47);
    static final Map<String, Integer> TCP_FLAGS = Map.of("FIN", 1, "SYN", 2, "RST", 4, "PSH", 8, "ACK", 16, "URG", 32, "ECE", 64, "CWR", 128);
    private static final Set<String> FIELDS = Set.of("connection", "layers", "direction", "sourceSubnets", "destinationSubnets", "sourcePorts",
            "destinationPorts", "protocols", "tcpFlags", "snapLength", "maxBytes", "durationSeconds", "keys");

    static CaptureRequest parse(JsonNode body) {
        if (body == null || body.isNull() || body.isMissingNode()) {
            return new CaptureRequest(CaptureFilter.everything(), false);
        }
        if (!body.isObject()) {
            throw new IllegalArgumentException("the body is a JSON object of the capture's filters, such as {\"connection\": \"to-hq\"}");
        }
        for (Iterator<String> it = body.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!FIELDS.contains(f)) {
                throw new IllegalArgumentException("unknown field '" + f + "'; the fields are " + String.join(", ", new java.util.TreeSet<>(FIELDS)));
            }
        }
        String connection = text(body, "connection", null);
        CaptureFilter.Layers layers = word(body, "layers", CaptureFilter.Layers.class, CaptureFilter.Layers.BOTH);
        CaptureFilter.Direction direction = word(body, "direction", CaptureFilter.Direction.class, CaptureFilter.Direction.BOTH);
        List<IpPrefix> sources = prefixes(body, "sourceSubnets");
        List<IpPrefix> destinations = prefixes(body, "destinationSubnets");
        Set<Integer> sourcePorts = numbers(body, "sourcePorts", Map.of());
        Set<Integer> destinationPorts = numbers(body, "destinationPorts", Map.of());
        Set<Integer> protocols = numbers(body, "protocols", PROTOCOLS);
        int flags = 0;
        for (int f : numbers(body, "tcpFlags", TCP_FLAGS)) {
            flags |= f;
        }
        int snap = (int) number(body, "snapLength", CaptureFilter.DEFAULT_SNAP_LENGTH);
        long maxBytes = number(body, "maxBytes", CaptureFilter.DEFAULT_MAX_BYTES);
        long seconds = number(body, "durationSeconds", CaptureFilter.DEFAULT_DURATION.toSeconds());
        JsonNode keys = body.get("keys");
        if (keys != null && !keys.isBoolean()) {
            throw new IllegalArgumentException("keys: true or false");
        }
        return new CaptureRequest(new CaptureFilter(connection, layers, direction, sources, destinations, sourcePorts, destinationPorts, protocols,
                flags, snap, maxBytes, Duration.ofSeconds(seconds)), keys != null && keys.booleanValue());
    }

    /** A filter in the request's own terms (what the API answers and logs): only what differs from capturing everything. */
    static Map<String, Object> describe(CaptureFilter f) {
        Map<String, Object> m = new java.util.LinkedHashMap<>();
        if (f.connection() != null) {
            m.put("connection", f.connection());
        }
        m.put("layers", f.layers().name().toLowerCase(Locale.ROOT));
        m.put("direction", f.direction().name().toLowerCase(Locale.ROOT));
        putIf(m, "sourceSubnets", f.sources().stream().map(Object::toString).toList());
        putIf(m, "destinationSubnets", f.destinations().stream().map(Object::toString).toList());
        putIf(m, "sourcePorts", new java.util.TreeSet<>(f.sourcePorts()));
        putIf(m, "destinationPorts", new java.util.TreeSet<>(f.destinationPorts()));
        putIf(m, "protocols", new java.util.TreeSet<>(f.protocols()));
        if (f.tcpFlags() != 0) {
            m.put("tcpFlags", TCP_FLAGS.entrySet().stream().filter(e -> (f.tcpFlags() & e.getValue()) != 0).map(Map.Entry::getKey).sorted().toList());
        }
        m.put("snapLength", f.snapLength());
        m.put("maxBytes", f.maxBytes());
        m.put("durationSeconds", f.duration().toSeconds());
        return m;
    }

    private static void putIf(Map<String, Object> m, String field, java.util.Collection<?> values) {
        if (!values.isEmpty()) {
            m.put(field, values);
        }
    }

    private static String text(JsonNode body, String field, String otherwise) {
        JsonNode n = body.get(field);
        if (n == null || n.isNull()) {
            return otherwise;
        }
        if (!n.isTextual() || n.asText().isBlank()) {
            throw new IllegalArgumentException(field + ": a name, as a string");
        }
        return n.asText();
    }

    private static <E extends Enum<E>> E word(JsonNode body, String field, Class<E> type, E otherwise) {
        String t = text(body, field, null);
        if (t == null) {
            return otherwise;
        }
        try {
            return Enum.valueOf(type, t.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            List<String> words = new ArrayList<>();
            for (E x : type.getEnumConstants()) {
                words.add(x.name().toLowerCase(Locale.ROOT));
            }
            throw new IllegalArgumentException(field + ": one of " + String.join(", ", words) + ", not '" + t + "'");
        }
    }

    private static List<IpPrefix> prefixes(JsonNode body, String field) {
        List<IpPrefix> out = new ArrayList<>();
        for (JsonNode n : list(body, field)) {
            if (!n.isTextual()) {
                throw new IllegalArgumentException(field + ": prefixes as strings, such as \"192.168.10.0/24\"");
            }
            try {
                out.add(IpPrefix.parse(n.asText()));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(field + ": " + e.getMessage());
            }
        }
        return out;
    }

    /** Numbers, or the words of {@code names} (any case). */
    private static Set<Integer> numbers(JsonNode body, String field, Map<String, Integer> names) {
        Set<Integer> out = new LinkedHashSet<>();
        for (JsonNode n : list(body, field)) {
            if (n.isInt()) {
                out.add(n.asInt());
            } else if (n.isTextual() && names.containsKey(n.asText().toUpperCase(Locale.ROOT))) {
                out.add(names.get(n.asText().toUpperCase(Locale.ROOT)));
            } else if (n.isTextual() && names.containsKey(n.asText().toLowerCase(Locale.ROOT))) {
                out.add(names.get(n.asText().toLowerCase(Locale.ROOT)));
            } else {
                throw new IllegalArgumentException(field + ": numbers" + (names.isEmpty() ? "" : " or " + String.join(", ", new java.util.TreeSet<>(names.keySet())))
                        + ", not " + n);
            }
        }
        return out;
    }

    private static List<JsonNode> list(JsonNode body, String field) {
        JsonNode n = body.get(field);
        if (n == null || n.isNull()) {
            return List.of();
        }
        if (!n.isArray()) {
            throw new IllegalArgumentException(field + ": a list, such as [...]");
        }
        if (n.size() > 64) {
            throw new IllegalArgumentException(field + ": at most 64 entries");
        }
        List<JsonNode> out = new ArrayList<>();
        n.forEach(out::add);
        return out;
    }

    private static long number(JsonNode body, String field, long otherwise) {
        JsonNode n = body.get(field);
        if (n == null || n.isNull()) {
            return otherwise;
        }
        if (!n.canConvertToLong() || !n.isIntegralNumber()) {
            throw new IllegalArgumentException(field + ": a whole number");
        }
        return n.asLong();
    }
}
