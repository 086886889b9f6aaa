package io.isthmus.control.config;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Secrets from systemd credentials ({@code LoadCredential=}): read from
 * {@code $CREDENTIALS_DIRECTORY/NAME} under the key files' rules (owner alone, bytes wiped), and
 * every way it can go wrong said in one line naming the field.
 */
class CredentialTest {
    static final Path FILE = Path.of("gw.yaml");

    @TempDir
    Path dir;

    /** What systemd makes: a directory for the service, the credential in it, mode 0400. */
    Path credentials() throws Exception {
        Path credentials = Files.createDirectories(dir.resolve("credentials/isthmus@gw.service"));
        Path psk = credentials.resolve("psk-branch");
        Files.writeString(psk, "a shared key from systemd\n");
        Files.setPosixFilePermissions(psk, PosixFilePermissions.fromString("r--------"));
        return credentials;
    }

    static GatewayConfig read(String authentication, Function<String, String> environment) {
        return ConfigReader.parse(FILE, ConfigReaderTest.GOOD.replace("sharedKey: \"a long and secret shared key\"", authentication), environment);
    }

    static String problem(String authentication, Function<String, String> environment) {
        ConfigException e = assertThrows(ConfigException.class, () -> read(authentication, environment));
        assertEquals(1, e.getMessage().lines().count(), e.getMessage());
        return e.getMessage();
    }

    @Test
    void aSharedKeyComesFromTheCredentialsDirectory() throws Exception {
        Path credentials = credentials();
        GatewayConfig c = read("sharedKeyCredential: psk-branch", Map.of("CREDENTIALS_DIRECTORY", credentials.toString())::get);
        byte[] key = c.connections().getFirst().sharedKey();
        assertArrayEquals("a shared key from systemd".getBytes(StandardCharsets.US_ASCII), key, "the final newline is not part of the key");
        c.destroySecrets();
        assertArrayEquals(new byte[key.length], key, "wiped with the others when the gateway stops");
    }

    @Test
    void withoutSystemdTheFieldSaysWhatIsMissing() {
        assertEquals("gw.yaml: connections[0].sharedKeyCredential: $CREDENTIALS_DIRECTORY is not set: systemd sets it for a service with"
                + " LoadCredential=psk-branch:PATH (or SetCredential=); outside systemd use sharedKeyFile, or systemd-run -p LoadCredential=...",
                problem("sharedKeyCredential: psk-branch", Map.<String, String>of()::get));
        assertEquals("gw.yaml: connections[0].sharedKeyCredential: $CREDENTIALS_DIRECTORY 'relative/dir' is not an absolute path",
                problem("sharedKeyCredential: psk-branch", Map.of("CREDENTIALS_DIRECTORY", "relative/dir")::get));
    }

    @Test
    void aCredentialTheUnitDoesNotLoadIsNamed() throws Exception {
        Path credentials = credentials();
        assertEquals("gw.yaml: connections[0].sharedKeyCredential: no credential 'psk-other' in " + credentials
                + ": the unit needs LoadCredential=psk-other:PATH",
                problem("sharedKeyCredential: psk-other", Map.of("CREDENTIALS_DIRECTORY", credentials.toString())::get));
        assertEquals("gw.yaml: connections[0].sharedKeyCredential: must not be empty",
                problem("sharedKeyCredential: ''", Map.of("CREDENTIALS_DIRECTORY", credentials.toString())::get));
    }

    /** A name is a file in the directory, never a way out of it. */
    @ParameterizedTest
    @ValueSource(strings = {"../../../etc/shadow", "a/b", ".", "..", "\"psk\\nMAINPID=1\"", "\"with space\""})
    void aNameThatIsNotACredentialsIsRefused(String name) throws Exception {
        Path credentials = credentials();
        Files.writeString(dir.resolve("credentials/outside"), "not for the gateway");
        String p = problem("sharedKeyCredential: " + name, Map.of("CREDENTIALS_DIRECTORY", credentials.toString())::get);
        assertTrue(p.startsWith("gw.yaml: connections[0].sharedKeyCredential: '"), p);
        assertTrue(p.endsWith("' is not a credential name: a file name of printable characters, without '/', as in LoadCredential=NAME:PATH"), p);
    }

    @Test
    void aCredentialOthersMayReadIsRefusedAsAKeyFileIs() throws Exception {
        Path credentials = credentials();
        Path psk = credentials.resolve("psk-branch");
        Files.setPosixFilePermissions(psk, PosixFilePermissions.fromString("rw-r--r--"));
        String p = problem("sharedKeyCredential: psk-branch", Map.of("CREDENTIALS_DIRECTORY", credentials.toString())::get);
        assertEquals("gw.yaml: connections[0].sharedKeyCredential: " + psk + " has mode 0644, which lets group and others read it; a key file must"
                + " be for its owner alone, as ssh requires of a private key: chmod 600 " + psk, p);
        assertTrue(!p.contains("from systemd"), "the key itself is never shown");
    }

    @Test
    void aCredentialThatIsNotAKeyIsRefusedWithoutShowingIt() throws Exception {
        Path credentials = credentials();
        Path psk = credentials.resolve("psk-branch");
        Files.setPosixFilePermissions(psk, PosixFilePermissions.fromString("rw-------"));
        Files.writeString(psk, "secret\u0001with a control character");
        String p = problem("sharedKeyCredential: psk-branch", Map.of("CREDENTIALS_DIRECTORY", credentials.toString())::get);
        assertEquals("gw.yaml: connections[0].sharedKeyCredential: a shared key is 1 to 128 printable ASCII characters", p);
    }

    @Test
    void onlyOneWayToAuthenticate() throws Exception {
        Path credentials = credentials();
        assertEquals("gw.yaml: connections[0]: only one of [sharedKeyEnv, sharedKeyCredential] may be given",
                problem("sharedKeyEnv: X\n    sharedKeyCredential: psk-branch", Map.of("CREDENTIALS_DIRECTORY", credentials.toString())::get));
    }

    @Test
    void aCertificatesPrivateKeyMayBeACredentialToo() throws Exception {
        Path credentials = credentials();
        Path key = credentials.resolve("gw.key");
        Files.writeString(key, "private key");
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("r--------"));
        Files.writeString(dir.resolve("gw.crt"), "certificate");
        Files.writeString(dir.resolve("ca.crt"), "CA");
        String certificate = """
                certificateAuthentication:
                      outboundAuthCertificate: %s
                      %s
                      inboundAuthCertificateChain: [%s]""";
        Function<String, String> environment = Map.of("CREDENTIALS_DIRECTORY", credentials.toString())::get;
        GatewayConfig c = read(certificate.formatted(dir.resolve("gw.crt"), "privateKeyCredential: gw.key", dir.resolve("ca.crt")), environment);
        assertEquals(key, c.connections().getFirst().certificate().privateKey());

        assertEquals("gw.yaml: connections[0].certificateAuthentication: one of privateKey and privateKeyCredential, not both",
                problem(certificate.formatted(dir.resolve("gw.crt"), "privateKeyCredential: gw.key\n      privateKey: " + key, dir.resolve("ca.crt")),
                        environment));
        assertEquals("gw.yaml: connections[0].certificateAuthentication.privateKeyCredential: no credential 'gw.pem' in " + credentials
                + ": the unit needs LoadCredential=gw.pem:PATH",
                problem(certificate.formatted(dir.resolve("gw.crt"), "privateKeyCredential: gw.pem", dir.resolve("ca.crt")), environment));
    }
}
