package io.isthmus.ike;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.ike.message.ExchangeType;
import io.isthmus.ike.message.SkfPayload;
import io.isthmus.ike.message.TrafficSelector;
import io.isthmus.ike.remoteaccess.ConfigurationReply;
import io.isthmus.ike.remoteaccess.RemoteAccess;
import io.isthmus.ike.remoteaccess.RevokedCertificates;
import io.isthmus.ike.remoteaccess.VirtualAddressPool;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.junit.jupiter.api.Test;

/**
 * EAP in IKE_AUTH relayed by the gateway B (RFC 7296 §2.16) to an {@link EapAuthenticator} (here
 * a server in the test running EAP-MD5-Challenge, RFC 3748 §5.4, with an MSK both ends derive);
 * A is a road warrior of the engine's own that answers EAP with a password and asks for an address.
 *
 * <pre>
 *   A                                                   B
 *   IKE_AUTH SK{IDi CP SA TSi TSr}                 -->      (no AUTH: EAP)
 *                                 <-- SK{IDr CERT AUTH EAP(MD5 challenge)}
 *   IKE_AUTH SK{EAP(response)}                     -->
 *                                 <-- SK{EAP(success)}   or  SK{EAP(failure) N(AUTHENTICATION_FAILED)}
 *   IKE_AUTH SK{AUTH(MSK)}                         -->
 *                                 <-- SK{AUTH(MSK) CP SA TSi TSr}
 * </pre>
 */
class EapRemoteAccessTest extends EnginePair {
    static final String IKE = RemoteAccessTest.IKE;
    VirtualAddressPool pool;
    final TestEapServer server = new TestEapServer("alice@example.net", "correct horse");
    final List<IkeEvent> events = new ArrayList<>();

    EapRemoteAccessTest() {
        engineA.addEventListener(events::add);
        engineB.addEventListener(events::add);
    }

    long nanos() {
        return clock.now().getEpochSecond() * 1_000_000_000L + clock.now().getNano();
    }

    void gateway() {
        gateway(server);
    }

    void gateway(EapAuthenticator eap) {
        pool = new VirtualAddressPool(List.of(address("172.16.201.0")), List.of(24), 10, Duration.ofMinutes(10), this::nanos);
        engineB.addConnection(gatewayConnection(pool, eap, IKE, "aes256gcm16"));
    }

    /** B's point-to-site connection, "p2s": clients from 172.16.201.0/24 ({@code pool}) by EAP through {@code eap}. */
    static Connection gatewayConnection(VirtualAddressPool pool, EapAuthenticator eap, String ike, String esp) {
        RemoteAccess ra = new RemoteAccess(pool, null, List.of(address("10.1.0.53")),
                List.of(new ConfigurationReply.Subnet(address("10.1.0.0"), 16)), new RevokedCertificates(List.of()));
        TestPki.Issued gw = RemoteAccessTest.GW;
        return Connection.builder("p2s").local(B, Identity.parse("gw.example.net")).remote(null, null)
                .authentication(new Authentication.Certificates(gw.privateKey(), List.of(gw.certificate()),
                        List.of(RemoteAccessTest.CLIENT_ROOT.certificate()), false))
                .ike(ike).esp(esp).localTs("10.1.0.0/16").remoteTs("172.16.201.0/24").remoteAccess(ra).eap(eap).build();
    }

    /** A's road warrior: identity {@code id}, answering EAP with {@code peer}; its certificate is never sent (EAP instead of AUTH). */
    IkeSa connect(String id, EapPeer peer) {
        TestPki.Issued unused = RemoteAccessTest.ALICE;
        engineA.addConnection(Connection.builder("rw").local(A, Identity.parse(id)).remote(B, Identity.parse("gw.example.net"))
                .authentication(new Authentication.Certificates(unused.privateKey(), List.of(unused.certificate()),
                        List.of(RemoteAccessTest.GATEWAY_ROOT.certificate()), false))
                .ike(IKE).esp("aes256gcm16").localTs("0.0.0.0/0").remoteTs("10.1.0.0/16").virtualIp(address("0.0.0.0")).eapPeer(peer).build());
        IkeSa sa = engineA.initiate("rw", new InetSocketAddress(A, 500), new InetSocketAddress(B, 500));
        deliver();
        return sa;
    }

