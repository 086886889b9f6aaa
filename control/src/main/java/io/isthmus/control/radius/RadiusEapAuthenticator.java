package io.isthmus.control.radius;

import io.isthmus.ike.EapAuthenticator;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.stream.Collectors;

/**
 * EAP relayed to RADIUS (RFC 3579) as strongSwan's eap-radius does it: the client's IKE identity
 * is its EAP identity, sent as an EAP-Response/Identity in the first Access-Request (no
 * EAP-Identity round with the client), then each EAP message in an Access-Request with the
 * server's State, to the server that issued it, until Access-Accept (the MSK from its MS-MPPE
 * keys) or Access-Reject.
 */
public final class RadiusEapAuthenticator implements EapAuthenticator {
    private final RadiusClient client;
    private final byte[] nasIdentifier;

    public RadiusEapAuthenticator(RadiusClient client, String nasIdentifier) {
        this.client = client;
        this.nasIdentifier = nasIdentifier.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public Conversation begin(byte[] identity) {
        return new RadiusConversation(Arrays.copyOf(identity, Math.min(identity.length, RadiusPacket.MAX_VALUE)));
    }

    private static String hostPort(RadiusServer s) {
        InetSocketAddress a = s.address();
        return (a.isUnresolved() ? a.getHostString() : a.getAddress().getHostAddress()) + ":" + a.getPort();
    }

    private final class RadiusConversation implements Conversation {
        private final byte[] identity;
        private Optional<byte[]> state = Optional.empty();
        private Optional<RadiusServer> server = Optional.empty();
        private volatile boolean closed;

        RadiusConversation(byte[] identity) {
            this.identity = identity;
        }

        @Override
        public CompletionStage<Step> start() {
            byte[] eap = new byte[5 + identity.length];
            eap[0] = 2; // Response
            eap[1] = 0;
            eap[2] = (byte) (eap.length >> 8);
            eap[3] = (byte) eap.length;
            eap[4] = 1; // Identity
            System.arraycopy(identity, 0, eap, 5, identity.length);
            return respond(eap);
        }

        @Override
        public CompletionStage<Step> respond(byte[] eapMessage) {
            if (closed) {
                return CompletableFuture.completedFuture(new Failure(Optional.empty(), "the conversation is closed", false));
            }
            List<RadiusPacket.Attribute> attrs = new ArrayList<>();
            attrs.add(new RadiusPacket.Attribute(RadiusPacket.USER_NAME, identity));
            attrs.add(new RadiusPacket.Attribute(RadiusPacket.NAS_IDENTIFIER, nasIdentifier));
            attrs.addAll(RadiusPacket.split(RadiusPacket.EAP_MESSAGE, eapMessage));
            state.ifPresent(s -> attrs.add(new RadiusPacket.Attribute(RadiusPacket.STATE, s)));
            int length = RadiusPacket.encodedLength(attrs) + RadiusClient.MESSAGE_AUTHENTICATOR_LENGTH;
            if (length > RadiusPacket.MAX_LENGTH) {
                // RFC 3579 §3.1 carries one EAP packet in one Access-Request: a client's EAP message
                // (up to 64 KB by its length field) that does not fit is refused, not cut. EAP-TLS
                // peers fragment at about 1 KB (strongSwan's and FreeRADIUS' fragment_size), far below.
                return CompletableFuture.completedFuture(new Failure(Optional.empty(), "an EAP message of " + eapMessage.length
                        + " bytes makes an Access-Request of " + length + " bytes, more than RADIUS allows (" + RadiusPacket.MAX_LENGTH + ")", false));
            }
            return client.accessRequest(attrs, server).thenApply(this::step);
        }

        private Step step(RadiusAnswer a) {
            return switch (a.outcome()) {
                case CHALLENGE -> {
                    state = a.state();
                    server = Optional.of(a.server());
                    yield a.eapMessage().length >= 4 ? new Request(a.eapMessage())
                            : new Failure(Optional.empty(), "Access-Challenge from " + a.server().address() + " without an EAP-Message", false);
                }
                case ACCEPT -> a.msk().<Step>map(msk -> new Success(a.eapMessage(), msk, a.framedIpAddress().map(x -> x)))
                        // RFC 7296 §2.16: the AUTH payloads need the MSK; an accept without one cannot finish IKE_AUTH.
                        .orElseGet(() -> new Failure(Optional.empty(), "Access-Accept from " + a.server().address() + " without MS-MPPE keys", false));
                case REJECT -> new Failure(a.eapMessage().length >= 4 ? Optional.of(a.eapMessage()) : Optional.empty(),
                        "Access-Reject from " + a.server().address(), false);
                case UNREACHABLE -> new Failure(Optional.empty(), "asked " + asked(), true);
            };
        }

        /** Whom the unanswered request went to: the conversation's server, or every configured one. */
        private String asked() {
            return server.map(s -> "the conversation's server " + hostPort(s))
                    .orElseGet(() -> client.servers().stream().map(RadiusEapAuthenticator::hostPort).collect(Collectors.joining(", ")));
        }

        @Override
        public void close() {
            closed = true;
            state = Optional.empty();
        }
    }
}
