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
        return ControlSocket.JSON.readTree(ControlSocket.ask(controlSocket, "status"));
    }

    /** The status as an engineer who knows swanctl reads it. */
    public static String render(JsonNode status) {
        return StatusCommand.render(status);
    }
}
