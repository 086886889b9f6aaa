package io.isthmus.control;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Path;

/** A running gateway seen from outside, through its control socket: what {@code isthmus status}, the lab and the demo read. */
public final class GatewayClient {
    private GatewayClient() {
    }

    /** The gateway's status as JSON ({@link GatewayStatus}'s fields). */
    public static JsonNode status(Path controlSocket) throws IOException {
        ApiClient.Response r = ApiClient.get(controlSocket, "/v1/status");
        if (r.error() != null) {
            throw new IOException("the gateway at " + controlSocket + " answered: " + r.error());
        }
        return r.json();
    }

    /** {@code POST /v1/PATH} (e.g. {@code connections/to-hq/rekey?sa=child}); the answer as JSON, its HTTP status in "httpStatus". */
    public static JsonNode post(Path controlSocket, String path) throws IOException {
        ApiClient.Response r = ApiClient.post(controlSocket, "/v1/" + path, ApiClient.TIMEOUT);
        var tree = (com.fasterxml.jackson.databind.node.ObjectNode) r.json();
        tree.put("httpStatus", r.status());
        return tree;
    }

    /** The event stream (of one connection, or all if null), a line at a time, until the gateway closes it or the thread is interrupted. */
    public static void follow(Path controlSocket, String connection, java.util.function.Consumer<String> lines) throws IOException {
        ApiClient.follow(controlSocket, "/v1/events" + (connection == null ? "" : "?connection=" + ApiClient.segment(connection)), lines);
    }

    /** The running capture and the last one ({@code GET /v1/captures}). */
    public static JsonNode captures(Path controlSocket) throws IOException {
        return ApiClient.get(controlSocket, "/v1/captures").json();
    }

    /** {@code POST /v1/captures} with this filter (see the README's capture section); the answer, an "error" if refused. */
    public static JsonNode startCapture(Path controlSocket, String filterJson) throws IOException {
        return ApiClient.call(controlSocket, io.netty.handler.codec.http.HttpMethod.POST, "/v1/captures", filterJson, ApiClient.TIMEOUT).json();
    }

    /** An answer's body as JSON. */
    public static JsonNode parse(String json) throws IOException {
        return ControlSocket.JSON.readTree(json);
    }

    /** The status as an engineer who knows swanctl reads it. */
    public static String render(JsonNode status) {
        return StatusCommand.render(status);
    }
}
