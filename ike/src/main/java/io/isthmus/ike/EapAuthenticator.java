package io.isthmus.ike;

import java.net.InetAddress;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * Who decides an EAP client's fate (RFC 7296 §2.16), outside the engine: the gateway relays the
 * EAP messages and runs no method itself (the RADIUS server does, RFC 3579). The seam follows
 * {@link ChildSaListener}: ike defines it, control implements it, ike never imports control.
 *
 * <p>Contract: every call returns at once; the step completes later on the implementation's
 * thread (a RADIUS round trip), and the engine moves it onto its own thread (its
 * {@link Scheduler}) before touching the IKE SA. The engine keeps one conversation per IKE SA,
 * makes at most one call on it at a time, and closes it however the IKE SA ends.
 */
public interface EapAuthenticator {
    /** A conversation for the client that claimed {@code identity} (IDi's data: its EAP identity, as eap-radius uses it). */
    Conversation begin(byte[] identity);

    interface Conversation extends AutoCloseable {
        /** The first step, from the client's identity alone. */
        CompletionStage<Step> start();

        /** The next step, after the client's EAP message (from its IKE_AUTH request's EAP payload). */
        CompletionStage<Step> respond(byte[] eapMessage);

        /** The IKE SA is gone or the conversation ended: nothing more will be asked. */
        @Override
        void close();
    }

    /** What to send the client next. */
    sealed interface Step {
    }

    /** Another EAP request for the client, in an IKE_AUTH response's EAP payload. */
    record Request(byte[] eapMessage) implements Step {
    }

    /**
     * The client authenticated: the EAP-Success to send, the MSK for both AUTH payloads, and an
     * address the server chose for it (RADIUS Framed-IP-Address), which wins over the pool.
     */
    record Success(byte[] eapMessage, byte[] msk, Optional<InetAddress> address) implements Step {
        @Override
        public String toString() {
            return "Success[msk " + msk.length + " bytes, address " + address.map(InetAddress::getHostAddress).orElse("-") + "]";
        }
    }

    /**
     * Refused: the EAP-Failure to send when there is one (empty when no server answered), and why,
     * for the log and the event; {@code unreachable} when no server answered at all.
     */
    record Failure(Optional<byte[]> eapMessage, String why, boolean unreachable) implements Step {
    }
}
