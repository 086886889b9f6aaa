package io.isthmus.esp;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.security.GeneralSecurityException;
import java.util.concurrent.TimeUnit;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.security.spec.AlgorithmParameterSpec;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The ceiling: the same AEAD through plain javax.crypto, the way most Java code would write it
 * (a fresh parameter spec and {@code Cipher.init} per packet, because the nonce changes), on
 * out-of-place buffers, with no ESP framing, padding, sequence numbers or replay window.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class JdkCipherBenchmark {
    private static final VarHandle LONG_BE = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);

    @Param({"aes128gcm16", "aes256gcm16", "chacha20poly1305"})
    public String suite;

    @Param({"64", "512", "1400", "9000"})
    public int size;

    private Cipher encryptor;
    private Cipher decryptor;
    private SecretKeySpec key;
    private final byte[] aad = new byte[8];
    private final byte[] nonce = new byte[12];
    private byte[] plaintext;
    private byte[] ciphertext;
    private byte[] sealedOnce;
    private byte[] sealedNonce;
    private long counter;

    @Setup
    public void create() throws GeneralSecurityException {
        boolean chacha = suite.startsWith("chacha");
        int keyBytes = suite.startsWith("aes256") || chacha ? 32 : 16;
        key = new SecretKeySpec(new byte[keyBytes], chacha ? "ChaCha20" : "AES");
        String transformation = chacha ? "ChaCha20-Poly1305" : "AES/GCM/NoPadding";
        encryptor = Cipher.getInstance(transformation);
        decryptor = Cipher.getInstance(transformation);
        plaintext = new byte[size];
        ciphertext = new byte[size + 16];
        sealedOnce = new byte[size + 16];
        seal();
        System.arraycopy(ciphertext, 0, sealedOnce, 0, sealedOnce.length);
        sealedNonce = nonce.clone();
    }

    private AlgorithmParameterSpec spec(byte[] n) {
        return suite.startsWith("chacha") ? new IvParameterSpec(n) : new GCMParameterSpec(128, n);
    }

    @Benchmark
    public int seal() throws GeneralSecurityException {
        LONG_BE.set(nonce, 4, ++counter);
        encryptor.init(Cipher.ENCRYPT_MODE, key, spec(nonce));
        encryptor.updateAAD(aad, 0, aad.length);
        return encryptor.doFinal(plaintext, 0, size, ciphertext, 0);
    }

    @Benchmark
    public int open() throws GeneralSecurityException {
        decryptor.init(Cipher.DECRYPT_MODE, key, spec(sealedNonce));
        decryptor.updateAAD(aad, 0, aad.length);
        return decryptor.doFinal(sealedOnce, 0, size + 16, plaintext, 0);
    }

    @Benchmark
    public int sealOpen() throws GeneralSecurityException {
        int n = seal();
        decryptor.init(Cipher.DECRYPT_MODE, key, spec(nonce));
        decryptor.updateAAD(aad, 0, aad.length);
        return decryptor.doFinal(ciphertext, 0, n, plaintext, 0);
    }
}