    boolean refusedForAuthentication() {
        return events.stream().anyMatch(e -> e.kind() == IkeEvent.Kind.AUTHENTICATION_FAILED && e.connection().equals("p2s"))
                && events.stream().anyMatch(e -> e.kind() == IkeEvent.Kind.AUTHENTICATION_FAILED && e.connection().equals("rw"));
    }

    @Test
    void aClientWithTheRightPasswordGetsAnAddressAndAChildSaBoundToIt() {
        gateway();
        IkeSa sa = connect("alice@example.net", new TestEapPeer("correct horse"));
        assertEquals(IkeSaState.ESTABLISHED, sa.state(), events.toString());
        IkeSa atGateway = onlyIkeSa(engineB);
        assertEquals(IkeSaState.ESTABLISHED, atGateway.state());
        assertEquals(Identity.parse("alice@example.net"), atGateway.peerIdentity());
        assertEquals(List.of(address("172.16.201.1")), sa.virtualAddresses().addresses());
        assertEquals(List.of(TrafficSelector.ofPrefix("172.16.201.1/32")), childrenB.current().getFirst().remoteSelectors());
        assertChildSasPair(1);
        assertEquals(List.of("start", "respond"), server.calls);
        assertTrue(server.closed, "the conversation is closed once EAP is over");
    }

    @Test
    void aWrongPasswordIsRefusedAndThePoolIsUnchanged() {
        gateway();
        IkeSa sa = connect("alice@example.net", new TestEapPeer("wrong"));
        assertEquals(IkeSaState.DESTROYED, sa.state());
        assertTrue(engineB.ikeSas().isEmpty());
        assertTrue(refusedForAuthentication(), events.toString());
        assertEquals(0, pool.held());
        assertTrue(childrenB.current().isEmpty());
        assertTrue(server.closed);
    }

    @Test
    void anUnreachableServerIsRefused() {
        server.unreachable = true;
        gateway();
        IkeSa sa = connect("alice@example.net", new TestEapPeer("correct horse"));
        assertEquals(IkeSaState.DESTROYED, sa.state());
        assertTrue(refusedForAuthentication(), events.toString());
        assertTrue(events.stream().anyMatch(e -> e.detail() != null && e.detail().contains("no RADIUS server answered")), events.toString());
        assertEquals(0, pool.held());
    }

    @Test
    void theServersFramedAddressWinsOverThePool() {
        server.framed = address("172.16.201.77");
        gateway();
        IkeSa sa = connect("alice@example.net", new TestEapPeer("correct horse"));
        assertEquals(List.of(address("172.16.201.77")), sa.virtualAddresses().addresses());
        assertEquals(List.of(TrafficSelector.ofPrefix("172.16.201.77/32")), childrenB.current().getFirst().remoteSelectors());
        assertEquals(1, pool.held(), "held in the pool, which gives it to nobody else");
        assertEquals(address("172.16.201.77"), pool.addressOf("eap:alice@example.net"));
    }

    @Test
    void aFramedAddressOutsideThePoolIsRefused() {
        server.framed = address("10.9.9.9");
        gateway();
        IkeSa sa = connect("alice@example.net", new TestEapPeer("correct horse"));
        assertTrue(sa.virtualAddresses() == null || sa.virtualAddresses().addresses().isEmpty(), "no address: " + sa.virtualAddresses());
        assertTrue(childrenB.current().isEmpty(), "no child SA without an address");
        assertTrue(events.stream().anyMatch(e -> e.detail() != null && e.detail().contains("10.9.9.9 is outside the pool")), events.toString());
        assertEquals(0, pool.held());
    }

    @Test
    void anAuthKeyedWithAnotherMskIsRefused() {
        gateway();
        TestEapPeer forger = new TestEapPeer("correct horse") {
            @Override
            public byte[] msk() {
                byte[] m = super.msk();
                m[0] ^= 1;
                return m;
            }
        };
        IkeSa sa = connect("alice@example.net", forger);
        assertEquals(IkeSaState.DESTROYED, sa.state());
        assertTrue(events.stream().anyMatch(e -> e.detail() != null && e.detail().contains("does not verify with the MSK")), events.toString());
        assertEquals(0, pool.held());
    }

