package io.isthmus.control;

import io.isthmus.dataplane.Dataplane;
import io.isthmus.esp.CipherSuite;
import java.io.IOException;
import java.net.Inet4Address;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A capture's keys, written for Wireshark beside its file, as strongSwan's save-keys plugin does:
 * the ESP SAs as Wireshark's {@code esp_sa} table and the IKE SAs as its
 * {@code ikev2_decryption_table} (copy both into the Wireshark profile, or pass them to tshark with
 * {@code -o uat:...}; ESP also needs {@code esp.enable_encryption_decode:TRUE}). Mode 0600, each
 * file replaced whole as SAs are added (a rekey during the capture), and a warning logged the
 * first time: whoever reads them can decrypt what the capture holds, and more.
 *
 * <p>The algorithm names are Wireshark's (4.0, Debian 12's): AES-GCM keys with their 4-byte
 * salt, ESP's GCM with "NULL" authentication (strongSwan's own GCM line is refused by 4.0).
 * ChaCha20-Poly1305, which Wireshark 4.0 cannot decrypt, is left out and said so.
 */
final class KeyExport {
    private static final System.Logger LOG = System.getLogger("io.isthmus.control");
    private static final HexFormat HEX = HexFormat.of();

    /** One IKE SA's keys as Wireshark's table wants them. */
    record IkeKeys(long initiatorSpi, long responderSpi, CipherSuite suite, byte[] skEi, byte[] skEr, byte[] skAi, byte[] skAr) {
    }

    /** What a look at the gateway found: ESP SA directions and IKE SAs. */
    record Keys(List<Dataplane.ExportedKeys> esp, List<IkeKeys> ike) {
    }

    private final Path espSa;
    private final Path ike;
    private final String connection;
    /** Lines by SPI (ESP) or SPI pair (IKE): an SA is written once, and stays after it is gone (the capture still holds its packets). */
    private final Map<String, String> espLines = new LinkedHashMap<>();
    private final Map<String, String> ikeLines = new LinkedHashMap<>();
    private boolean warned;

    KeyExport(Path capture, String connection) {
        String base = capture.toString().substring(0, capture.toString().length() - ".pcapng".length());
        this.espSa = Path.of(base + ".esp_sa");
        this.ike = Path.of(base + ".ikev2_decryption_table");
        this.connection = connection;
    }

    Path espSaFile() {
        return espSa;
    }

    Path ikeFile() {
        return ike;
    }

    /** The connection whose keys are exported, or null for all. */
    String connection() {
        return connection;
    }

    /** Adds the SAs not yet written and rewrites the files if there were any; wipes the copies it was given. */
    synchronized void add(Keys keys) throws IOException {
        boolean more = false;
        try {
            for (Dataplane.ExportedKeys k : keys.esp()) {
                String id = String.format("%08x %s", k.spi(), k.destination());
                if (!espLines.containsKey(id) && k.encryptionKey().length > 0) {
                    String line = espLine(k);
                    if (line != null) {
                        espLines.put(id, line);
                        more = true;
                    }
                }
            }
            for (IkeKeys k : keys.ike()) {
                String id = String.format("%016x %016x", k.initiatorSpi(), k.responderSpi());
                if (!ikeLines.containsKey(id)) {
                    String line = ikeLine(k);
                    if (line != null) {
                        ikeLines.put(id, line);
                        more = true;
                    }
                }
            }
        } finally {
            for (Dataplane.ExportedKeys k : keys.esp()) {
                java.util.Arrays.fill(k.encryptionKey(), (byte) 0);
                java.util.Arrays.fill(k.integrityKey(), (byte) 0);
            }
            for (IkeKeys k : keys.ike()) {
                for (byte[] b : new byte[][] {k.skEi(), k.skEr(), k.skAi(), k.skAr()}) {
                    java.util.Arrays.fill(b, (byte) 0);
                }
            }
        }
        if (!more && warned) {
            return;
        }
        write(espSa, espLines.values());
        write(ike, ikeLines.values());
        if (!warned) {
            warned = true;
            LOG.log(System.Logger.Level.WARNING, "capture: the keys of {0} ESP SA direction(s) and {1} IKE SA(s) written to {2} and {3} (mode 0600): "
                    + "whoever reads them can decrypt this gateway''s traffic; delete them when done", espLines.size(), ikeLines.size(), espSa, ike);
        }
    }

