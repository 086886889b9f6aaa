/**
 * The IKE engine: the table of IKE SAs by SPI, IKE_SA_INIT's admission (cookies, half-open SAs
 * per address and in all, the rate of costly requests), INITIAL_CONTACT, and the wiring of the
 * layers below it (it gives each SA the exchanges of {@code io.isthmus.ike.exchange} and the
 * table). The top of ike's packages; the daemon talks to it and to the SAs it lists.
 */
package io.isthmus.ike.engine;
