/**
 * The sockets towards the peers as the data plane sees them ({@link io.isthmus.dataplane.conn.EspPort},
 * after wireguard-go's {@code conn.Bind}): ESP in UDP on the NAT-traversal port and raw ESP, over the
 * kernel ({@link io.isthmus.dataplane.conn.LinuxEspPort}) or over memory
 * ({@link io.isthmus.dataplane.conn.InMemoryEspPort}). Imports {@code linux/} only.
 */
package io.isthmus.dataplane.conn;
