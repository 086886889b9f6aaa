/**
 * The data plane: {@link io.isthmus.dataplane.Dataplane} (its lifecycle and the control plane's
 * entry points), the tunnels and installed SAs as one immutable
 * {@link io.isthmus.dataplane.ForwardingSnapshot}, and the two packet agents with their paths,
 * which route, seal, open and check selectors. Below it, imported and never importing it:
 * {@code tun/} (the TUN port and its offloads), {@code conn/} (the sockets towards the peers),
 * {@code nat/} (a tunnel's NAT rules, applied by the paths), {@code ip/} (packets in place) and
 * {@code linux/} (FFM system calls).
 */
package io.isthmus.dataplane;
