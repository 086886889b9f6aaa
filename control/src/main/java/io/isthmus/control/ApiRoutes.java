package io.isthmus.control;

import com.fasterxml.jackson.databind.JsonNode;
import io.isthmus.control.log.LogOutput;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The management API's verbs, version 1: what a method and path ask for, and the answer as a
 * status code and a JSON body. Everything under {@code /v1}; a name in a path is percent-encoded
 * (a connection's name may have spaces). Changes answer {@link Reload.Outcome}: 200 applied, 409
 * refused or busy (nothing changed), 500 applied only partly. Every change is logged with the
 * caller's uid and pid: who reset the tunnel at 3 a.m. is asked the next morning.
 *
 * <pre>
 * GET  /v1/status                        the gateway, its connections and SAs
 * GET  /v1/connections/NAME              one connection
 * POST /v1/connections/NAME/initiate     bring it up now (and keep it up again after terminate)
 * POST /v1/connections/NAME/terminate    delete its SAs, keep it down until initiate or reset
 * POST /v1/connections/NAME/rekey?sa=ike|child
 * POST /v1/connections/NAME/reset        delete its SAs and make them anew
 * GET  /v1/counters                      per connection: Azure's tunnel metrics and drops
 * POST /v1/reload                        the configuration file again
 * GET  /v1/log-level                     PUT /v1/log-level/SUBSYSTEM {"level": "debug"}
 * POST /v1/pair/handover                 POST /v1/pair/resume
 * GET  /v1/events[?connection=NAME]      IKE events as they happen, a JSON object a line
 * POST /v1/captures {filter}             start a packet capture (see CaptureRequest); GET: its progress
 * POST /v1/captures/stop                 stop it
 * </pre>
 */
final class ApiRoutes {
    private static final System.Logger LOG = System.getLogger("io.isthmus.control");
    static final String PREFIX = "/v1";
    static final String EVENTS = PREFIX + "/events";

    /** The answer: an HTTP status and what goes out as JSON. */
    record Answer(int status, Object body) {
        static Answer error(int status, String message) {
            return new Answer(status, Map.of("error", message));
        }
    }

    /** Who asked (SO_PEERCRED), for the log. */
    record Caller(int uid, int pid) {
        @Override
        public String toString() {
            return "uid " + uid + ", pid " + pid;
        }
    }

    private final ControlRequests requests;
    private final LogOutput log;

    ApiRoutes(ControlRequests requests, LogOutput log) {
        this.requests = requests;
        this.log = log;
    }

    /** {@code segments}: the path's parts after /v1, decoded. Never throws: a failure is an answer. */
    Answer answer(String method, List<String> segments, Map<String, List<String>> query, byte[] body, Caller caller) {
        try {
            return route(method, segments, query, body, caller);
        } catch (ControlRequests.NoSuchConnection e) {
            return Answer.error(404, e.getMessage());
        } catch (Unavailable e) {
            return Answer.error(503, e.getMessage());
        } catch (IllegalArgumentException e) {
            return Answer.error(400, e.getMessage());
        } catch (UnsupportedOperationException e) {
            return Answer.error(501, e.getMessage());
        } catch (Exception e) {
            LOG.log(System.Logger.Level.WARNING, "management API: " + method + " /v1/" + String.join("/", segments) + " failed: " + e, e);
            return Answer.error(500, String.join("/", segments) + " failed: " + e.getMessage());
        } catch (Throwable t) {
            // An Error from a handler (a stack overflow, an assertion): the client is told, the server goes on.
            LOG.log(System.Logger.Level.ERROR, "management API: " + method + " /v1/" + String.join("/", segments) + " failed: " + t, t);
            return Answer.error(500, "internal error: " + t.getClass().getName());
        }
    }

    private Answer route(String method, List<String> s, Map<String, List<String>> query, byte[] body, Caller caller) throws Exception {
        String first = s.isEmpty() ? "" : s.getFirst();
        switch (first) {
            case "" -> {
                return only(method, "GET", s, s.size(), () -> new Answer(200, Map.of("version", 1, "verbs", verbs())));
            }
            case "status" -> {
                return only(method, "GET", s, 1, () -> ok(requests.status()));
            }
            case "counters" -> {
                return only(method, "GET", s, 1, () -> new Answer(200, counters()));
            }
            case "reload" -> {
                return only(method, "POST", s, 1, () -> change("reload", caller, requests::reload));
            }
            case "log-level" -> {
                if (s.size() == 1) {
                    return only(method, "GET", s, 1, () -> new Answer(200, LogLevelRequest.all(log)));
                }
                return only(method, "PUT", s, 2, () -> {
                    LOG.log(System.Logger.Level.DEBUG, "log level of {0} asked by {1}", s.get(1), caller);
                    return new Answer(200, LogLevelRequest.set(s.get(1), field(body, "level"), log));
                });
            }
            case "pair" -> {
                if (s.size() == 2 && s.get(1).equals("handover")) {
                    return only(method, "POST", s, 2, () -> change("pair handover", caller, requests::handover));
                }
                if (s.size() == 2 && s.get(1).equals("resume")) {
                    return only(method, "POST", s, 2, () -> change("pair resume", caller, requests::resume));
                }
                return notFound(s);
            }
            case "connections" -> {
                return connections(method, s, query, caller);
            }
            case "p2s" -> {
                if (s.size() == 4 && s.get(1).equals("clients") && s.get(3).equals("disconnect") && !s.get(2).isBlank()) {
                    return only(method, "POST", s, 4, () -> change("p2s disconnect " + s.get(2), caller, () -> requests.disconnectClient(s.get(2))));
                }
                return notFound(s);
            }
            case "captures" -> {
                return captures(method, s, body, caller);
            }
            default -> {
                return notFound(s);
            }
        }
    }

    private Answer connections(String method, List<String> s, Map<String, List<String>> query, Caller caller) throws Exception {
        if (s.size() == 1) {
            return only(method, "GET", s, 1, () -> new Answer(200, connectionsOf(status())));
        }
        String name = s.get(1);
        if (name.isBlank()) {
            throw new IllegalArgumentException("a connection's name is not blank");
        }
        if (s.size() == 2) {
            return only(method, "GET", s, 2, () -> new Answer(200, connection(status(), name)));
        }
        String verb = s.get(2);
        String what = "connection " + verb + " " + name;
        return switch (verb) {
            case "initiate" -> only(method, "POST", s, 3, () -> change(what, caller, () -> requests.initiate(name)));
            case "terminate" -> only(method, "POST", s, 3, () -> change(what, caller, () -> requests.terminate(name)));
            case "reset" -> only(method, "POST", s, 3, () -> change(what, caller, () -> requests.reset(name)));
            case "rekey" -> only(method, "POST", s, 3, () -> {
                String sa = query.getOrDefault("sa", List.of("ike")).getFirst();
                if (!sa.equals("ike") && !sa.equals("child")) {
                    throw new IllegalArgumentException("rekey ?sa=ike or ?sa=child, not '" + sa + "'");
                }
                return change(what + " (" + sa + " SA)", caller, () -> requests.rekey(name, sa.equals("child")));
            });
            default -> notFound(s);
        };
    }

    private Answer captures(String method, List<String> s, byte[] body, Caller caller) throws Exception {
        try {
            if (s.size() == 1 && method.equals("GET")) {
                return ok(requests.captureStatus());
            }
            if (s.size() == 1) {
                return only(method, "POST", s, 1, () -> {
                    JsonNode filter = body.length == 0 ? null : json(body);
                    LOG.log(System.Logger.Level.INFO, "capture: asked through the management API by {0}: {1}", caller,
                            filter == null ? "{}" : filter.toString());
                    return ok(requests.captureStart(filter));
                });
            }
            if (s.size() == 2 && s.get(1).equals("stop")) {
                return only(method, "POST", s, 2, () -> {
                    LOG.log(System.Logger.Level.INFO, "capture stop: asked through the management API by {0}", caller);
                    return ok(requests.captureStop());
                });
            }
            return notFound(s);
        } catch (IllegalStateException e) {
            // One runs already, or none runs to stop: the operator's timing, not the gateway's failure.
            return Answer.error(409, e.getMessage());
        }
    }

    /** 200, or 503 for the gateway's own "error" (it is still starting). */
    private static Answer ok(Object body) {
        return new Answer(body instanceof Map<?, ?> m && m.containsKey("error") ? 503 : 200, body);
    }

    /** The gateway cannot answer yet (it is starting): 503, try again. */
    static final class Unavailable extends RuntimeException {
        Unavailable(String message) {
            super(message);
        }
    }

    /** A change: logged with who asked, answered with its outcome's status. */
    private static Answer change(String what, Caller caller, java.util.concurrent.Callable<Object> change) throws Exception {
        LOG.log(System.Logger.Level.INFO, "{0}: asked through the management API by {1}", what, caller);
        Object outcome = change.call();
        if (outcome instanceof Reload.Outcome o) {
            int status = switch (o.result()) {
                case APPLIED -> 200;
                case REFUSED, BUSY -> 409;
                case PARTLY_APPLIED -> 500;
            };
            return new Answer(status, o);
        }
        return new Answer(outcome instanceof Map<?, ?> m && m.containsKey("error") ? 503 : 200, outcome);
    }

    private JsonNode status() throws Exception {
        JsonNode st = ControlSocket.JSON.valueToTree(requests.status());
        if (st.has("error")) {
            throw new Unavailable(st.path("error").asText());
        }
        return st;
    }

    private static JsonNode connectionsOf(JsonNode status) {
        return status.path("connections");
    }

    private static JsonNode connection(JsonNode status, String name) {
        List<String> names = new ArrayList<>();
        for (JsonNode c : status.path("connections")) {
            if (c.path("name").asText().equals(name)) {
                return c;
            }
            names.add(c.path("name").asText());
        }
        throw new ControlRequests.NoSuchConnection("no connection '" + name + "'; this gateway has: " + String.join(", ", names));
    }

    /** Per connection, Azure's tunnel metrics and the drops by reason (the same numbers /metrics serves). */
    private Map<String, Object> counters() throws Exception {
        JsonNode st = status();
        Map<String, Object> out = new LinkedHashMap<>();
        for (JsonNode c : st.path("connections")) {
            Map<String, Object> one = new LinkedHashMap<>();
            one.put("status", c.path("status").asText());
            one.put("metrics", c.path("metrics"));
            one.put("drops", c.path("drops"));
            out.put(c.path("name").asText(), one);
        }
        Map<String, Object> answer = new LinkedHashMap<>();
        answer.put("connections", out);
        answer.put("unattributedDrops", st.path("unattributedDrops"));
        return answer;
    }

    private static JsonNode json(byte[] body) {
        try {
            return ControlSocket.JSON.readTree(body);
        } catch (IOException e) {
            throw new IllegalArgumentException("the body is not JSON: " + e.getMessage().lines().findFirst().orElse(""));
        }
    }

    private static String field(byte[] body, String name) {
        if (body.length == 0) {
            throw new IllegalArgumentException("a JSON body is needed: {\"" + name + "\": ...}");
        }
        JsonNode tree = json(body);
        JsonNode v = tree == null ? null : tree.get(name);
        if (v == null || !v.isTextual()) {
            throw new IllegalArgumentException("the body needs \"" + name + "\" as a string, e.g. {\"" + name + "\": \"debug\"}");
        }
        return v.asText();
    }

    private interface Verb {
        Answer run() throws Exception;
    }

    /** {@code verb} if the method is {@code allowed} and the path has exactly {@code length} parts. */
    private static Answer only(String method, String allowed, List<String> s, int length, Verb verb) throws Exception {
        if (s.size() != length) {
            return notFound(s);
        }
        if (!method.equals(allowed)) {
            return Answer.error(405, method + " /v1/" + String.join("/", s) + ": only " + allowed);
        }
        return verb.run();
    }

    private static Answer notFound(List<String> s) {
        return Answer.error(404, "no /v1/" + String.join("/", s) + "; GET /v1 lists the verbs");
    }

    static List<String> verbs() {
        return List.of("GET /v1/status", "GET /v1/connections", "GET /v1/connections/NAME", "POST /v1/connections/NAME/initiate",
                "POST /v1/connections/NAME/terminate", "POST /v1/connections/NAME/rekey?sa=ike|child", "POST /v1/connections/NAME/reset",
                "GET /v1/counters", "POST /v1/reload", "GET /v1/log-level", "PUT /v1/log-level/SUBSYSTEM {\"level\": LEVEL}",
                "POST /v1/pair/handover", "POST /v1/pair/resume", "POST /v1/p2s/clients/CLIENT/disconnect", "GET /v1/events[?connection=NAME]", "GET /v1/captures", "POST /v1/captures {filter}",
                "POST /v1/captures/stop");
    }
}
