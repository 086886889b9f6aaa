package io.isthmus.control.ha;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * One instance's side of the sync link.
 *
 * <p>Which end dials: the instance whose name sorts first (String order) dials the partner's sync
 * address, from its own sync address; the other listens on its sync address and never dials.
 * So at most one connection is wanted; the listener keeps the newest authenticated one and
 * closes an older one (the dialer only dials again once it saw its connection die, so an older
 * one still open is half-dead).
 *
 * @param instance this instance's name, as the partner's settings name it
 * @param listen this instance's sync address (the listener binds it; the dialer dials from its address)
 * @param partner the partner's name, checked against its HELLO
 * @param partnerAddress the partner's sync address
 * @param heartbeatInterval how often each side sends a heartbeat
 * @param missedHeartbeats this many intervals without a frame and the link is down
 * @param maxFrameBytes the largest frame either side accepts (a larger one closes the link)
 * @param epochFile where {@link EpochStore} keeps the ownership epochs
 */
public record SyncSettings(String instance, InetSocketAddress listen, String partner, InetSocketAddress partnerAddress,
        Path certificate, Path privateKey, Path partnerCertificate, Duration heartbeatInterval, int missedHeartbeats,
        int maxFrameBytes, Path epochFile) {

    public static final Duration HEARTBEAT = Duration.ofMillis(50);
    public static final int MISSED_HEARTBEATS = 3;
    public static final int MAX_FRAME_BYTES = 1 << 20;

    public SyncSettings {
        Objects.requireNonNull(listen, "listen");
        Objects.requireNonNull(partnerAddress, "partnerAddress");
        Objects.requireNonNull(certificate, "certificate");
        Objects.requireNonNull(privateKey, "privateKey");
        Objects.requireNonNull(partnerCertificate, "partnerCertificate");
        Objects.requireNonNull(epochFile, "epochFile");
        FrameCodec.checkedString(instance, "the instance name");
        FrameCodec.checkedString(partner, "the partner name");
        if (instance.equals(partner)) {
            throw new IllegalArgumentException("the instance and its partner are both named " + instance);
        }
        if (heartbeatInterval.isNegative() || heartbeatInterval.isZero() || missedHeartbeats < 1) {
            throw new IllegalArgumentException("heartbeat every " + heartbeatInterval + ", down after " + missedHeartbeats
                    + " missed: both must be positive");
        }
        if (maxFrameBytes < 1024 || maxFrameBytes > (64 << 20)) {
            throw new IllegalArgumentException("maxFrameBytes " + maxFrameBytes + " is outside 1 KiB .. 64 MiB");
        }
    }

    /** With the default heartbeat (50 ms, 3 missed) and frame limit (1 MiB). */
    public static SyncSettings of(String instance, InetSocketAddress listen, String partner, InetSocketAddress partnerAddress,
            Path certificate, Path privateKey, Path partnerCertificate, Path epochFile) {
        return new SyncSettings(instance, listen, partner, partnerAddress, certificate, privateKey, partnerCertificate,
                HEARTBEAT, MISSED_HEARTBEATS, MAX_FRAME_BYTES, epochFile);
    }

    public SyncSettings withHeartbeat(Duration interval, int missed) {
        return new SyncSettings(instance, listen, partner, partnerAddress, certificate, privateKey, partnerCertificate,
                interval, missed, maxFrameBytes, epochFile);
    }

    public SyncSettings withMaxFrameBytes(int max) {
        return new SyncSettings(instance, listen, partner, partnerAddress, certificate, privateKey, partnerCertificate,
                heartbeatInterval, missedHeartbeats, max, epochFile);
    }

    public SyncSettings withListen(InetSocketAddress address) {
        return new SyncSettings(instance, address, partner, partnerAddress, certificate, privateKey, partnerCertificate,
                heartbeatInterval, missedHeartbeats, maxFrameBytes, epochFile);
    }

    public SyncSettings withPartnerAddress(InetSocketAddress address) {
        return new SyncSettings(instance, listen, partner, address, certificate, privateKey, partnerCertificate,
                heartbeatInterval, missedHeartbeats, maxFrameBytes, epochFile);
    }

    /** The instance whose name sorts first dials; the other listens. */
    public boolean dials() {
        return instance.compareTo(partner) < 0;
    }

    /** The dialer takes odd epochs, the listener even ones: the two never take the same epoch. */
    boolean takesOddEpochs() {
        return dials();
    }
}
