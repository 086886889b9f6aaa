/**
 * IKEv2 (RFC 7296): the protocol engine that negotiates IKE and child SAs and announces them,
 * as {@code io.isthmus.esp.SaParameters}, to whoever installs them. Built under issue 3.
 */
package io.isthmus.ike;
