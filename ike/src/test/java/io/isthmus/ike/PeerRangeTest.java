package io.isthmus.ike;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.ike.crypto.KeyExchangeMethod;
import io.isthmus.ike.engine.IkeEngine;
import io.isthmus.ike.message.ExchangeType;
import io.isthmus.ike.message.KePayload;
import io.isthmus.ike.message.NotifyType;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A responder's connection whose peers come from a range (strongSwan's {@code remote_addrs =
 * 10.0.0.0/24}), what a load generator of many addresses needs of it; the engine's defences as
 * the configuration sets them (cookies off, the half-open limit); and the initiator's key share
 * reuse the load generator asks for (RFC 7296 §2.12), never on by default.
 */
class PeerRangeTest extends EnginePair {
    static final String IKE = "aes128gcm16-prfsha256-x25519";
    static final InetAddress OUTSIDE = address("10.0.1.5");

    /** B answers any peer of 10.0.0.0/24 proving any identity with the key. */
    Connection rangeAtB(String network, int length) {
        return Connection.builder("range").local(B, null).remoteRange(address(network), length, null).preSharedKey(PSK.clone()).ike(IKE)
                .esp("aes128gcm16").localTs("192.168.20.0/24").remoteTs("192.168.10.0/24").mode(Connection.Mode.RESPONDER_ONLY).build();
    }

    @Test
    void whichAddressesARangeTakes() {
        Connection c = rangeAtB("10.80.0.0", 16);
        assertTrue(c.acceptsPeer(address("10.80.0.1")));
        assertTrue(c.acceptsPeer(address("10.80.255.254")));
        assertFalse(c.acceptsPeer(address("10.81.0.1")));
        assertFalse(c.acceptsPeer(address("fd00::1")), "another family");
        assertFalse(c.hasOnePeer());
        Connection narrow = rangeAtB("10.80.16.0", 20);
        assertTrue(narrow.acceptsPeer(address("10.80.31.7")));
        assertFalse(narrow.acceptsPeer(address("10.80.32.0")));
        assertFalse(narrow.acceptsPeer(address("10.80.15.255")));
        Connection one = connectionA(IKE, "aes128gcm16").build();
        assertTrue(one.hasOnePeer());
        assertTrue(one.acceptsPeer(B));
        assertFalse(one.acceptsPeer(address("10.0.0.3")));
        assertTrue(connectionA(IKE, "aes128gcm16").remote(null, null).mode(Connection.Mode.RESPONDER_ONLY).build().acceptsPeer(OUTSIDE), "null: any");
        assertTrue(c.toString().contains("10.80.0.0/16"), c.toString());
    }

