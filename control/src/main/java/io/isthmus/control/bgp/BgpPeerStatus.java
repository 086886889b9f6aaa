package io.isthmus.control.bgp;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One connection's BGP session as Azure's "BGP Peer Status" has it (state, neighbor, ASN, routes
 * received, how long connected), read from BIRD's {@code show protocols all}.
 *
 * @param state            Azure's word: Connected (BIRD's Established), Connecting (Connect, Active,
 *                         OpenSent, OpenConfirm), Idle, Stopped (the protocol down or closing), Unknown
 *                         (BIRD does not answer, or has no such protocol)
 * @param birdState        BIRD's own word for it ("Established", "Active", "down"...)
 * @param connectedSeconds how long the session has been up, while it is
 * @param routesReceived   routes the peer sent that the import filter took (BIRD's "imported")
 * @param routesFiltered   routes the peer sent that the import filter refused
 * @param routesAdvertised routes sent to the peer (BIRD's "exported")
 * @param lastError        BIRD's last error of the session ("Socket: No route to host", "Received: Bad peer AS")
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record BgpPeerStatus(String protocol, String state, String birdState, String neighbor, Long asn, String localAddress,
                            Long connectedSeconds, Long routesReceived, Long routesFiltered, Long routesAdvertised, String lastError) {

    public static final String CONNECTED = "Connected";
    public static final String CONNECTING = "Connecting";
    public static final String IDLE = "Idle";
    public static final String STOPPED = "Stopped";
    public static final String UNKNOWN = "Unknown";

    /** What status says when BIRD cannot be asked: Unknown, and why. */
    public static BgpPeerStatus unknown(String protocol, String why) {
        return new BgpPeerStatus(protocol, UNKNOWN, null, null, null, null, null, null, null, null, why);
    }

    // "to_b       BGP        ---        start  2026-12-03 03:27:57  Active        Socket: No route to host"
    private static final Pattern SUMMARY = Pattern.compile("(\\S+)\\s+(\\S+)\\s+(\\S+)\\s+(\\S+)\\s+(\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d)(?:\\s+(.*))?");
    private static final Pattern ROUTES = Pattern.compile("Routes:\\s+(\\d+) imported,(?: (\\d+) filtered,)? (\\d+) exported.*");
    private static final DateTimeFormatter SINCE = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss");

    /**
     * Every BGP protocol in a {@code show protocols all} reply, by name. BIRD writes its times in
     * the local time zone it shares with this process ({@code timeformat protocol iso long}).
     * Lines it does not know are passed over: a newer BIRD may add some.
     */
    public static Map<String, BgpPeerStatus> parse(BirdControl.Reply reply, Instant now, ZoneId zone) {
        Map<String, BgpPeerStatus> out = new LinkedHashMap<>();
        Builder b = null;
        for (BirdControl.Line line : reply.lines()) {
            if (line.code() == 1002) {
                if (b != null) {
                    out.put(b.name, b.build(now));
                }
                b = null;
                Matcher m = SUMMARY.matcher(line.text().strip());
                if (m.matches() && m.group(2).equals("BGP")) {
                    b = new Builder(m.group(1), m.group(4), since(m.group(5), zone));
                }
            } else if (line.code() == 1006 && b != null) {
                b.detail(line.text().strip());
            }
        }
        if (b != null) {
            out.put(b.name, b.build(now));
        }
        return out;
    }

    private static Instant since(String text, ZoneId zone) {
        try {
            return LocalDateTime.parse(text, SINCE).atZone(zone).toInstant();
        } catch (DateTimeParseException e) {
            return null;
        }
    }

    /** Azure's word for BIRD's protocol state ({@code up}, {@code start}, {@code down}, {@code flush}) and BGP state. */
    static String azureState(String protocolState, String bgpState) {
        if (bgpState == null || protocolState.equals("down") || protocolState.equals("flush")) {
            return STOPPED;
        }
        return switch (bgpState) {
            case "Established" -> CONNECTED;
            case "Connect", "Active", "OpenSent", "OpenConfirm" -> CONNECTING;
            case "Idle" -> IDLE;
            case "Close" -> STOPPED;
            default -> UNKNOWN;
        };
    }

    private static final class Builder {
        final String name;
        final String protocolState;
        final Instant since;
        String bgpState;
        String neighbor;
        Long asn;
        String local;
        Long received;
        Long filtered;
        Long advertised;
        String lastError;

        Builder(String name, String protocolState, Instant since) {
            this.name = name;
            this.protocolState = protocolState;
            this.since = since;
        }

        void detail(String text) {
            int colon = text.indexOf(':');
            if (colon < 0) {
                return;
            }
            String key = text.substring(0, colon);
            String value = text.substring(colon + 1).strip();
            switch (key) {
                case "BGP state" -> bgpState = value;
                case "Neighbor address" -> neighbor = value;
                case "Neighbor AS" -> asn = number(value);
                case "Source address" -> local = value;
                case "Last error" -> lastError = value;
                case "Routes" -> {
                    Matcher m = ROUTES.matcher(text);
                    if (m.matches()) {
                        // One IPv4 channel per session: its counts are the session's.
                        received = number(m.group(1));
                        filtered = m.group(2) == null ? 0L : number(m.group(2));
                        advertised = number(m.group(3));
                    }
                }
                default -> {
                }
            }
        }

        BgpPeerStatus build(Instant now) {
            String state = azureState(protocolState, bgpState);
            Long connected = state.equals(CONNECTED) && since != null ? Math.max(0, Duration.between(since, now).toSeconds()) : null;
            return new BgpPeerStatus(name, state, bgpState != null ? bgpState : protocolState, neighbor, asn, local, connected,
                    received, filtered, advertised, lastError);
        }

        private static Long number(String s) {
            try {
                return Long.parseLong(s.strip());
            } catch (NumberFormatException e) {
                return null;
            }
        }
    }
}
