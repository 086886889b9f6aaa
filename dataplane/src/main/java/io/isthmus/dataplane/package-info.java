/**
 * The data plane: TUN and UDP/raw ESP packet I/O on Linux and the lock-free pipeline that runs
 * packets through {@code io.isthmus.esp} SAs. Built under issue 4.
 */
package io.isthmus.dataplane;
