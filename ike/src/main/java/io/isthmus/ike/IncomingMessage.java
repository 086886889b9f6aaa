package io.isthmus.ike;

import io.isthmus.ike.message.IkeHeader;
import io.isthmus.ike.message.IkeMessage;
import io.isthmus.ike.message.NotifyPayload;
import io.isthmus.ike.message.Payload;
import io.isthmus.ike.message.TrafficSelector;
import io.isthmus.ike.message.TsPayload;
import java.util.List;
import java.util.Optional;

/**
 * A message that arrived on {@code sa}, with its payloads: decrypted and reassembled when it was
 * protected, so an exchange never sees an SK payload. Only messages whose ICV verified get here.
 */
public record IncomingMessage(IkeSa sa, IkeMessage message, List<Payload> payloads) {

    public IkeHeader header() {
        return message.header();
    }

    public int exchangeType() {
        return message.header().exchangeType();
    }

    public <P extends Payload> Optional<P> first(Class<P> kind) {
        return payloads.stream().filter(kind::isInstance).map(kind::cast).findFirst();
    }

    public <P extends Payload> List<P> all(Class<P> kind) {
        return payloads.stream().filter(kind::isInstance).map(kind::cast).toList();
    }

    public Optional<NotifyPayload> notify(int type) {
        return all(NotifyPayload.class).stream().filter(n -> n.notifyType() == type).findFirst();
    }

    /** The first error notify (types below 16384), which says the request was refused. */
    public Optional<NotifyPayload> error() {
        return all(NotifyPayload.class).stream().filter(NotifyPayload::isError).findFirst();
    }

    /** The selectors of TSi ({@code initiator}) or TSr, if the message has them. */
    public Optional<List<TrafficSelector>> selectors(boolean initiator) {
        return all(TsPayload.class).stream().filter(t -> t.initiator() == initiator).map(TsPayload::selectors).findFirst();
    }
}
