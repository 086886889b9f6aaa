package io.isthmus.control.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

/** The metrics section: loopback port 9850 unless the file says otherwise, off when it says off, every mistake named by its field. */
class MetricsSectionTest {
    static GatewayConfig withMetrics(String section) {
        return ConfigReaderTest.parse(ConfigReaderTest.GOOD + section);
    }

    static String problem(String section) {
        return assertThrows(ConfigException.class, () -> withMetrics(section)).getMessage();
    }

    @Test
    void loopbackByDefault() {
        GatewayConfig.Metrics m = ConfigReaderTest.parse(ConfigReaderTest.GOOD).metrics();
        assertEquals(new InetSocketAddress(InetAddress.getLoopbackAddress(), 9850), m.listen());
        assertEquals("127.0.0.1:9850", m.text());
    }

    @Test
    void anAddressOfEitherFamilyOrOff() throws Exception {
        assertEquals(new InetSocketAddress(InetAddress.getByName("10.0.0.5"), 9100), withMetrics("metrics:\n  listen: 10.0.0.5:9100\n").metrics().listen());
        GatewayConfig.Metrics six = withMetrics("metrics:\n  listen: '[fd00::5]:9850'\n").metrics();
        assertEquals(new InetSocketAddress(InetAddress.getByName("fd00::5"), 9850), six.listen());
        assertEquals("[fd00:0:0:0:0:0:0:5]:9850", six.text());
        // YAML reads a bare off as false.
        assertNull(withMetrics("metrics:\n  listen: off\n").metrics().listen());
        assertNull(withMetrics("metrics:\n  listen: 'off'\n").metrics().listen());
        assertEquals("off", withMetrics("metrics:\n  listen: off\n").metrics().text());
    }

    @Test
    void mistakesAreNamed() {
        assertEquals("/etc/isthmus/gw.yaml: metrics.listen: 'localhost' is not an IP address (a name would depend on DNS at start)",
                problem("metrics:\n  listen: localhost:9850\n"));
        assertEquals("/etc/isthmus/gw.yaml: metrics.listen: '127.0.0.1' has no port from 1 to 65535; expected ADDRESS:PORT such as 127.0.0.1:9850",
                problem("metrics:\n  listen: 127.0.0.1\n"));
        assertEquals("/etc/isthmus/gw.yaml: metrics.listen: '127.0.0.1:70000' has no port from 1 to 65535; expected ADDRESS:PORT such as 127.0.0.1:9850",
                problem("metrics:\n  listen: 127.0.0.1:70000\n"));
        assertEquals("/etc/isthmus/gw.yaml: metrics.listen: 'fd00::5:9850': an IPv6 address goes in brackets, quoted, as '[::1]:9850'",
                problem("metrics:\n  listen: fd00::5:9850\n"));
        assertEquals("/etc/isthmus/gw.yaml: metrics.listen: expected ADDRESS:PORT (127.0.0.1:9850, or '[::1]:9850' quoted) or off",
                problem("metrics:\n  listen: [1, 2]\n"));
        assertEquals("/etc/isthmus/gw.yaml: metrics.port: unknown field; allowed here: listen", problem("metrics:\n  port: 9850\n"));
        assertEquals("/etc/isthmus/gw.yaml: metrics: expected a mapping with listen, such as listen: 127.0.0.1:9850", problem("metrics: 9850\n"));
    }

    /** The listener is bound at start: moving it is a restart, said as such, and refused as a reload. */
    @Test
    void aMovedListenerNeedsARestart() {
        ConfigDiff d = ConfigDiff.between(ConfigReaderTest.parse(ConfigReaderTest.GOOD), withMetrics("metrics:\n  listen: 127.0.0.1:9851\n"));
        assertEquals(java.util.List.of("metrics.listen: 127.0.0.1:9850 -> 127.0.0.1:9851 cannot change while the gateway runs; restart it to apply"),
                d.restartNeeded());
    }
}
