package io.isthmus.control.config;

import io.isthmus.esp.CipherSuite;
import io.isthmus.esp.EncryptionAlgorithm;
import io.isthmus.esp.IntegrityAlgorithm;
import io.isthmus.ike.ChildProposal;
import io.isthmus.ike.IkeProposal;
import io.isthmus.ike.crypto.KeyExchangeMethod;
import io.isthmus.ike.crypto.PseudorandomFunction;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Azure's names for IPsec/IKE policy algorithms (a connection's custom ipsecPolicies: GCMAES256,
 * SHA384, ECP384, PFS2048 ...) and what each is to the engines, as typed values: no proposal
 * strings in between. Only what Azure offers and this gateway implements; the weak ones Azure
 * still lists (DES, 3DES, MD5, SHA1, DH groups 1, 2, 24) are refused by the reader with a reason.
 */
final class AzureAlgorithms {
    private AzureAlgorithms() {
    }

    /** An encryption algorithm with its key size. */
    record Cipher(EncryptionAlgorithm algorithm, int keyBits) {
        boolean isAead() {
            return algorithm.isAead();
        }
    }

    /** IKE integrity: the HMAC (none with an AEAD cipher) and the PRF it names. */
    record IkeIntegrity(IntegrityAlgorithm integrity, PseudorandomFunction prf) {
        /** GCMAES128/256 as IKE integrity: only with GCM encryption, naming the PRF. */
        boolean aeadOnly() {
            return integrity == IntegrityAlgorithm.NONE;
        }
    }

    static final Map<String, Cipher> IKE_ENCRYPTION = ordered("GCMAES256", new Cipher(EncryptionAlgorithm.AES_GCM_16, 256),
            "GCMAES128", new Cipher(EncryptionAlgorithm.AES_GCM_16, 128), "AES256", new Cipher(EncryptionAlgorithm.AES_CBC, 256),
            "AES192", new Cipher(EncryptionAlgorithm.AES_CBC, 192), "AES128", new Cipher(EncryptionAlgorithm.AES_CBC, 128),
            "CHACHA20POLY1305", new Cipher(EncryptionAlgorithm.CHACHA20_POLY1305, 256));
    /**
     * IKE integrity, each naming a PRF as Azure's do: SHA256 and SHA384 their HMAC and PRF;
     * GCMAES256 and GCMAES128 (with GCM encryption only) no HMAC and PRF-HMAC-SHA384 and
     * PRF-HMAC-SHA256, which Azure does not document and {@code ikePrf} overrides. SHA512 is an
     * Isthmus addition (Azure has no SHA512 for IKE).
     */
    static final Map<String, IkeIntegrity> IKE_INTEGRITY = ordered(
            "SHA384", new IkeIntegrity(IntegrityAlgorithm.HMAC_SHA2_384_192, PseudorandomFunction.HMAC_SHA2_384),
            "SHA256", new IkeIntegrity(IntegrityAlgorithm.HMAC_SHA2_256_128, PseudorandomFunction.HMAC_SHA2_256),
            "SHA512", new IkeIntegrity(IntegrityAlgorithm.HMAC_SHA2_512_256, PseudorandomFunction.HMAC_SHA2_512),
            "GCMAES256", new IkeIntegrity(IntegrityAlgorithm.NONE, PseudorandomFunction.HMAC_SHA2_384),
            "GCMAES128", new IkeIntegrity(IntegrityAlgorithm.NONE, PseudorandomFunction.HMAC_SHA2_256));
    static final Map<String, KeyExchangeMethod> DH_GROUP = ordered("ECP384", KeyExchangeMethod.ECP_384, "ECP256", KeyExchangeMethod.ECP_256,
            "DHGroup14", KeyExchangeMethod.MODP_2048, "DHGroup2048", KeyExchangeMethod.MODP_2048, "X25519", KeyExchangeMethod.CURVE25519);
    static final Map<String, Cipher> ESP_ENCRYPTION = ordered("GCMAES256", new Cipher(EncryptionAlgorithm.AES_GCM_16, 256),
            "GCMAES192", new Cipher(EncryptionAlgorithm.AES_GCM_16, 192), "GCMAES128", new Cipher(EncryptionAlgorithm.AES_GCM_16, 128),
            "AES256", new Cipher(EncryptionAlgorithm.AES_CBC, 256), "AES192", new Cipher(EncryptionAlgorithm.AES_CBC, 192),
            "AES128", new Cipher(EncryptionAlgorithm.AES_CBC, 128), "CHACHA20POLY1305", new Cipher(EncryptionAlgorithm.CHACHA20_POLY1305, 256));
    /** ESP integrity; NONE for the AEAD names, which Azure repeats as integrity. */
    static final Map<String, IntegrityAlgorithm> ESP_INTEGRITY = ordered("GCMAES256", IntegrityAlgorithm.NONE,
            "GCMAES192", IntegrityAlgorithm.NONE, "GCMAES128", IntegrityAlgorithm.NONE, "SHA256", IntegrityAlgorithm.HMAC_SHA2_256_128,
            "SHA384", IntegrityAlgorithm.HMAC_SHA2_384_192, "SHA512", IntegrityAlgorithm.HMAC_SHA2_512_256,
            "CHACHA20POLY1305", IntegrityAlgorithm.NONE);
    /** {@code ikePrf}, an Isthmus addition: the PRF when the one ikeIntegrity names is not the one wanted. */
    static final Map<String, PseudorandomFunction> IKE_PRF = ordered("SHA256", PseudorandomFunction.HMAC_SHA2_256,
            "SHA384", PseudorandomFunction.HMAC_SHA2_384, "SHA512", PseudorandomFunction.HMAC_SHA2_512);

