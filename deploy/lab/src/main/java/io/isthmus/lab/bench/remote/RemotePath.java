package io.isthmus.lab.bench.remote;

import io.isthmus.lab.Pairing;
import java.util.Arrays;
import java.util.List;

/**
 * What carries the traffic between the two machines' sites in one row of the two-machine bench:
 * what runs on gateway-a and on gateway-b. The ids are those of the namespace bench where the
 * path is the same ({@code isthmus-aes128gcm}), so rows of the two compare by id.
 */
public enum RemotePath {
    PLAIN_ROUTING("plain routing", Kind.PLAIN, Kind.PLAIN, null, false,
            "no tunnel: each machine routes the other's site prefix to the other's address (needs them on one link)"),
    ISTHMUS_AES128GCM("isthmus aes128gcm16", Kind.ISTHMUS, Kind.ISTHMUS, "GCMAES128", true,
            "Isthmus to Isthmus, AES-GCM-128, ESP in UDP (forceUdpEncapsulation: the kernel's UDP GSO/GRO apply)"),
    ISTHMUS_RAW_ESP("isthmus aes128gcm16 raw ESP", Kind.ISTHMUS, Kind.ISTHMUS, "GCMAES128", false,
            "Isthmus to Isthmus, AES-GCM-128, ESP as IP protocol 50: what Isthmus uses when no NAT lies between"),
    ISTHMUS_AES256GCM("isthmus aes256gcm16", Kind.ISTHMUS, Kind.ISTHMUS, "GCMAES256", true,
            "Isthmus to Isthmus, AES-GCM-256, ESP in UDP"),
    ISTHMUS_CHACHA20POLY1305("isthmus chacha20poly1305", Kind.ISTHMUS, Kind.ISTHMUS, "ChaCha20Poly1305", true,
            "Isthmus to Isthmus, ChaCha20-Poly1305, ESP in UDP"),
    ISTHMUS_STRONGSWAN("isthmus - strongswan", Kind.ISTHMUS, Kind.STRONGSWAN, "GCMAES128", false,
            "Isthmus (gateway-a) to strongSwan (gateway-b), AES-GCM-128"),
    STRONGSWAN_STRONGSWAN("strongswan - strongswan", Kind.STRONGSWAN, Kind.STRONGSWAN, null, false,
            "strongSwan both ends, AES-GCM-128"),
    WIREGUARD_GO("wireguard-go", Kind.WIREGUARD, Kind.WIREGUARD, null, false,
            "wireguard-go both ends, ChaCha20-Poly1305, MTU 1420");

    /** What runs on one machine for a path. */
    public enum Kind { PLAIN, ISTHMUS, STRONGSWAN, WIREGUARD }

    /** wireguard-go's UDP port in the bench: not 51820, which a WireGuard of the machine's own may hold. */
    public static final int WIREGUARD_PORT = 51899;

    final String label;
    final Kind a;
    final Kind b;
    /** Isthmus's ESP cipher (ipsecEncryption and ipsecIntegrity), null where no Isthmus runs. */
    final String espCipher;
    final boolean udpEncapsulation;
    final String description;

    RemotePath(String label, Kind a, Kind b, String espCipher, boolean udpEncapsulation, String description) {
        this.label = label;
        this.a = a;
        this.b = b;
        this.espCipher = espCipher;
        this.udpEncapsulation = udpEncapsulation;
        this.description = description;
    }

    /** A path by its id ({@code isthmus-raw-esp}); fails naming every allowed id. */
    public static RemotePath parse(String text) {
        for (RemotePath p : values()) {
            if (p.id().equals(text.strip())) {
                return p;
            }
        }
        throw new IllegalArgumentException("no path '" + MachineFacts.abbreviate(text) + "'; allowed: "
                + String.join(", ", Arrays.stream(values()).map(RemotePath::id).toList()));
    }

    public String id() {
        return name().toLowerCase().replace('_', '-');
    }

    public String label() {
        return label;
    }

    /** What runs on gateway-a ({@code a}) or gateway-b. */
    public Kind kind(boolean a) {
        return a ? this.a : this.b;
    }

    /** Isthmus's IPsec/IKE policy for this path: the lab's, with this path's ESP cipher (IKE stays AES-GCM-128). */
    String isthmusPolicy() {
        return Pairing.POLICY.replace("ipsecEncryption: GCMAES128", "ipsecEncryption: " + espCipher)
                .replace("ipsecIntegrity: GCMAES128", "ipsecIntegrity: " + espCipher);
    }

    /** Every path, plain routing first: the baseline every other row is a ratio to. */
    public static final List<RemotePath> DEFAULT = List.of(values());
}