    /** While the server thinks, the client's copies of its request are dropped; the answer comes once, then serves its copies. */
    @Test
    void whileTheServerThinksTheExchangeWaitsAndRetransmissionsAreNotProcessedTwice() {
        server.hold = true;
        gateway();
        IkeSa sa = connect("alice@example.net", new TestEapPeer("correct horse"));
        assertEquals(IkeSaState.CONNECTING, sa.state());
        run(Duration.ofSeconds(12));
        long copies = engineB.counters().get("p2s").messages(IkeCounters.Exchange.IKE_AUTH, IkeCounters.Direction.IN, IkeCounters.Kind.RETRANSMISSION);
        assertTrue(copies >= 1, "the client retransmitted meanwhile: " + copies);
        assertEquals(List.of("start"), server.calls, "asked once, whatever the copies");
        assertEquals(0, engineB.counters().get("p2s").messages(IkeCounters.Exchange.IKE_AUTH, IkeCounters.Direction.OUT, IkeCounters.Kind.RESPONSE));
        server.release();
        deliver();
        assertEquals(IkeSaState.ESTABLISHED, sa.state(), events.toString());
        assertEquals(List.of("start", "respond"), server.calls);
    }

    /**
     * EAP-TLS messages are a few KB when a peer sends its certificate chain in one (FreeRADIUS and
     * strongSwan cut them at about 1 KB by default, but need not): 3,000-byte EAP messages both
     * ways travel in IKE fragments (RFC 7383) and reach the other side whole.
     */
    @Test
    void eapMessagesOfAFewKilobytesTravelInIkeFragmentsBothWays() {
        byte[] msk = pattern(64, 5);
        byte[] request = eap(1, 9, 3000, 13);
        byte[] response = eap(2, 9, 3000, 13);
        for (int i = 5; i < response.length; i++) {
            response[i] ^= 0x5A; // not the request's bytes echoed
        }
        List<byte[]> heard = new ArrayList<>();
        gateway(identity -> new EapAuthenticator.Conversation() {
            @Override
            public CompletionStage<EapAuthenticator.Step> start() {
                return CompletableFuture.completedFuture(new EapAuthenticator.Request(request));
            }

            @Override
            public CompletionStage<EapAuthenticator.Step> respond(byte[] eap) {
                heard.add(eap);
                return CompletableFuture.completedFuture(Arrays.equals(eap, response)
                        ? new EapAuthenticator.Success(new byte[] {3, 9, 0, 4}, msk, Optional.empty())
                        : new EapAuthenticator.Failure(Optional.empty(), "not the response sent", false));
            }

            @Override
            public void close() {
            }
        });
        List<byte[]> clientHeard = new ArrayList<>();
        IkeSa sa = connect("alice@example.net", new EapPeer() {
            @Override
            public byte[] respond(byte[] req) {
                clientHeard.add(req);
                return Arrays.equals(req, request) ? response : null;
            }

            @Override
            public byte[] msk() {
                return msk;
            }
        });
        assertEquals(IkeSaState.ESTABLISHED, sa.state(), events.toString());
        assertTrue(Arrays.equals(request, clientHeard.getFirst()), "the client got the 3,000-byte request whole");
        assertEquals(1, heard.size());
        assertTrue(Arrays.equals(response, heard.getFirst()), "the server got the 3,000-byte response whole");
        var auth = network.sent.stream().map(d -> decode(d.bytes())).filter(m -> m.header().exchangeType() == ExchangeType.IKE_AUTH).toList();
        long fragments = auth.stream().filter(m -> m.payloads().getLast() instanceof SkfPayload).count();
        assertTrue(fragments >= 6, fragments + " of " + auth.size() + " IKE_AUTH datagrams were fragments: 3 KB each way needs at least 3 a message");
        assertTrue(network.sent.stream().allMatch(d -> d.bytes().length <= Connection.DEFAULT_FRAGMENT_SIZE - 28),
                "no datagram above the fragment size");
    }

