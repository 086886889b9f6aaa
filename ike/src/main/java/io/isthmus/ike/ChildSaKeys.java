package io.isthmus.ike;

import io.isthmus.esp.SaParameters;

/**
 * A new child SA's keys, both directions, on their one trip from IKE to whoever builds the ESP
 * SAs (the data plane): an install ticket its consumer uses once and wipes with
 * {@link #destroy()}. IKE keeps none of them; what it and status keep of the SA is its
 * key-free {@link ChildSaDescription}.
 */
public record ChildSaKeys(SaParameters inbound, SaParameters outbound) {
    /** Zeroes both directions' keys. */
    public void destroy() {
        inbound.destroy();
        outbound.destroy();
    }

    @Override
    public String toString() {
        return "keys of SPIs " + Integer.toHexString(inbound.spi()) + "_i " + Integer.toHexString(outbound.spi()) + "_o";
    }
}
