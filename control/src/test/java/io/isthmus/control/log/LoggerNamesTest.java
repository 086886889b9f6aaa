package io.isthmus.control.log;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every logger the gateway's code makes belongs to a subsystem, so that an operator's
 * {@code ike: debug} reaches all of IKE: a line logged under a name of its own (say
 * "io.isthmus.gateway", as control's were once) would stay at the default whatever the
 * operator sets. Read from the sources of every module the daemon runs.
 */
class LoggerNamesTest {
    static final List<String> MODULES = List.of("esp", "ike", "dataplane", "control");
    static final Pattern GET_LOGGER = Pattern.compile("(?:System|LoggerFactory)\\.getLogger\\(\\s*\"([^\"]*)\"");

    @Test
    void everyLoggerOfTheGatewayBelongsToASubsystem() throws IOException {
        List<String> found = new ArrayList<>();
        List<String> outside = new ArrayList<>();
        for (String module : MODULES) {
            Path sources = Path.of("..", module, "src", "main", "java");
            assertTrue(Files.isDirectory(sources), "run from control's folder, as Maven does: " + sources.toAbsolutePath());
            try (Stream<Path> files = Files.walk(sources)) {
                for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                    Matcher m = GET_LOGGER.matcher(Files.readString(f));
                    while (m.find()) {
                        found.add(m.group(1));
                        if (Subsystem.ofLogger(m.group(1)).isEmpty()) {
                            outside.add(sources.relativize(f) + ": " + m.group(1));
                        }
                    }
                }
            }
        }
        assertTrue(found.size() >= 20, "the search finds the loggers: " + found);
        assertEquals(List.of(), outside, "loggers outside every subsystem (" + Subsystem.words() + ")");
    }

    @Test
    void aLoggerBelongsToTheSubsystemWhoseNameItExtends() {
        assertEquals(Subsystem.IKE, Subsystem.ofLogger("io.isthmus.ike").orElseThrow());
        assertEquals(Subsystem.IKE, Subsystem.ofLogger("io.isthmus.ike.exchange.IkeAuth").orElseThrow());
        assertEquals(Subsystem.NETTY, Subsystem.ofLogger("io.netty.channel.epoll.Epoll").orElseThrow());
        assertTrue(Subsystem.ofLogger("io.isthmus.ikev3").isEmpty(), "a prefix of the name is not enough");
        assertTrue(Subsystem.ofLogger("io.isthmus.gateway").isEmpty());
        assertTrue(Subsystem.ofLogger("jdk.event.security").isEmpty());
    }
}