    /** {@code "IPv4","src","dst","0xspi","AES-GCM with 16 octet ICV [RFC4106]","0xkey+salt","NULL",""}, or null for a suite Wireshark cannot decrypt. */
    static String espLine(Dataplane.ExportedKeys k) {
        CipherSuite s = k.suite();
        String encryption = switch (s.encryption()) {
            case AES_GCM_16 -> "AES-GCM with 16 octet ICV [RFC4106]";
            case AES_CBC -> "AES-CBC [RFC3602]";
            case CHACHA20_POLY1305 -> null;
        };
        String integrity = switch (s.integrity()) {
            case NONE -> "NULL";
            case HMAC_SHA2_256_128 -> "HMAC-SHA-256-128 [RFC4868]";
            case HMAC_SHA2_384_192 -> "HMAC-SHA-384-192 [RFC4868]";
            case HMAC_SHA2_512_256 -> "HMAC-SHA-512-256 [RFC4868]";
        };
        if (encryption == null) {
            LOG.log(System.Logger.Level.WARNING, "capture: ESP SA {0} uses {1}, which Wireshark 4.0 cannot decrypt: its keys are not exported",
                    String.format("%08x", k.spi()), s);
            return null;
        }
        String family = k.source().getAddress() instanceof Inet4Address ? "IPv4" : "IPv6";
        return String.format("\"%s\",\"%s\",\"%s\",\"0x%08x\",\"%s\",\"0x%s\",\"%s\",\"%s\"", family, text(k.source().getAddress()),
                text(k.destination().getAddress()), k.spi(), encryption, HEX.formatHex(k.encryptionKey()), integrity,
                k.integrityKey().length == 0 ? "" : "0x" + HEX.formatHex(k.integrityKey()));
    }

    /** {@code spi_i,spi_r,SK_ei,SK_er,"encryption",SK_ai,SK_ar,"integrity"}, hex without 0x, or null for a suite Wireshark cannot decrypt. */
    static String ikeLine(IkeKeys k) {
        CipherSuite s = k.suite();
        String encryption = switch (s.encryption()) {
            case AES_GCM_16 -> "AES-GCM-" + s.keyBits() + " with 16 octet ICV [RFC5282]";
            case AES_CBC -> "AES-CBC-" + s.keyBits() + " [RFC3602]";
            case CHACHA20_POLY1305 -> null;
        };
        if (encryption == null) {
            return null;
        }
        String integrity = switch (s.integrity()) {
            case NONE -> "NONE [RFC4306]";
            case HMAC_SHA2_256_128 -> "HMAC_SHA2_256_128 [RFC4868]";
            case HMAC_SHA2_384_192 -> "HMAC_SHA2_384_192 [RFC4868]";
            case HMAC_SHA2_512_256 -> "HMAC_SHA2_512_256 [RFC4868]";
        };
        return String.format("%016x,%016x,%s,%s,\"%s\",%s,%s,\"%s\"", k.initiatorSpi(), k.responderSpi(), HEX.formatHex(k.skEi()),
                HEX.formatHex(k.skEr()), encryption, HEX.formatHex(k.skAi()), HEX.formatHex(k.skAr()), integrity);
    }

    /** An address as Wireshark's tables write it: IPv6 compressed ({@code fd00::1}), which Java's own text is not. */
    static String text(java.net.InetAddress a) {
        return io.isthmus.ike.message.AddressText.of(a.getAddress());
    }

    private static void write(Path file, java.util.Collection<String> lines) throws IOException {
        Path temp = file.resolveSibling(file.getFileName() + ".new");
        Files.deleteIfExists(temp);
        Files.createFile(temp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(temp, lines.isEmpty() ? "" : String.join("\n", lines) + "\n", StandardCharsets.UTF_8);
        Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
