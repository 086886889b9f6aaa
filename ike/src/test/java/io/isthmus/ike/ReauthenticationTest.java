package io.isthmus.ike;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.ike.message.ExchangeType;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A connection whose key changed in a reload is reauthenticated at its next IKE rekey (RFC 7296
 * §2.8.3), make-before-break: a new IKE SA with IKE_AUTH and its child SA, then the old one
 * deleted. A has the earlier rekey timer (no jitter, a longer margin), so A starts it.
 */
class ReauthenticationTest extends EnginePair {
    static final byte[] NEW_KEY = "another shared secret, also long enough".getBytes(StandardCharsets.US_ASCII);
    /** A rekeys its IKE SAs 3300 s after they are made, B 3500 s; child SAs are not rekeyed in these runs. */
    static final Connection.Timers TIMERS_A = timers(300);
    static final Connection.Timers TIMERS_B = timers(100);
    static final Duration REKEY_PERIOD = Duration.ofSeconds(3400);

    static Connection.Timers timers(long marginSeconds) {
        Connection.Timers t = Connection.Timers.AZURE;
        return new Connection.Timers(Duration.ofSeconds(3600), Duration.ofSeconds(20_000), t.childLifetimeKilobytes(),
                Duration.ofSeconds(marginSeconds), 0, t.dpdDelay(), t.dpdTimeout(), t.retransmitBase(), t.retransmitTries(), t.natKeepalive());
    }

    static Connection.Builder a(byte[] key, String remote) {
        return Connection.builder("site").local(A, null).remote(B, Identity.of(B)).preSharedKey(key.clone())
                .ike("aes128gcm16-prfsha256-x25519").esp("aes128gcm16").localTs("192.168.10.0/24").remoteTs(remote).timers(TIMERS_A);
    }

    static Connection.Builder b(byte[] key, String local) {
        return Connection.builder("site").local(B, null).remote(A, Identity.of(A)).preSharedKey(key.clone())
                .ike("aes128gcm16-prfsha256-x25519").esp("aes128gcm16").localTs(local).remoteTs("192.168.10.0/24").timers(TIMERS_B);
    }

    final Logger ike = Logger.getLogger("io.isthmus.ike");
    final HostileInputTest.Captured log = new HostileInputTest.Captured();

    @BeforeEach
    void capture() {
        ike.addHandler(log);
    }

    @AfterEach
    void release() {
        ike.removeHandler(log);
    }

    IkeSa establish(Connection atA, Connection atB) {
        configure(atA, atB);
        IkeSa sa = initiate();
        assertEquals(IkeSaState.ESTABLISHED, sa.state());
        assertChildSasPair();
        return sa;
    }

    /** Lets {@code total} pass a second at a time; at every second both ends hold a child SA (make-before-break). */
    void runKeepingTunnel(Duration total) {
        for (long s = 0; s < total.toSeconds(); s++) {
            run(Duration.ofSeconds(1));
            assertFalse(childrenA.current().isEmpty(), "A has no child SA at " + clock.now());
            assertFalse(childrenB.current().isEmpty(), "B has no child SA at " + clock.now());
        }
    }

    /** As a reload does once applied: the replaced configuration's key is wiped. */
    static void wipeReplacedKey(IkeSa sa) {
        ((Authentication.PreSharedKey) sa.authenticatedWith().authentication()).destroy();
    }

    long ikeSaInits() {
        return network.sent.stream().filter(d -> decode(d.bytes()).header().exchangeType() == ExchangeType.IKE_SA_INIT).count();
    }

    boolean warned(String text) {
        return log.records.stream().anyMatch(r -> r.getLevel().intValue() >= Level.WARNING.intValue()
                && new java.util.logging.SimpleFormatter().formatMessage(r).contains(text));
    }

