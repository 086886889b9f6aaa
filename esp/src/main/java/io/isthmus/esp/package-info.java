/**
 * ESP (RFC 4303) in tunnel mode as pure computation: no I/O, no threads of its own, no
 * allocation per packet.
 *
 * <p>IKE describes each negotiated child SA direction with {@link io.isthmus.esp.SaParameters};
 * the data plane turns them into an {@link io.isthmus.esp.OutboundSa} and an
 * {@link io.isthmus.esp.InboundSa}, finds the inbound one by the SPI in
 * {@link io.isthmus.esp.EspPacket#spi}, and calls {@code seal} and {@code open} from as many
 * worker threads as it likes, on packets in its own buffers. Failures come back as negative codes
 * from a closed set ({@link io.isthmus.esp.SealFailure}, {@link io.isthmus.esp.DropReason}), never
 * as exceptions; lifetimes and sequence-number exhaustion come back through
 * {@link io.isthmus.esp.SaListener}. What shares the NAT-traversal port with ESP (IKE after the
 * non-ESP marker, NAT keepalives) is told apart and framed by
 * {@link io.isthmus.esp.UdpEncapsulation} (RFC 3948).
 */
package io.isthmus.esp;