    /** {@code esn}, an Isthmus addition (see {@link GatewayConfig.Esn}). */
    static final Map<String, GatewayConfig.Esn> ESN = ordered("both", GatewayConfig.Esn.BOTH, "enabled", GatewayConfig.Esn.ENABLED,
            "disabled", GatewayConfig.Esn.DISABLED);

    /** PFS groups; "None" is no PFS (an empty Optional would not fit a map of choices, so a marker). */
    static final Map<String, KeyExchangeMethod> PFS_GROUP = ordered("None", null, "ECP384", KeyExchangeMethod.ECP_384,
            "ECP256", KeyExchangeMethod.ECP_256, "PFS2048", KeyExchangeMethod.MODP_2048, "PFS14", KeyExchangeMethod.MODP_2048,
            "X25519", KeyExchangeMethod.CURVE25519);

    /** What a gateway without a custom policy offers, Azure's defaults that this gateway implements, most preferred first. */
    static final List<IkeProposal> DEFAULT_IKE = List.of(
            ike(IKE_ENCRYPTION.get("GCMAES256"), IKE_INTEGRITY.get("SHA384"), KeyExchangeMethod.ECP_384),
            ike(IKE_ENCRYPTION.get("AES256"), IKE_INTEGRITY.get("SHA256"), KeyExchangeMethod.MODP_2048),
            ike(IKE_ENCRYPTION.get("GCMAES128"), IKE_INTEGRITY.get("SHA256"), KeyExchangeMethod.CURVE25519));
    /** Each with ESN first and without next, as a policy's default {@code esn: both}. */
    static final List<ChildProposal> DEFAULT_ESP = java.util.stream.Stream.of(
            esp(ESP_ENCRYPTION.get("GCMAES256"), IntegrityAlgorithm.NONE, null),
            esp(ESP_ENCRYPTION.get("GCMAES128"), IntegrityAlgorithm.NONE, null),
            esp(ESP_ENCRYPTION.get("AES256"), IntegrityAlgorithm.HMAC_SHA2_256_128, null))
            .flatMap(p -> GatewayConfig.Esn.BOTH.offered().stream().map(e -> new ChildProposal(p.cipher(), e, p.pfs()))).toList();

    /** An IKE proposal; with an AEAD cipher the integrity only names the PRF. */
    static IkeProposal ike(Cipher cipher, IkeIntegrity integrity, KeyExchangeMethod group) {
        return ike(cipher, integrity, null, group);
    }

    /** As {@link #ike(Cipher, IkeIntegrity, KeyExchangeMethod)}, with the PRF given apart ({@code ikePrf}; null: the one the integrity names). */
    static IkeProposal ike(Cipher cipher, IkeIntegrity integrity, PseudorandomFunction prf, KeyExchangeMethod group) {
        IntegrityAlgorithm mac = cipher.isAead() ? IntegrityAlgorithm.NONE : integrity.integrity();
        return new IkeProposal(new CipherSuite(cipher.algorithm(), cipher.keyBits(), mac), prf != null ? prf : integrity.prf(), group);
    }

    static ChildProposal esp(Cipher cipher, IntegrityAlgorithm integrity, KeyExchangeMethod pfs) {
        return new ChildProposal(new CipherSuite(cipher.algorithm(), cipher.keyBits(), cipher.isAead() ? IntegrityAlgorithm.NONE : integrity),
                false, pfs);
    }

    /** Names to values in the order given (the order error messages list the allowed names in); for ConfigReader's other choices too. */
    @SuppressWarnings("unchecked")
    static <T> Map<String, T> ordered(Object... pairs) {
        Map<String, T> m = new LinkedHashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            m.put((String) pairs[i], (T) pairs[i + 1]);
        }
        return m;
    }
}
