package io.isthmus.control;

/**
 * What a gateway's control socket answers, one method per request line: the running
 * {@link Gateway} in production ({@link GatewayRequests}), a stand-in in tests (which then need
 * no root and no devices; one that only shows a status answers the other requests with an error).
 */
@FunctionalInterface
interface ControlRequests {
    /** {@code status}: the gateway's status, sent to the client as JSON. */
    Object status() throws Exception;

    /** {@code reload}: the configuration file read again and the difference applied, or refused; what happened. */
    default Object reload() throws Exception {
        throw new UnsupportedOperationException("this control socket does not reload");
    }

    /** {@code reset NAME}: that connection's SAs deleted and made anew; what happened. */
    default Object reset(String connection) throws Exception {
        throw new UnsupportedOperationException("this control socket does not reset connections");
    }

    /** {@code handover}: this pair instance's groups handed to the partner with their exact numbers; what happened. */
    default Object handover() throws Exception {
        throw new UnsupportedOperationException("this control socket does not hand over");
    }

    /** {@code resume}: after a handover, this instance may carry its groups again; what happened. */
    default Object resume() throws Exception {
        throw new UnsupportedOperationException("this control socket does not resume");
    }
}
