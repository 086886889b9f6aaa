package io.isthmus.ike;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.ike.remoteaccess.RevokedCertificates;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Client certificates refused by their SHA-1 thumbprint, however the operator spelt it. */
class RevokedCertificatesTest {
    @Test
    void aRevokedThumbprintIsRefusedAndOthersNot() throws Exception {
        TestPki.Issued ca = TestPki.ca("CN=p2s root", "ecp256");
        TestPki.Issued lost = TestPki.gateway(ca, "CN=lost laptop", "ecp256", "lost.example");
        TestPki.Issued kept = TestPki.gateway(ca, "CN=kept laptop", "ecp256", "kept.example");
        String thumbprint = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(lost.certificate().getEncoded()));
        assertEquals(thumbprint.toUpperCase(), RevokedCertificates.thumbprint(lost.certificate()));
        RevokedCertificates revoked = new RevokedCertificates(List.of(thumbprint.toLowerCase()));
        assertTrue(revoked.refuses(lost.certificate()));
        assertFalse(revoked.refuses(kept.certificate()));
        assertFalse(new RevokedCertificates(List.of()).refuses(lost.certificate()));
        assertThrows(IllegalArgumentException.class, () -> new RevokedCertificates(List.of("5A1B")));
    }
}
