package io.isthmus.control;

/**
 * What a gateway's control socket answers, one method per request line: the running
 * {@link Gateway} in production, a stand-in in tests (which then need no root and no devices).
 */
@FunctionalInterface
interface ControlRequests {
    /** {@code status}: the gateway's status, sent to the client as JSON. */
    Object status() throws Exception;
}
