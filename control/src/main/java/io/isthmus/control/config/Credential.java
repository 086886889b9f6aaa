package io.isthmus.control.config;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.function.Function;

/**
 * A systemd credential: a secret the service manager hands to the service as a file named for
 * it in {@code $CREDENTIALS_DIRECTORY} ({@code LoadCredential=psk-branch:/etc/isthmus/psk-branch},
 * {@code LoadCredentialEncrypted=}, {@code SetCredential=}), in a directory only the service may
 * read, gone when it stops. The key then never sits in the configuration or the environment, and
 * the unit, not the file, says where it comes from. Read like a key file once found.
 */
final class Credential {
    private Credential() {
    }

    /**
     * The file of credential {@code name}, given {@code environment}; an IllegalArgumentException
     * with one line for the operator when the name is not a credential's, the service has no
     * credentials, or not this one.
     */
    static Path file(String name, Function<String, String> environment) {
        // A file name, as systemd requires of a credential's: nothing that leads out of the directory.
        if (name.isEmpty() || name.length() > 255 || name.equals(".") || name.equals("..") || name.contains("/")
                || !name.chars().allMatch(c -> c > 0x20 && c < 0x7F)) {
            throw new IllegalArgumentException("'" + printable(name) + "' is not a credential name: a file name of printable characters,"
                    + " without '/', as in LoadCredential=NAME:PATH");
        }
        String directory = environment.apply("CREDENTIALS_DIRECTORY");
        if (directory == null || directory.isEmpty()) {
            throw new IllegalArgumentException("$CREDENTIALS_DIRECTORY is not set: systemd sets it for a service with LoadCredential=" + name
                    + ":PATH (or SetCredential=); outside systemd use sharedKeyFile, or systemd-run -p LoadCredential=...");
        }
        Path dir = Path.of(directory);
        if (!dir.isAbsolute()) {
            throw new IllegalArgumentException("$CREDENTIALS_DIRECTORY '" + printable(directory) + "' is not an absolute path");
        }
        Path file = dir.resolve(name);
        if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
            throw new IllegalArgumentException("no credential '" + name + "' in " + dir + ": the unit needs LoadCredential=" + name + ":PATH");
        }
        return file;
    }

    private static String printable(String s) {
        StringBuilder b = new StringBuilder();
        s.codePoints().limit(100).forEach(c -> b.append(c < 0x20 || c == 0x7F ? "\\x%02x".formatted(c) : Character.toString(c)));
        return b.toString();
    }
}
