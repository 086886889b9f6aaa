/**
 * IPv4 and IPv6 packets read and rewritten in place, in the byte[] they arrived in: header
 * fields, Internet checksums, TCP MSS clamping and the ICMP "too big" errors. The bottom layer the
 * packet paths and the TUN port's offloads ({@code tun/}) share; it imports nothing of theirs.
 */
package io.isthmus.dataplane.ip;
