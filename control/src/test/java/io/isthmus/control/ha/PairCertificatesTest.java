package io.isthmus.control.ha;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.control.Pem;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.Signature;
import java.security.cert.X509Certificate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PairCertificatesTest {
    @TempDir
    Path dir;

    @Test
    void aGeneratedPairReadsBackAndItsKeyMatches() throws Exception {
        Path cert = dir.resolve("a.pem");
        Path key = dir.resolve("a.key");
        X509Certificate made = PairCertificates.generate("gw-a", cert, key);
        X509Certificate read = Pem.certificate(cert);
        assertEquals(made, read);
        assertTrue(read.getSubjectX500Principal().getName().contains("CN=gw-a"));
        read.verify(read.getPublicKey());
        Signature s = Signature.getInstance("SHA256withECDSA");
        s.initSign(Pem.privateKey(key));
        s.update(new byte[] {1});
        byte[] sig = s.sign();
        s.initVerify(read);
        s.update(new byte[] {1});
        assertTrue(s.verify(sig));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(key)));
    }

    @Test
    void existingFilesAreNotOverwritten() throws Exception {
        Path cert = dir.resolve("a.pem");
        Path key = dir.resolve("a.key");
        PairCertificates.generate("a", cert, key);
        byte[] before = Files.readAllBytes(key);
        assertThrows(FileAlreadyExistsException.class, () -> PairCertificates.generate("a", cert, dir.resolve("other.key")));
        assertThrows(FileAlreadyExistsException.class, () -> PairCertificates.generate("a", dir.resolve("o.pem"), key));
        assertEquals(new String(before), new String(Files.readAllBytes(key)));
    }
}
