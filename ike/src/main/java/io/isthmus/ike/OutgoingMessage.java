package io.isthmus.ike;

import io.isthmus.ike.message.Payload;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * A message an exchange fills with payloads; the {@link MessageWindow} numbers and protects it.
 * IKE_SA_INIT's messages are the exception: they travel unprotected and their exact bytes are
 * signed in IKE_AUTH, so that exchange encodes them itself ({@link #plain}).
 */
public final class OutgoingMessage {
    private final IkeSa sa;
    private final List<Payload> payloads = new ArrayList<>();
    private byte[] plain;
    private String endsSa;

    OutgoingMessage(IkeSa sa) {
        this.sa = sa;
    }

    /** The IKE SA the message goes out on: for a child exchange, the one current when it was built. */
    public IkeSa sa() {
        return sa;
    }

    public OutgoingMessage add(Payload p) {
        payloads.add(p);
        return this;
    }

    public OutgoingMessage addAll(Collection<? extends Payload> ps) {
        payloads.addAll(ps);
        return this;
    }

    public List<Payload> payloads() {
        return List.copyOf(payloads);
    }

    /** The whole message, encoded by the exchange, to go on the wire as it is (IKE_SA_INIT only). */
    public void plain(byte[] datagram) {
        this.plain = datagram;
    }

    byte[] plain() {
        return plain;
    }

    /**
     * A responder's answer after which the IKE SA ends (RFC 7296 §1.4.1, §2.21.2): the window
     * sends it under the SA's keys and destroys the SA at once, so nothing else reaches a dying SA.
     */
    public void endsSa(String why) {
        this.endsSa = why;
    }

    String endsSa() {
        return endsSa;
    }
}
