package io.isthmus.ike;

/**
 * One IKE SA's part in a reauthentication, make-before-break (RFC 7296 §2.8.3): on the SA being
 * reauthenticated, the new IKE SA that is to replace it; on that new SA, the one it is to
 * replace. The old SA goes once the new one and its first child SA are up; should the new one
 * fail, the old is rekeyed as usual and its next rekey tries again.
 */
public final class Reauthentication {
    private static final System.Logger LOG = System.getLogger("io.isthmus.ike");

    private final IkeSa sa;
    /** On a new IKE SA made to reauthenticate another: the SA it is to replace. */
    private IkeSa replacing;
    /** On an SA being reauthenticated: the new IKE SA that is to replace it, until it is up or has failed. */
    private IkeSa replacedBy;

    Reauthentication(IkeSa sa) {
        this.sa = sa;
    }

    /** The IKE SA this new one is to replace once up (a reauthentication), until then; null otherwise. */
    public IkeSa replacing() {
        return replacing;
    }

    /** The new IKE SA reauthenticating this one, while it is being made; null otherwise. */
    public IkeSa replacedBy() {
        return replacedBy;
    }

    /**
     * At the SA's rekey, its connection now authenticating otherwise: a new IKE SA to replace it.
     * True when the rekey is not to go on: the new SA is on its way, or the peer made one first.
     */
    boolean start() {
        IkeSa fresh = sa.context().sas().reauthenticate(sa);
        if (fresh != null) {
            replacedBy = fresh;
            fresh.reauthentication().replacing = sa;
            return true;
        }
        // Already replaced by an SA the peer made with the new credentials: it deletes this one.
        return sa.context().sas().hasReauthenticated(sa);
    }

    /** On the new SA: it is up ({@code failure} null) or went; the SA it was to replace hears of it once. */
    void ended(String failure) {
        if (replacing != null) {
            IkeSa old = replacing;
            replacing = null;
            old.reauthentication().endedBy(sa, failure);
        }
    }

    /** The reauthentication ended, the new SA up (this one goes) or failed (this one is rekeyed, and stays). */
    private void endedBy(IkeSa fresh, String failure) {
        IkeSa old = sa.current();
        if (replacedBy == fresh) {
            replacedBy = null;
        }
        if (old != sa && old.reauthentication().replacedBy == fresh) {
            old.reauthentication().replacedBy = null;
        }
        if (failure == null) {
            LOG.log(System.Logger.Level.INFO, "{0}: reauthenticated with the connection''s new credentials as {1}: deleting the old IKE SA",
                    old, fresh);
            old.delete();
        } else if (old.isUp()) {
            LOG.log(System.Logger.Level.WARNING, "{0}: the peer refused the new key or credentials ({1}): this IKE SA keeps running with the "
                    + "old, is rekeyed, and reauthentication is tried again at its next rekey", old, failure);
            if (old == sa && old.state() == IkeSaState.ESTABLISHED) { // (the peer may have rekeyed it meanwhile)
                sa.context().exchanges().rekeyIkeSa(old);
            }
        }
    }
}
