/**
 * Packet capture from the data plane itself: the packet threads copy what a {@link
 * io.isthmus.dataplane.capture.CaptureFilter} selects into a bounded ring, and a thread of the
 * capture's own writes it as pcapng ({@link io.isthmus.dataplane.capture.PcapngWriter}). While no
 * capture runs the paths read one null reference per batch; while one runs, a packet costs a
 * filter check and a copy, and a full ring drops (and counts) rather than waits.
 */
package io.isthmus.dataplane.capture;
