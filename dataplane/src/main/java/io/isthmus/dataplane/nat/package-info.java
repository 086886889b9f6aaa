/**
 * NAT rules of a connection in the data plane (Azure's natRules: IngressSnat and EgressSnat,
 * Static and Dynamic), applied to inner IPv4 packets between the TUN device and the SA: the
 * rules as the control plane declares them ({@link io.isthmus.dataplane.nat.NatRule}), the
 * translation of one tunnel's packets ({@link io.isthmus.dataplane.nat.TunnelNat}) with
 * incremental checksum updates ({@link io.isthmus.dataplane.nat.Checksum}), and the bounded flow
 * table of a dynamic rule ({@link io.isthmus.dataplane.nat.FlowTable}). Depends on {@code ip} only.
 */
package io.isthmus.dataplane.nat;