    @Test
    void bothEndsWithTheNewKeyReauthenticateAtTheNextIkeRekeyMakeBeforeBreak() {
        IkeSa old = establish(a(PSK, "192.168.20.0/24").build(), b(PSK, "192.168.20.0/24").build());
        IkeSa oldAtB = onlyIkeSa(engineB);
        engineA.replaceConnection(a(NEW_KEY, "192.168.20.0/24").build());
        engineB.replaceConnection(b(NEW_KEY, "192.168.20.0/24").build());
        deliver();
        wipeReplacedKey(old);
        wipeReplacedKey(oldAtB);
        assertSame(engineA.connection("site").orElseThrow(), old.connection(), "the SA follows the new connection");
        assertNotEquals(old.connection(), old.authenticatedWith(), "but was authenticated with the old one");
        assertTrue(old.credentialsChanged());
        long inits = ikeSaInits();

        runKeepingTunnel(REKEY_PERIOD);

        assertEquals(inits + 2, ikeSaInits(), "one IKE_SA_INIT request and its response: a new IKE SA");
        assertEquals(IkeSaState.DESTROYED, old.state());
        assertEquals(IkeSaState.DESTROYED, oldAtB.state(), "B was told");
        assertOneIkeSaPair();
        IkeSa fresh = onlyIkeSa(engineA);
        assertNotEquals(old.initiatorSpi(), fresh.initiatorSpi());
        assertNotEquals(old.responderSpi(), fresh.responderSpi());
        assertSame(engineA.connection("site").orElseThrow(), fresh.authenticatedWith(), "authenticated with the new key");
        assertSame(engineB.connection("site").orElseThrow(), onlyIkeSa(engineB).authenticatedWith());
        assertFalse(fresh.credentialsChanged());
        assertChildSasPair();
        assertFalse(warned(""), log.messages().toString());

        // Its next rekey is an ordinary one again.
        runKeepingTunnel(REKEY_PERIOD);
        assertEquals(inits + 2, ikeSaInits(), "no further IKE_SA_INIT");
        assertNotNull(fresh.replacement(), "rekeyed with CREATE_CHILD_SA");
        assertOneIkeSaPair();
        assertChildSasPair();
    }

    @Test
    void aPeerWithoutTheNewKeyRefusesItTheOldSaIsRekeyedAndTheNextRekeyTriesAgain() {
        IkeSa old = establish(a(PSK, "192.168.20.0/24").build(), b(PSK, "192.168.20.0/24").build());
        engineA.replaceConnection(a(NEW_KEY, "192.168.20.0/24").build());
        deliver();
        long inits = ikeSaInits();

        runKeepingTunnel(REKEY_PERIOD);

        assertEquals(inits + 2, ikeSaInits(), "A tried a new IKE SA");
        assertTrue(warned("the peer refused the new key"), log.messages().toString());
        assertNotNull(old.replacement(), "the old IKE SA was rekeyed as usual");
        assertOneIkeSaPair();
        assertChildSasPair();
        IkeSa rekeyed = onlyIkeSa(engineA);
        assertSame(old.authenticatedWith(), rekeyed.authenticatedWith(), "a rekey authenticates nothing");
        assertTrue(rekeyed.credentialsChanged());

        // B gets the new key; A's next rekey reauthenticates.
        engineB.replaceConnection(b(NEW_KEY, "192.168.20.0/24").build());
        runKeepingTunnel(REKEY_PERIOD);

        assertEquals(inits + 4, ikeSaInits(), "a second new IKE SA");
        assertEquals(IkeSaState.DESTROYED, rekeyed.state());
        assertOneIkeSaPair();
        assertChildSasPair();
        IkeSa fresh = onlyIkeSa(engineA);
        assertSame(engineA.connection("site").orElseThrow(), fresh.authenticatedWith());
        assertNotEquals(rekeyed.initiatorSpi(), fresh.initiatorSpi());
    }

    @Test
    void anUnchangedKeyIsRekeyedWithCreateChildSaNotReauthenticated() {
        IkeSa old = establish(a(PSK, "192.168.20.0/24").build(), b(PSK, "192.168.20.0/24").build());
        // More proposals, another policy (and a new PSK array with the same bytes, as a reload parses anew).
        engineA.replaceConnection(a(PSK, "192.168.20.0/24").ike("aes256gcm16-prfsha384-ecp384").esp("aes256gcm16").build());
        engineB.replaceConnection(b(PSK, "192.168.20.0/24").ike("aes256gcm16-prfsha384-ecp384").esp("aes256gcm16").build());
        deliver();
        // The reload wipes the replaced configuration's key: that is no changed key.
        wipeReplacedKey(old);
        wipeReplacedKey(onlyIkeSa(engineB));
        assertFalse(old.credentialsChanged());
        long inits = ikeSaInits();

        runKeepingTunnel(REKEY_PERIOD);

        assertEquals(inits, ikeSaInits(), "no new IKE SA");
        assertNotNull(old.replacement(), "rekeyed with CREATE_CHILD_SA");
        assertOneIkeSaPair();
        assertChildSasPair();
    }

    @Test
    void newSelectorsAloneDoNotReauthenticate() {
        IkeSa old = establish(a(PSK, "192.168.20.0/24").build(), b(PSK, "192.168.20.0/24").build());
        engineA.replaceConnection(a(PSK, "192.168.21.0/24").build());
        engineB.replaceConnection(b(PSK, "192.168.21.0/24").build());
        deliver();
        assertFalse(old.credentialsChanged());
        long inits = ikeSaInits();

        runKeepingTunnel(REKEY_PERIOD);

        assertEquals(inits, ikeSaInits(), "no new IKE SA");
        assertNotNull(old.replacement(), "rekeyed with CREATE_CHILD_SA");
        assertOneIkeSaPair();
    }
}
