package io.isthmus.control.log;

import java.util.Arrays;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * What an operator names to change a log level ({@code logging.levels.ike: debug},
 * {@code isthmus log-level ike debug}): one part of the gateway, and the logger whose children
 * are all of that part's loggers. Code logs under the logger of its subsystem, or a child of it
 * ({@code io.isthmus.ike.exchange}), so one level reaches all of it.
 */
public enum Subsystem {
    /** IKEv2: the engine, the exchanges, the message window, the IKE sockets. */
    IKE("ike", "io.isthmus.ike"),
    /** ESP as computation (today it logs nothing: no I/O, no threads; the name is here for when it does). */
    ESP("esp", "io.isthmus.esp"),
    /** The packet threads, the TUN device, the ESP sockets, the tunnel and SA tables. */
    DATAPLANE("dataplane", "io.isthmus.dataplane"),
    /** What the configuration file says that the operator should know (a key file others may read). */
    CONFIG("config", "io.isthmus.config"),
    /** The daemon: start and stop, host routes, keeping connections up, the control socket. */
    CONTROL("control", "io.isthmus.control"),
    /** Netty, under the IKE sockets (through SLF4J, as Netty logs when SLF4J is there). */
    NETTY("netty", "io.netty");

    private final String word;
    private final String loggerName;

    Subsystem(String word, String loggerName) {
        this.word = word;
        this.loggerName = loggerName;
    }

    /** The name an operator writes. */
    public String word() {
        return word;
    }

    public String loggerName() {
        return loggerName;
    }

    public static Optional<Subsystem> byWord(String word) {
        return Arrays.stream(values()).filter(s -> s.word.equalsIgnoreCase(word.strip())).findFirst();
    }

    /** The subsystem a logger belongs to, if any (the JDK's own loggers, for one, belong to none). */
    public static Optional<Subsystem> ofLogger(String loggerName) {
        for (Subsystem s : values()) {
            if (loggerName.equals(s.loggerName) || loggerName.startsWith(s.loggerName) && loggerName.charAt(s.loggerName.length()) == '.') {
                return Optional.of(s);
            }
        }
        return Optional.empty();
    }

    /** "ike, esp, dataplane, config, control, netty": for messages that list what is allowed. */
    public static String words() {
        return Arrays.stream(values()).map(Subsystem::word).collect(Collectors.joining(", "));
    }
}
