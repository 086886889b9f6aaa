package io.isthmus.ike;

/**
 * The client's end of EAP in IKE_AUTH (RFC 7296 §2.16), for an initiator that authenticates with
 * EAP instead of AUTH (a road warrior's username and password): it answers the responder's EAP
 * requests and, once the method succeeded, gives the MSK both AUTH payloads are keyed with. The
 * method itself is the implementation's; the engine carries the messages. IKE thread only.
 */
public interface EapPeer {
    /** The answer to the responder's EAP request, or null to give up. */
    byte[] respond(byte[] eapRequest);

    /** After EAP-Success: the Master Session Key (RFC 3748), or null when the method made none. */
    byte[] msk();
}
