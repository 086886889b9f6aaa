package io.isthmus.ike;

import java.time.Duration;
import java.time.Instant;

/**
 * An IKE SA's own timers (liveness, rekey, expiry, NAT keepalives) and the rekey and expiry
 * timers of its child SAs, on the engine's thread. What they start is the SA's to do: this only
 * decides when.
 */
final class IkeSaTimers {
    private static final System.Logger LOG = System.getLogger("io.isthmus.ike");

    private final IkeSa sa;
    private Scheduler.Cancellable livenessTimer;
    private Scheduler.Cancellable rekeyTimer;
    private Scheduler.Cancellable expiryTimer;
    private Scheduler.Cancellable keepaliveTimer;
    /** When the rekey and the expiry are due, for status; null once cancelled. */
    private Instant rekeyAt;
    private Instant expiresAt;

    IkeSaTimers(IkeSa sa) {
        this.sa = sa;
    }

    void start() {
        start(Duration.ZERO);
    }

    /** For an SA {@code age} old (adopted): what is left of its lifetime, a rekey at once if it is overdue. */
    void start(Duration age) {
        Connection.Timers t = sa.connection().timers();
        scheduleLiveness();
        Instant now = sa.context().scheduler().now();
        Duration rekey = left(rekeyDelay(t.ikeLifetime()), age);
        Duration expiry = left(t.ikeLifetime(), age);
        rekeyAt = now.plus(rekey);
        expiresAt = now.plus(expiry);
        rekeyTimer = sa.context().scheduler().schedule(rekey, sa::rekey);
        expiryTimer = sa.context().scheduler().schedule(expiry, () -> {
            LOG.log(System.Logger.Level.WARNING, "{0}: IKE SA lifetime over without a rekey", sa);
            sa.delete();
        });
        if (sa.behindNat()) {
            scheduleKeepalive();
        }
    }

    /** The rekey and expiry of {@code child}, {@code age} old; they go to whichever IKE SA owns it by then. */
    void startChild(ChildSa child, Duration age) {
        Connection.Timers t = sa.connection().timers();
        Instant now = sa.context().scheduler().now();
        Duration rekey = left(rekeyDelay(t.childLifetime()), age);
        Duration expiry = left(t.childLifetime(), age);
        child.rekeyAt = now.plus(rekey);
        child.expiresAt = now.plus(expiry);
        child.rekeyTimer = sa.context().scheduler().schedule(rekey, () -> child.owner.children().rekey(child));
        child.expiryTimer = sa.context().scheduler().schedule(expiry, () -> child.owner.children().delete(child, "lifetime expired"));
    }

    private static Duration left(Duration delay, Duration age) {
        Duration d = delay.minus(age);
        return d.isNegative() ? Duration.ZERO : d;
    }

    /** lifetime - margin - a random part of the margin: when a rekey starts. */
    private Duration rekeyDelay(Duration lifetime) {
        Connection.Timers t = sa.connection().timers();
        long marginMillis = t.rekeyMargin().toMillis();
        long jitterMillis = (long) (marginMillis * t.rekeyJitter() * sa.context().randomFraction());
        return lifetime.minusMillis(marginMillis + jitterMillis);
    }

    /** Stops the SA's own timers (not its child SAs'). */
    void cancel() {
        for (Scheduler.Cancellable c : new Scheduler.Cancellable[] {livenessTimer, rekeyTimer, expiryTimer, keepaliveTimer}) {
            if (c != null) {
                c.cancel();
            }
        }
        livenessTimer = rekeyTimer = expiryTimer = keepaliveTimer = null;
        rekeyAt = expiresAt = null;
    }

    /** When the SA's rekey starts, or null if none is due (not up, being replaced). */
    Instant rekeyAt() {
        return rekeyAt;
    }

    /** When the SA is deleted if no rekey replaced it first, or null. */
    Instant expiresAt() {
        return expiresAt;
    }

    private void scheduleKeepalive() {
        keepaliveTimer = sa.context().scheduler().schedule(sa.connection().timers().natKeepalive(), () -> {
            if (sa.isUp()) {
                sa.context().transport().sendNatKeepalive(sa.localAddress(), sa.remoteAddress());
                scheduleKeepalive();
            }
        });
    }

    private void scheduleLiveness() {
        livenessTimer = sa.context().scheduler().schedule(sa.connection().timers().dpdDelay(), this::checkLiveness);
    }

    private void checkLiveness() {
        if (!sa.isUp()) {
            return;
        }
        Duration idle = Duration.between(sa.lastHeard(), sa.context().scheduler().now());
        if (idle.compareTo(sa.connection().timers().dpdDelay()) >= 0 && sa.window().idle()) {
            LOG.log(System.Logger.Level.DEBUG, "{0}: idle {1}s, checking the peer is alive", sa, idle.toSeconds());
            sa.context().exchanges().checkLiveness(sa);
        }
        scheduleLiveness();
    }
}
