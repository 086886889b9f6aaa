package io.isthmus.dataplane;

import io.isthmus.dataplane.capture.PacketCapture;

/**
 * The capture the packet paths feed, if one runs: read once per batch, so a data plane without a
 * capture pays one load of a null reference per receive or read.
 */
final class CaptureSwitch {
    volatile PacketCapture current;
}
