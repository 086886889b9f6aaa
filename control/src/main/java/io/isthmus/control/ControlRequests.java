package io.isthmus.control;

import io.isthmus.ike.IkeEvent;

/**
 * What a gateway's management API answers, one method per verb: the running {@link Gateway} in
 * production ({@link GatewayRequests}), a stand-in in tests (which then need no root and no
 * devices; one that only shows a status answers the other verbs with an error). A verb's
 * {@link IllegalArgumentException} is the operator's mistake (an unknown name, a bad word): its
 * message is the answer; {@link NoSuchConnection} is answered 404.
 */
@FunctionalInterface
interface ControlRequests {
    /** The gateway's status, sent to the client as JSON ({@link GatewayStatus}). */
    Object status() throws Exception;

    /** The configuration file read again and the difference applied, or refused; what happened. */
    default Object reload() throws Exception {
        throw new UnsupportedOperationException("this gateway does not reload");
    }

    /** That connection's SAs deleted and made anew; what happened. */
    default Object reset(String connection) throws Exception {
        throw new UnsupportedOperationException("this gateway does not reset connections");
    }

    /** That connection brought up now (and kept up again after a terminate); what happened. */
    default Object initiate(String connection) throws Exception {
        throw new UnsupportedOperationException("this gateway does not initiate connections");
    }

    /** That connection's SAs deleted, and kept down until it is initiated or reset; what happened. */
    default Object terminate(String connection) throws Exception {
        throw new UnsupportedOperationException("this gateway does not terminate connections");
    }

    /** That connection's IKE SA ({@code child} false) or its child SAs rekeyed now; what happened. */
    default Object rekey(String connection, boolean child) throws Exception {
        throw new UnsupportedOperationException("this gateway does not rekey on request");
    }

    /** The point-to-site client {@code client} (its identity or virtual address) disconnected: its IKE SAs deleted; what happened. */
    default Object disconnectClient(String client) throws Exception {
        throw new UnsupportedOperationException("this gateway does not serve point-to-site clients");
    }

    /** This pair instance's groups handed to the partner with their exact numbers; what happened. */
    default Object handover() throws Exception {
        throw new UnsupportedOperationException("this gateway does not hand over");
    }

    /** After a handover, this instance may carry its groups again; what happened. */
    default Object resume() throws Exception {
        throw new UnsupportedOperationException("this gateway does not resume");
    }

    /** A packet capture started with the filter in {@code body} (see {@link CaptureRequest}); its files. */
    default Object captureStart(com.fasterxml.jackson.databind.JsonNode body) throws Exception {
        throw new UnsupportedOperationException("this gateway does not capture");
    }

    /** The running capture stopped; its summary. An IllegalStateException when none runs. */
    default Object captureStop() throws Exception {
        throw new UnsupportedOperationException("this gateway does not capture");
    }

    /** The running capture's progress, and the last one's summary. */
    default Object captureStatus() throws Exception {
        throw new UnsupportedOperationException("this gateway does not capture");
    }

    /** {@code listener} hears every IKE event from now on (the API's event stream); called once, at the socket's start. */
    default void listen(IkeEvent.Listener listener) {
        // a stand-in without events: the stream stays quiet
    }

    /** A connection's name that the gateway does not have: answered 404, with the names it has. */
    final class NoSuchConnection extends IllegalArgumentException {
        NoSuchConnection(String message) {
            super(message);
        }
    }
}
