package io.isthmus.control;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;

/**
 * Who may use the management API, decided from the connecting process's credentials
 * (SO_PEERCRED): root, the user the gateway runs as, and, when one is configured, the members of
 * a group (its primary or a supplementary group, read from /proc/PID/status, as the kernel keeps
 * them). Anyone else is refused, whatever the socket file's mode says.
 */
record ControlAccess(int ownUid, GroupPrincipal group, int groupGid) {

    /** Root and this process's user only. */
    static ControlAccess ownerOnly() {
        return new ControlAccess(currentUid(), null, -1);
    }

    /** Root, this process's user, and the members of {@code groupName} (an unknown group is an IOException naming it). */
    static ControlAccess withGroup(String groupName) throws IOException {
        GroupPrincipal g;
        try {
            g = java.nio.file.FileSystems.getDefault().getUserPrincipalLookupService().lookupPrincipalByGroupName(groupName);
        } catch (java.nio.file.attribute.UserPrincipalNotFoundException e) {
            throw new IOException("control socket: no group '" + groupName + "' on this machine (groupadd " + groupName + ", or change control.group)");
        }
        return new ControlAccess(currentUid(), g, gid(groupName));
    }

    boolean admits(int uid, int gid, int pid) {
        if (uid == 0 || uid == ownUid) {
            return true;
        }
        if (group == null) {
            return false;
        }
        return gid == groupGid || supplementaryGroups(pid).contains(groupGid);
    }

    /** Root or the gateway's own user: who has slots of their own. */
    boolean privileged(int uid) {
        return uid == 0 || uid == ownUid;
    }

    /** Who is admitted, for the log. */
    String describe() {
        String who = ownUid == 0 ? "root" : "root, uid " + ownUid;
        return group == null ? (ownUid == 0 ? "root" : "root and uid " + ownUid) : who + " and group " + group.getName();
    }

    private static int currentUid() {
        try {
            return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        } catch (IOException e) {
            return 0;
        }
    }

    private static int gid(String groupName) throws IOException {
        for (String line : Files.readAllLines(Path.of("/etc/group"))) {
            String[] f = line.split(":", -1);
            if (f.length >= 3 && f[0].equals(groupName)) {
                return Integer.parseInt(f[2]);
            }
        }
        // A group from NSS (LDAP, sssd) that /etc/group does not list: ask the file system, which resolves it.
        Path probe = Files.createTempFile("isthmus-gid", "");
        try {
            Files.setAttribute(probe, "posix:group", java.nio.file.FileSystems.getDefault().getUserPrincipalLookupService()
                    .lookupPrincipalByGroupName(groupName));
            return (Integer) Files.getAttribute(probe, "unix:gid");
        } finally {
            Files.deleteIfExists(probe);
        }
    }

    /** The process's supplementary groups; none when it has gone (it connected and left). */
    private static java.util.Set<Integer> supplementaryGroups(int pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                if (line.startsWith("Groups:")) {
                    java.util.Set<Integer> out = new java.util.HashSet<>();
                    for (String g : line.substring(7).trim().split("\\s+")) {
                        if (!g.isEmpty()) {
                            out.add(Integer.parseInt(g));
                        }
                    }
                    return out;
                }
            }
        } catch (IOException | NumberFormatException gone) {
            // refused: nothing proves membership
        }
        return java.util.Set.of();
    }
}
