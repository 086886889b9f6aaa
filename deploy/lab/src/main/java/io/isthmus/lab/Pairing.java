package io.isthmus.lab;

import io.isthmus.lab.Lab.Side;
import io.isthmus.lab.LabGateways.IsthmusOptions;
import java.io.IOException;

/**
 * Which gateways a lab runs, site A's first; "strongswan-isthmus" has strongSwan at A initiate
 * towards Isthmus at B. All use AES-GCM-128 for ESP, so throughputs compare like with like.
 */
public enum Pairing {
    ISTHMUS_ISTHMUS, ISTHMUS_STRONGSWAN, STRONGSWAN_ISTHMUS, STRONGSWAN_STRONGSWAN;

    public static final String POLICY = """
            ikeEncryption: GCMAES128
            ikeIntegrity: SHA256
            dhGroup: ECP256
            ipsecEncryption: GCMAES128
            ipsecIntegrity: GCMAES128
            pfsGroup: None
            """;
    static final String SW_IKE = "aes128gcm16-prfsha256-ecp256";
    static final String SW_ESP = "aes128gcm16";

    public static Pairing parse(String text) {
        return valueOf(text.toUpperCase().replace('-', '_'));
    }

    public String label() {
        return name().toLowerCase().replace('_', '-');
    }

    /** Starts both gateways: A initiates, B responds. */
    public void start(Lab lab) throws IOException, InterruptedException {
        start(lab, POLICY, o -> o);
    }

    /**
     * Starts both gateways with this Isthmus IPsec/IKE policy (strongSwan gateways keep
     * AES-GCM-128) and Isthmus's options adjusted.
     */
    public void start(Lab lab, String policy, java.util.function.UnaryOperator<IsthmusOptions> adjust) throws IOException, InterruptedException {
        boolean isthmusB = this == ISTHMUS_ISTHMUS || this == STRONGSWAN_ISTHMUS;
        boolean isthmusA = this == ISTHMUS_ISTHMUS || this == ISTHMUS_STRONGSWAN;
        if (isthmusB) {
            LabGateways.startIsthmus(lab, Side.B, LabGateways.isthmusConfig(lab, Side.B, adjust.apply(new IsthmusOptions("ResponderOnly", policy))));
        } else {
            LabGateways.startStrongSwan(lab, Side.B, LabGateways.strongSwanConfig(lab, Side.B, false, SW_IKE, SW_ESP));
        }
        if (isthmusB) {
            Thread.sleep(1500); // listening before the first IKE_SA_INIT comes
        }
        if (isthmusA) {
            LabGateways.startIsthmus(lab, Side.A, LabGateways.isthmusConfig(lab, Side.A, adjust.apply(new IsthmusOptions("InitiatorOnly", policy))));
        } else {
            LabGateways.startStrongSwan(lab, Side.A, LabGateways.strongSwanConfig(lab, Side.A, true, SW_IKE, SW_ESP));
        }
    }
}
