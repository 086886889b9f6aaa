package io.isthmus.control.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** The control section: no group unless the file names one; a name that cannot be a group's is refused, a change needs a restart. */
class ControlSectionTest {
    static GatewayConfig with(String section) {
        return ConfigReaderTest.parse(ConfigReaderTest.GOOD + section);
    }

    static String problem(String section) {
        return assertThrows(ConfigException.class, () -> with(section)).getMessage();
    }

    @Test
    void noGroupByDefaultOrTheOneNamed() {
        assertNull(ConfigReaderTest.parse(ConfigReaderTest.GOOD).control().group());
        assertNull(with("control: {}\n").control().group());
        assertEquals("isthmus-ops", with("control:\n  group: isthmus-ops\n").control().group());
    }

    @Test
    void mistakesAreNamed() {
        assertEquals("/etc/isthmus/gw.yaml: control.group: expected a group's name, such as isthmus-ops", problem("control:\n  group: 1000\n"));
        assertEquals("/etc/isthmus/gw.yaml: control.group: expected a group's name, such as isthmus-ops", problem("control:\n  group: 'ops; rm'\n"));
        assertEquals("/etc/isthmus/gw.yaml: control.mode: unknown field; allowed here: group", problem("control:\n  mode: '0666'\n"));
        assertEquals("/etc/isthmus/gw.yaml: control: expected a mapping with group, such as group: isthmus-ops", problem("control: ops\n"));
    }

    @Test
    void anotherGroupNeedsARestart() {
        ConfigDiff d = ConfigDiff.between(ConfigReaderTest.parse(ConfigReaderTest.GOOD), with("control:\n  group: isthmus-ops\n"));
        assertEquals(java.util.List.of("control.group: none -> isthmus-ops cannot change while the gateway runs; restart it to apply"),
                d.restartNeeded());
    }
}
