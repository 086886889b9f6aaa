package io.isthmus.ike;

import io.isthmus.esp.PackageLayering;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The packages of ike depend on each other one way only, each on the ones below it:
 *
 * <pre>
 *   message  <-  crypto  <-  io.isthmus.ike  <-  exchange  <-  engine
 *   codec        keys, SK    the SA record,      one class     IkeEngine: the SA
 *                protection  its window, the     per exchange  table, cookies,
 *                            configuration                     half-open SAs
 * </pre>
 *
 * Read from the compiled classes with jdeps, so a fully qualified name in code counts as much as
 * an import (and a javadoc link does not).
 */
class LayeringTest {
    static final String ROOT = "io.isthmus.ike";
    static final Map<String, Set<String>> ALLOWED = Map.of(
            "message", Set.of(),
            "crypto", Set.of("message"),
            // Remote access (CP attributes, the client address pool): beside crypto, for the exchanges to use.
            "remoteaccess", Set.of("message"),
            // Connections carry their remote-access pool, IKE SAs their clients' leases.
            "", Set.of("message", "crypto", "remoteaccess"),
            "exchange", Set.of("", "message", "crypto", "remoteaccess"),
            "engine", Set.of("", "message", "crypto", "exchange", "remoteaccess"));

    @Test
    void eachPackageDependsOnlyOnTheOnesBelowIt() {
        PackageLayering.assertLayering(Path.of("target/classes"), ROOT, ALLOWED);
    }
}