    @Test
    void aRangeOnlyResponds() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Connection.builder("r").local(B, null)
                .remoteRange(address("10.0.0.0"), 24, null).preSharedKey(PSK.clone()).ike(IKE).esp("aes128gcm16").localTs("0.0.0.0/0")
                .remoteTs("0.0.0.0/0").build());
        assertTrue(e.getMessage().contains("responder only"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> rangeAtB("10.0.0.0", 33));
    }

    /*
     *   A 10.0.0.1 (in the range)       B                         C 10.0.1.5 (outside it)
     *   IKE_SA_INIT, IKE_AUTH  -->      IKE SA and child SA
     *                                   <--  IKE_SA_INIT                 (no connection: no answer)
     */
    @Test
    void aPeerFromTheRangeGetsItsSasAndOneOutsideItNoAnswer() {
        engineA.addConnection(connectionA(IKE, "aes128gcm16").remote(B, null).build());
        engineB.addConnection(rangeAtB("10.0.0.0", 24));
        initiate();
        assertOneIkeSaPair();
        assertChildSasPair();
        assertEquals("range", onlyIkeSa(engineB).connection().name());

        IkeEngine engineC = new IkeEngine(network.transport(), clock, new InMemoryChildSaListener());
        network.attach(OUTSIDE, engineC);
        engineC.addConnection(connection(OUTSIDE, B, "192.168.30.0/24", "192.168.20.0/24", IKE, "aes128gcm16").remote(B, null).build());
        int before = network.sent.size();
        engineC.initiate("site", new InetSocketAddress(OUTSIDE, 500), new InetSocketAddress(B, 500));
        deliver();
        assertEquals(1, network.sent.size() - before, "C's IKE_SA_INIT, and nothing back");
        assertEquals(1, engineB.ikeSas().size(), "B made nothing for C");
    }

    /*
     *   A 10.0.0.1 (in the range)     B (one connection: the range)     C 10.0.0.3 (in the range)
     *   IKE_AUTH, INITIAL_CONTACT -->  A's IKE SA                  <--   IKE_AUTH, INITIAL_CONTACT
     *                                  C's IKE SA
     *                                  (C restarts, its SA forgotten there)
     *                                  C's new IKE SA; C's old one   <--  IKE_AUTH, INITIAL_CONTACT
     *                                  dropped, A's kept
     * INITIAL_CONTACT drops the older IKE SAs of the same peer identity, not the connection's:
     * a range's connection holds every device's.
     */
    @Test
    void initialContactFromOneDeviceOfTheRangeDropsItsOwnOldSaAlone() {
        InetAddress cAddress = address("10.0.0.3");
        engineA.addConnection(connectionA(IKE, "aes128gcm16").remote(B, null).build());
        engineB.addConnection(rangeAtB("10.0.0.0", 24));
        initiate();
        IkeSa fromA = onlyIkeSa(engineB);
        IkeEngine engineC = deviceAt(cAddress);
        engineC.initiate("site", new InetSocketAddress(cAddress, 500), new InetSocketAddress(B, 500));
        deliver();
        assertEquals(2, engineB.ikeSas().stream().filter(sa -> sa.state() == IkeSaState.ESTABLISHED).count());
        IkeSa oldFromC = engineB.ikeSas().stream().filter(sa -> sa != fromA).findFirst().orElseThrow();
        assertEquals(Identity.of(cAddress), oldFromC.peerIdentity());

        IkeEngine restarted = deviceAt(cAddress); // nothing of its old IKE SA: it says INITIAL_CONTACT
        restarted.initiate("site", new InetSocketAddress(cAddress, 500), new InetSocketAddress(B, 500));
        deliver();
        List<IkeSa> up = engineB.ikeSas().stream().filter(sa -> sa.state() == IkeSaState.ESTABLISHED).toList();
        assertEquals(2, up.size(), "A's and C's new one: " + up);
        assertTrue(up.contains(fromA), "A's IKE SA kept: another device of the range");
        assertFalse(up.contains(oldFromC), "C's old IKE SA dropped");
        assertEquals(IkeSaState.ESTABLISHED, fromA.state());
    }

    /** An initiator at {@code address} with a connection to B of the range's selectors. */
    private IkeEngine deviceAt(InetAddress address) {
        IkeEngine e = new IkeEngine(network.transport(), clock, new InMemoryChildSaListener());
        network.attach(address, e);
        e.addConnection(connection(address, B, "192.168.10.0/24", "192.168.20.0/24", IKE, "aes128gcm16").remote(B, null).build());
        return e;
    }

    @Test
    void withCookiesOffNoRequestIsAskedForOne() {
        configure(connectionA(IKE, "aes128gcm16").build(), connectionB(IKE, "aes128gcm16").build());
        engineB.cookies(false);
        engineB.cookieRate(1);
        engineB.cookieThreshold(0);
        engineB.halfOpenPerPeer(1000);
        byte[] ke = KeyExchangeMethod.CURVE25519.generate().publicValue();
        for (int i = 0; i < 50; i++) {
            byte[] request = init(0x7000 + i, ke);
            engineB.receive(request, 0, request.length, HostileInputTest.B500, HostileInputTest.A500);
            assertNotEquals(NotifyType.COOKIE, HostileInputTest.notifyOf(network.sent.getLast().bytes()));
        }
        assertEquals(0, engineB.cookiesSent());
        assertEquals(50, engineB.halfOpenSas());

        engineB.cookies(true);
        byte[] request = init(0x7100, ke);
        engineB.receive(request, 0, request.length, HostileInputTest.B500, HostileInputTest.A500);
        assertEquals(NotifyType.COOKIE, HostileInputTest.notifyOf(network.sent.getLast().bytes()), "on again, the thresholds apply");
    }

    /*
     * The table full (3 here): requests while its oldest is younger than 5 s are dropped, not
     * answered (their initiators send them again; the SAs in it are waiting for an IKE_AUTH on
     * its way); once the oldest is that old, it gives way to the next request.
     */
    @Test
    void pastTheHalfOpenLimitTheOldestGivesWayOnceItHadItsTime() {
        configure(connectionA(IKE, "aes128gcm16").build(), connectionB(IKE, "aes128gcm16").build());
        engineB.cookies(false);
        engineB.halfOpenPerPeer(1000);
        engineB.halfOpenLimit(3);
        byte[] ke = KeyExchangeMethod.CURVE25519.generate().publicValue();
        for (int i = 0; i < 7; i++) {
            byte[] request = init(0x7200 + i, ke);
            engineB.receive(request, 0, request.length, HostileInputTest.B500, HostileInputTest.A500);
        }
        assertEquals(3, engineB.halfOpenSas());
        assertEquals(List.of(0x7200L, 0x7201L, 0x7202L), engineB.ikeSas().stream().map(IkeSa::initiatorSpi).sorted().toList(), "the first three");
        assertEquals(4, engineB.initRequestsDroppedFull());
        clock.advance(java.time.Duration.ofSeconds(6));
        byte[] request = init(0x7300, ke);
        engineB.receive(request, 0, request.length, HostileInputTest.B500, HostileInputTest.A500);
        assertEquals(List.of(0x7201L, 0x7202L, 0x7300L), engineB.ikeSas().stream().map(IkeSa::initiatorSpi).sorted().toList(),
                "the oldest gave way, 6 s old");
        assertEquals(3, engineB.halfOpenSas());
        assertThrows(IllegalArgumentException.class, () -> engineB.halfOpenLimit(0));
    }

    /*
     *   A                                      B
     *   IKE_SA_INIT (sent again, the copy late) -->  answered
     *   IKE_AUTH                               -->  up
     *   the late copy of IKE_SA_INIT           -->  (its SA went on to IKE_AUTH: dropped, no new SA, no key pair)
     */
    @Test
    void aLateCopyOfAnIkeSaInitThatWentOnToIkeAuthMakesNoNewSa() {
        configure(connectionA(IKE, "aes128gcm16").build(), connectionB(IKE, "aes128gcm16").build());
        initiate();
        assertOneIkeSaPair();
        byte[] init = network.sent.stream().filter(d -> d.to().getAddress().equals(B) && HostileInputTest.is(d, ExchangeType.IKE_SA_INIT, false))
                .findFirst().orElseThrow().bytes();
        long keyPairs = KeyExchangeMethod.keyPairsGenerated();
        int sent = network.sent.size();
        engineB.receive(init, 0, init.length, HostileInputTest.B500, HostileInputTest.A500);
        assertEquals(sent, network.sent.size(), "not answered");
        assertEquals(keyPairs, KeyExchangeMethod.keyPairsGenerated(), "no key pair made for it");
        assertEquals(0, engineB.halfOpenSas());
        assertEquals(1, engineB.ikeSas().size());
        onlyIkeSa(engineA).delete();
        deliver();
        engineB.receive(init, 0, init.length, HostileInputTest.B500, HostileInputTest.A500);
        assertEquals(1, engineB.halfOpenSas(), "once that SA is gone, the same request is a new one");
    }

    /** Each IKE_SA_INIT of ours has its own key pair, unless reuse is asked for: then one serves that many, and all still work. */
    @Test
    void keySharesAreFreshUnlessReuseIsAskedFor() {
        engineA.addConnection(connectionA(IKE, "aes128gcm16").remote(B, null).build());
        engineB.addConnection(rangeAtB("10.0.0.0", 24));
        for (int i = 0; i < 3; i++) {
            initiate();
        }
        engineA.reuseInitiatorKeyShares(2);
        for (int i = 0; i < 4; i++) {
            initiate();
        }
        List<String> shares = network.sent.stream().filter(d -> d.to().getAddress().equals(B) && HostileInputTest.is(d, ExchangeType.IKE_SA_INIT, false))
                .map(d -> decode(d.bytes()).first(KePayload.class).orElseThrow().data()).map(java.util.HexFormat.of()::formatHex).toList();
        assertEquals(7, shares.size());
        assertEquals(3, shares.subList(0, 3).stream().distinct().count(), "fresh by default");
        assertEquals(shares.get(3), shares.get(4));
        assertEquals(shares.get(5), shares.get(6));
        assertNotEquals(shares.get(4), shares.get(5));
        assertEquals(7, engineA.ikeSas().stream().filter(sa -> sa.state() == IkeSaState.ESTABLISHED).count());
        assertEquals(7, childrenA.current().size());
        assertThrows(IllegalArgumentException.class, () -> engineA.reuseInitiatorKeyShares(0));
    }

    /** An IKE_SA_INIT request from A with this SPI and Curve25519 value, offering {@link #IKE}. */
    private static byte[] init(long spi, byte[] ke) {
        List<io.isthmus.ike.message.Payload> payloads = List.of(
                new io.isthmus.ike.message.SaPayload(List.of(IkeProposal.parse(IKE).toProposal(1, new byte[0]))),
                new KePayload(KeyExchangeMethod.CURVE25519.ianaId(), ke), new io.isthmus.ike.message.NoncePayload(new byte[32]));
        return io.isthmus.ike.message.IkeMessage.encode(new io.isthmus.ike.message.IkeHeader(spi, 0, 0, 2, 0, ExchangeType.IKE_SA_INIT,
                io.isthmus.ike.message.IkeHeader.FLAG_INITIATOR, 0, 0), payloads);
    }
}
