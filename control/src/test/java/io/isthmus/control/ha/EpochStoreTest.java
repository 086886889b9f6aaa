package io.isthmus.control.ha;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EpochStoreTest {
    @TempDir
    Path dir;

    @Test
    void epochsSurviveARestartAndNeverGoBack() throws Exception {
        Path file = dir.resolve("epochs");
        EpochStore odd = EpochStore.open(file, true);
        assertEquals(1, odd.takeOver("g"));
        assertEquals(3, odd.takeOver("g"));
        assertTrue(odd.observe("g", 6));
        assertFalse(odd.observe("g", 4), "a lower epoch heard later changes nothing");
        assertEquals(7, odd.takeOver("g"));
        assertEquals(1, odd.takeOver("h"));

        EpochStore again = EpochStore.open(file, true);
        assertEquals(7, again.highest("g"));
        assertEquals(1, again.highest("h"));
        assertEquals(9, again.takeOver("g"), "a restarted instance never takes an epoch it took before");
        assertFalse(Files.exists(dir.resolve("epochs.new")));
    }

    @Test
    void theTwoInstancesTakeEpochsOfDifferentParity() throws Exception {
        EpochStore odd = EpochStore.open(dir.resolve("a"), true);
        EpochStore even = EpochStore.open(dir.resolve("b"), false);
        assertEquals(1, odd.takeOver("g"));
        assertEquals(2, even.takeOver("g"));
        even.observe("g", 5);
        odd.observe("g", 2);
        assertEquals(3, odd.takeOver("g"));
        assertEquals(6, even.takeOver("g"));
        assertTrue(odd.isOwn(3));
        assertFalse(odd.isOwn(2));
        assertFalse(even.isOwn(0));
    }

    @Test
    void anAbsentFileIsANewInstance() throws Exception {
        assertEquals(0, EpochStore.open(dir.resolve("none"), false).highest("g"));
    }

    @Test
    void aTruncatedFileStopsTheStart() throws Exception {
        Path file = written();
        byte[] whole = Files.readAllBytes(file);
        for (int cut : new int[] {0, 5, whole.length / 2, whole.length - 3, whole.length - 1}) {
            Files.write(file, Arrays.copyOf(whole, cut));
            IOException e = assertThrows(IOException.class, () -> EpochStore.open(file, true), "cut at " + cut);
            assertTrue(e.getMessage().contains("damaged") && e.getMessage().contains("Refusing to start"), e.getMessage());
        }
    }

    @Test
    void anEditedOrForeignFileStopsTheStart() throws Exception {
        Path file = written();
        String text = Files.readString(file);
        Files.writeString(file, text.replace("g 3", "g 1"));
        assertTrue(assertThrows(IOException.class, () -> EpochStore.open(file, true)).getMessage().contains("checksum"));
        Files.write(file, "\u0000\u0001garbage".getBytes(StandardCharsets.UTF_8));
        assertThrows(IOException.class, () -> EpochStore.open(file, true));
    }

    private Path written() throws IOException {
        Path file = dir.resolve("epochs");
        EpochStore s = EpochStore.open(file, true);
        s.takeOver("g");
        s.takeOver("g");
        s.observe("other", 4);
        return file;
    }
}
