package io.isthmus.esp;

/**
 * The owner of an SA (in the gateway, the daemon that asks IKE to rekey). Called on a packet
 * thread, at most once per SA and event: it must return at once, typically by queueing the event.
 */
@FunctionalInterface
public interface SaListener {
    SaListener NONE = (sa, event) -> { };

    void onEvent(SecurityAssociation sa, SaEvent event);
}
