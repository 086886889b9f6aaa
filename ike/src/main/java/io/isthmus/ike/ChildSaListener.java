package io.isthmus.ike;

/**
 * The only coupling between IKE and the data plane: child SAs coming and going. Called on the
 * IKE thread; implementations hand the work over and return.
 *
 * <p>A rekey is announced as {@link #installed} of the new SA, while the old one still carries
 * traffic, then {@link #deleted} of the old one once the exchange is over (make-before-break):
 * the data plane moves outbound traffic to the newest SA and keeps accepting inbound packets on
 * the old one until it is deleted.
 */
public interface ChildSaListener {
    void installed(ChildSaDescription sa);

    void deleted(ChildSaDescription sa);
}
