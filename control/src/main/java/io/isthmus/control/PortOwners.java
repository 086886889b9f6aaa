package io.isthmus.control;

import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Which processes hold a UDP port, as {@code ss -ulpn} tells: for the one line that says why the
 * gateway cannot start ("UDP port 500 on 10.0.0.4 is taken by charon (pid 812)"). Best effort:
 * without ss, or when the owner lives in another namespace, the line says less, not something else.
 */
final class PortOwners {
    /** {@code users:(("charon",pid=812,fd=13),("charon",pid=812,fd=14))}: ss quotes the name, which may hold anything but a NUL. */
    private static final Pattern USER = Pattern.compile("\\(\"((?:[^\"\\\\]|\\\\.)*)\",pid=(\\d+)");

    private PortOwners() {
    }

    /** The owners of UDP {@code port} on {@code address} (or on every address), e.g. "charon (pid 812)"; empty if ss cannot tell. */
    static List<String> of(InetAddress address, int port) {
        String out;
        try {
            Process p = new ProcessBuilder("ss", "-H", "-u", "-a", "-n", "-p", "sport = :" + port)
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            out = new String(p.getInputStream().readAllBytes());
            if (!p.waitFor(5, TimeUnit.SECONDS) || p.exitValue() != 0) {
                p.destroyForcibly();
                return List.of();
            }
        } catch (IOException e) {
            return List.of();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return List.of();
        }
        return parse(out, address, port);
    }

    /**
     * From ss's lines ({@code UNCONN 0 0 10.0.0.4:500 0.0.0.0:* users:(("charon",pid=812,fd=13))}):
     * the processes of the sockets bound to {@code port} on {@code address} or on the wildcard
     * address, which holds the port on every address.
     */
    static List<String> parse(String ss, InetAddress address, int port) {
        Set<String> owners = new LinkedHashSet<>();
        for (String line : ss.lines().toList()) {
            String[] columns = line.trim().split("\\s+");
            if (columns.length < 5 || !bindsPort(columns[3], address, port)) {
                continue;
            }
            Matcher m = USER.matcher(line);
            while (m.find()) {
                owners.add(printable(m.group(1)) + " (pid " + m.group(2) + ")");
            }
        }
        return new ArrayList<>(owners);
    }

    /** Whether ss's local address column ({@code 10.0.0.4:500}, {@code [::]:500}, {@code *:500}, {@code 0.0.0.0%eth0:500}) holds the port for {@code address}. */
    private static boolean bindsPort(String local, InetAddress address, int port) {
        int colon = local.lastIndexOf(':');
        if (colon < 0 || !local.substring(colon + 1).equals(Integer.toString(port))) {
            return false;
        }
        String host = local.substring(0, colon).replaceFirst("%.*$", "");
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1).replaceFirst("%.*$", "");
        }
        if (host.equals("*") || host.equals("0.0.0.0") || host.equals("::")) {
            // A wildcard [::] socket takes IPv4 too unless it is IPv6-only, which ss does not show: count it.
            return !(host.equals("0.0.0.0") && address instanceof Inet6Address);
        }
        try {
            return InetAddress.ofLiteral(host).equals(address);
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /** A process names itself: whatever it chose stays on one printable line. */
    private static String printable(String name) {
        StringBuilder b = new StringBuilder();
        name.codePoints().limit(64).forEach(c -> b.append(c < 0x20 || c == 0x7F ? "?" : Character.toString(c)));
        return b.toString();
    }
}
