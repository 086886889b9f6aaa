/**
 * The TUN port: the local network's side of the data plane, as the packet threads see it
 * ({@link io.isthmus.dataplane.tun.TunPort}, after wireguard-go's {@code tun.Device}). Everything the
 * kernel's offloads need stays here: the virtio header, cutting TCP and UDP super-packets into
 * segments on the way in ({@link io.isthmus.dataplane.tun.TunBatch}), merging the segments of a
 * flow on the way out ({@link io.isthmus.dataplane.tun.GroMerger}). Two ports: the kernel's device
 * ({@link io.isthmus.dataplane.tun.LinuxTun}) and one in memory
 * ({@link io.isthmus.dataplane.tun.InMemoryTun}) for tests and a data plane without root.
 * Imports {@code ip/} and {@code linux/}, never the packages above it.
 */
package io.isthmus.dataplane.tun;
