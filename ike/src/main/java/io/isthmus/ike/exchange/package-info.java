/**
 * IKEv2's exchanges (RFC 7296), one class each, after strongSwan's tasks: each builds and
 * processes its messages in both roles ({@link io.isthmus.ike.Exchange}) and changes the
 * {@link io.isthmus.ike.IkeSa} it runs on. {@link io.isthmus.ike.exchange.Ikev2Exchanges} says
 * what each action on an IKE SA starts and holds the one switch that picks the responder's
 * exchange for a request. Next to them is what several exchanges share: the responder's proposal
 * choice, the retry after INVALID_KE_PAYLOAD, NAT detection, the AUTH payloads and the state of
 * simultaneous rekeys.
 *
 * <p>The packages of ike form one line, each using only those below it (LayeringTest checks it):
 * {@code message} (the codec) &lt;- {@code crypto} (keys, groups, SK protection) &lt;-
 * {@code io.isthmus.ike} (configuration, the SA record with its message window) &lt;-
 * {@code exchange} &lt;- {@code engine} (the SA table, cookies and half-open SAs, the wiring).
 */
package io.isthmus.ike.exchange;
