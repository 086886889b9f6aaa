package io.isthmus.control.radius;

import java.net.InetSocketAddress;

/**
 * One of the gateway's {@code radiusServers}: where it listens, the secret shared with it, and
 * its score (Azure's radiusServerScore, 1-30: the higher is asked first).
 */
public record RadiusServer(InetSocketAddress address, RadiusSecret secret, int score) {
    public RadiusServer {
        if (score < 1 || score > 30) {
            throw new IllegalArgumentException("radiusServerScore " + score + ": 1-30 allowed");
        }
    }
}
