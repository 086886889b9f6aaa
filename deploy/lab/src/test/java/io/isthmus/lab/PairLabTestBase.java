package io.isthmus.lab;

import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;

/**
 * What the tests that build a {@link PairLab} share: they need root, keepalived and strongSwan
 * (deploy/test.sh installs them; a missing one fails the test, saying which), and the lab goes
 * when each test ends.
 */
abstract class PairLabTestBase {
    PairLab lab;

    @BeforeAll
    static void rootAndTools() {
        String why = !"root".equals(System.getProperty("user.name")) ? "the pair lab needs root (network namespaces); CI runs as root"
                : !Files.isExecutable(Path.of("/usr/sbin/keepalived")) ? "keepalived is missing; deploy/lib/packages.sh names it"
                : !Files.isExecutable(Path.of("/usr/lib/ipsec/charon")) ? "strongSwan is missing; deploy/test.sh installs it" : null;
        assertNull(why, why);
    }

    @AfterEach
    void closeLab() {
        if (lab != null) {
            lab.close();
        }
    }
}
