package io.isthmus.control.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Key files others may read are refused, as ssh refuses such a private key; a configuration
 * file with a shared key in it that others may read is warned about. Judged by the mode bits:
 * these tests run as root, which could read the files whatever their mode.
 */
class KeyFilePermissionsTest {
    @TempDir
    Path dir;

    Path write(String name, String text, String mode) throws Exception {
        Path p = dir.resolve(name);
        Files.writeString(p, text);
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(mode));
        return p;
    }

    Path config(String authentication, String mode) throws Exception {
        return write("gw.yaml", ConfigReaderTest.GOOD.replace("sharedKey: \"a long and secret shared key\"", authentication), mode);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "rw-r--r-- | 0644, which lets group and others read it",
            "rw-r----- | 0640, which lets group read it",
            "r-----r-- | 0404, which lets others read it",
            "rw--w---- | 0620, which lets group write it"})
    void aSharedKeyFileOthersMayUseIsRefused(String mode, String expected) throws Exception {
        write("branch.psk", "key in a file\n", mode);
        Path file = config("sharedKeyFile: branch.psk", "rw-------");
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigReader.read(file));
        Path key = dir.resolve("branch.psk");
        assertEquals(file + ": connections[0].sharedKeyFile: " + key + " has mode " + expected
                + "; a key file must be for its owner alone, as ssh requires of a private key: chmod 600 " + key, e.getMessage());
        assertTrue(!e.getMessage().contains("key in a file"), "the key itself is never shown");
    }

    @ParameterizedTest
    @ValueSource(strings = {"rw-------", "r--------"})
    void aSharedKeyFileForItsOwnerAloneIsUsed(String mode) throws Exception {
        write("branch.psk", "key in a file\n", mode);
        GatewayConfig c = ConfigReader.read(config("sharedKeyFile: branch.psk", "rw-r--r--"));
        assertEquals(13, c.connections().getFirst().sharedKey().length);
        assertEquals(List.of(), c.warnings(), "a readable configuration without a key in it is fine");
    }

    @Test
    void aCertificatesPrivateKeyOthersMayReadIsRefused() throws Exception {
        write("gw.crt", "certificate", "rw-r--r--");
        write("ca.crt", "CA", "rw-r--r--");
        write("gw.key", "private key", "rw-r--r--");
        Path file = config("""
                certificateAuthentication:
                      outboundAuthCertificate: gw.crt
                      privateKey: gw.key
                      inboundAuthCertificateChain: [ca.crt]""", "rw-------");
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigReader.read(file));
        Path key = dir.resolve("gw.key");
        assertEquals("connections[0].certificateAuthentication.privateKey", e.field());
        assertTrue(e.getMessage().endsWith(key + " has mode 0644, which lets group and others read it; a key file must be for its owner"
                + " alone, as ssh requires of a private key: chmod 600 " + key), e.getMessage());

        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
        assertEquals("gw.key", ConfigReader.read(file).connections().getFirst().certificate().privateKey().getFileName().toString(),
                "certificates themselves are public");
    }

    @Test
    void aConfigurationWithASharedKeyThatOthersMayReadIsWarnedAbout() throws Exception {
        Path file = config("sharedKey: \"a long and secret shared key\"", "rw-r--r--");
        GatewayConfig c = ConfigReader.read(file);
        assertEquals(List.of(file + ": connections[0].sharedKey: the file holds a shared key and its mode 0644 lets group and others read it;"
                + " chmod 600 " + file + ", or move the key to sharedKeyFile or sharedKeyEnv"), c.warnings());
        assertTrue(!c.warnings().getFirst().contains("secret"));
    }

    @Test
    void aConfigurationWithASharedKeyForItsOwnerAloneIsNot() throws Exception {
        assertEquals(List.of(), ConfigReader.read(config("sharedKey: \"a long and secret shared key\"", "rw-------")).warnings());
    }
}
