package io.isthmus.control.radius;

import java.net.Inet4Address;
import java.util.Optional;

/**
 * What a RADIUS server answered to one Access-Request, its authenticators checked: an
 * Access-Challenge (the next EAP request and the State to echo), an Access-Accept (the MSK, an
 * address the server chose) or an Access-Reject; or {@link Outcome#UNREACHABLE} when no
 * configured server answered in time. {@code server} is the one to send the conversation's next
 * request to: a State only means something to the server that issued it.
 */
public record RadiusAnswer(Outcome outcome, byte[] eapMessage, Optional<byte[]> state, Optional<byte[]> msk,
        Optional<Inet4Address> framedIpAddress, RadiusServer server) {
    public enum Outcome { CHALLENGE, ACCEPT, REJECT, UNREACHABLE }

    static RadiusAnswer unreachable() {
        return new RadiusAnswer(Outcome.UNREACHABLE, new byte[0], Optional.empty(), Optional.empty(), Optional.empty(), null);
    }

    @Override
    public String toString() {
        return "RadiusAnswer[" + outcome + ", eap " + eapMessage.length + " bytes, state " + state.isPresent() + ", msk "
                + msk.isPresent() + ", framed " + framedIpAddress.map(Inet4Address::getHostAddress).orElse("-") + "]";
    }
}