    /** An EAP packet of {@code length} bytes: code, identifier, length, type, then a pattern that shows order. */
    static byte[] eap(int code, int id, int length, int type) {
        byte[] b = pattern(length, type);
        b[0] = (byte) code;
        b[1] = (byte) id;
        b[2] = (byte) (length >> 8);
        b[3] = (byte) length;
        b[4] = (byte) type;
        return b;
    }

    static byte[] pattern(int n, int seed) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i * 31 + i / 251 + seed);
        }
        return b;
    }

    /** EAP-MD5-Challenge (RFC 3748 §5.4) as a RADIUS server would run it; the MSK is SHA-512(password | challenge), for the test. */
    static final class TestEapServer implements EapAuthenticator {
        final String user;
        final byte[] password;
        final List<String> calls = new ArrayList<>();
        boolean unreachable;
        boolean hold;
        boolean closed;
        InetAddress framed;
        CompletableFuture<Step> held;
        Step heldStep;

        TestEapServer(String user, String password) {
            this.user = user;
            this.password = password.getBytes(StandardCharsets.UTF_8);
        }

        void release() {
            held.complete(heldStep);
        }

        @Override
        public Conversation begin(byte[] identity) {
            byte[] challenge = new byte[16];
            new java.security.SecureRandom().nextBytes(challenge);
            boolean known = new String(identity, StandardCharsets.UTF_8).equals(user);
            return new Conversation() {
                @Override
                public CompletionStage<Step> start() {
                    calls.add("start");
                    if (unreachable) {
                        return CompletableFuture.completedFuture(new Failure(Optional.empty(), "no answer from 10.1.0.10", true));
                    }
                    byte[] req = new byte[6 + 16];
                    req[0] = 1;
                    req[1] = 7;
                    req[3] = (byte) req.length;
                    req[4] = 4;
                    req[5] = 16;
                    System.arraycopy(challenge, 0, req, 6, 16);
                    Step s = new Request(req);
                    if (hold) {
                        held = new CompletableFuture<>();
                        heldStep = s;
                        return held;
                    }
                    return CompletableFuture.completedFuture(s);
                }

                @Override
                public CompletionStage<Step> respond(byte[] eap) {
                    calls.add("respond");
                    byte[] expected = md5((byte) 7, password, challenge);
                    boolean ok = known && eap.length == 6 + 16 && eap[0] == 2 && eap[1] == 7 && eap[4] == 4
                            && MessageDigest.isEqual(Arrays.copyOfRange(eap, 6, 22), expected);
                    if (!ok) {
                        return CompletableFuture.completedFuture(new Failure(Optional.of(new byte[] {4, 7, 0, 4}), "wrong password", false));
                    }
                    return CompletableFuture.completedFuture(new Success(new byte[] {3, 7, 0, 4}, msk(password, challenge), Optional.ofNullable(framed)));
                }

                @Override
                public void close() {
                    closed = true;
                }
            };
        }
    }

    /** The client's side of EAP-MD5-Challenge. */
    static class TestEapPeer implements EapPeer {
        final byte[] password;
        byte[] challenge;

        TestEapPeer(String password) {
            this.password = password.getBytes(StandardCharsets.UTF_8);
        }

        @Override
        public byte[] respond(byte[] req) {
            if (req.length != 22 || req[4] != 4) {
                return null;
            }
            challenge = Arrays.copyOfRange(req, 6, 22);
            byte[] resp = new byte[22];
            resp[0] = 2;
            resp[1] = req[1];
            resp[3] = 22;
            resp[4] = 4;
            resp[5] = 16;
            System.arraycopy(md5(req[1], password, challenge), 0, resp, 6, 16);
            return resp;
        }

        @Override
        public byte[] msk() {
            return EapRemoteAccessTest.msk(password, challenge);
        }
    }

    static byte[] md5(byte id, byte[] password, byte[] challenge) {
        try {
            MessageDigest md = MessageDigest.getInstance("MD5");
            md.update(id);
            md.update(password);
            return md.digest(challenge);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static byte[] msk(byte[] password, byte[] challenge) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-512");
            md.update(password);
            return md.digest(challenge);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
