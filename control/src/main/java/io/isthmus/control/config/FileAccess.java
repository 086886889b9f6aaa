package io.isthmus.control.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Who besides its owner may use a file, from its mode bits, as ssh judges a private key's. The
 * bits, not a trial read: the gateway runs as root, which reads everything anyway.
 */
record FileAccess(Path file, Set<PosixFilePermission> permissions) {

    /** The file's permissions, or null where the file system has no POSIX modes (nothing to judge then). */
    static FileAccess of(Path file) throws IOException {
        try {
            return new FileAccess(file, Files.getPosixFilePermissions(file));
        } catch (UnsupportedOperationException e) {
            return null;
        }
    }

    /** From the mode bits of a stat of the very file that was read. */
    static FileAccess ofMode(Path file, int mode) {
        Set<PosixFilePermission> permissions = java.util.EnumSet.noneOf(PosixFilePermission.class);
        for (PosixFilePermission p : PosixFilePermission.values()) {
            if ((mode & (0400 >>> p.ordinal())) != 0) {
                permissions.add(p);
            }
        }
        return new FileAccess(file, permissions);
    }

    /** As ls and chmod write it, e.g. 0644. */
    String mode() {
        int bits = 0;
        for (PosixFilePermission p : permissions) {
            bits |= 0400 >>> p.ordinal();
        }
        return String.format("%04o", bits);
    }

    /** Whether group or others may read it. */
    boolean readableByOthers() {
        return permissions.contains(PosixFilePermission.GROUP_READ) || permissions.contains(PosixFilePermission.OTHERS_READ);
    }

    /**
     * Whether group or others may do anything with it: what ssh refuses in a private key, since
     * one who may write the key may replace it.
     */
    boolean openToOthers() {
        return permissions.stream().anyMatch(p -> p.ordinal() >= PosixFilePermission.GROUP_READ.ordinal());
    }

    /** What group and others may do, e.g. "lets group and others read it", "lets others write it". */
    String othersMay() {
        List<String> who = new ArrayList<>();
        List<String> what = new ArrayList<>();
        for (String whom : List.of("GROUP", "OTHERS")) {
            boolean any = false;
            for (String action : List.of("READ", "WRITE", "EXECUTE")) {
                if (permissions.contains(PosixFilePermission.valueOf(whom + "_" + action))) {
                    any = true;
                    String verb = action.equals("READ") ? "read" : action.equals("WRITE") ? "write" : "execute";
                    if (!what.contains(verb)) {
                        what.add(verb);
                    }
                }
            }
            if (any) {
                who.add(whom.equals("GROUP") ? "group" : "others");
            }
        }
        return "lets " + String.join(" and ", who) + " " + String.join(" and ", what) + " it";
    }
}
