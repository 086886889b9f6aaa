package io.isthmus.control;

import java.io.IOException;
import java.net.BindException;
import java.net.ConnectException;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.FileChannel;
import java.nio.channels.OverlappingFileLockException;
import java.nio.channels.SocketChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Objects;

/**
 * The control socket's path, owned by one gateway: a socket someone still listens on is never
 * taken over (deleting it would silently cut that gateway off from {@code isthmus status}), a
 * stale one (a gateway killed with SIGKILL) is replaced, anything that is not a socket is left
 * alone, and a lock on PATH.lock, held while the gateway runs, keeps two gateways starting
 * together from both finding it stale.
 */
final class SocketFile implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("io.isthmus.control");
    private final Path path;
    private final FileChannel lock;
    private Object fileKey;

    private SocketFile(Path path, FileChannel lock) {
        this.path = path;
        this.lock = lock;
    }

    /** The path, free to bind: its directory made, its lock held, a stale socket removed; or a BindException in one line. */
    static SocketFile claim(Path path) throws IOException {
        try {
            Files.createDirectories(path.toAbsolutePath().getParent());
        } catch (AccessDeniedException e) {
            throw new BindException("cannot create control socket " + path + ": permission denied on " + e.getFile()
                    + " (run as root, or choose another place with --control-socket)");
        }
        FileChannel lock = lock(path);
        try {
            removeIfStale(path);
        } catch (IOException e) {
            lock.close();
            throw e;
        }
        return new SocketFile(path, lock);
    }

    Path path() {
        return path;
    }

    /**
     * Once bound: mode 0600 (root and the gateway's user), or 0660 and the group {@code group}
     * (whose members the API admits too). The kernel refuses anyone else at connect; the API
     * checks the peer's credentials again, in case someone loosens the mode by hand.
     */
    void bound(GroupPrincipal group) throws IOException {
        if (group != null) {
            try {
                Files.getFileAttributeView(path, java.nio.file.attribute.PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS).setGroup(group);
            } catch (IOException e) {
                // Root without CAP_CHOWN (the packaged unit) may give a file only to a group it is in.
                throw new BindException("cannot give control socket " + path + " to group " + group.getName() + ": " + e.getMessage()
                        + " (under systemd: systemctl edit isthmus@NAME, and add SupplementaryGroups=" + group.getName() + " under [Service])");
            }
        }
        Files.setPosixFilePermissions(path, PosixFilePermissions.fromString(group == null ? "rw-------" : "rw-rw----"));
        fileKey = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
    }

    /** An exclusive lock on PATH.lock, or a BindException saying another gateway holds it. */
    private static FileChannel lock(Path path) throws IOException {
        Path lockFile = Path.of(path + ".lock");
        FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        try {
            Files.setPosixFilePermissions(lockFile, PosixFilePermissions.fromString("rw-------"));
            if (channel.tryLock() != null) {
                return channel;
            }
        } catch (OverlappingFileLockException heldInThisProcess) {
            // another gateway of this very JVM (tests) holds it
        } catch (IOException e) {
            channel.close();
            throw e;
        }
        channel.close();
        throw new BindException("another gateway is running on control socket " + path
                + " (stop it first, or give this one another --control-socket)");
    }

    private static void removeIfStale(Path path) throws IOException {
        if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        int mode = (Integer) Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        if ((mode & 0170000) != 0140000) {
            throw new BindException("control socket " + path + " exists and is not a socket; remove it or choose another --control-socket");
        }
        try {
            SocketChannel.open(UnixDomainSocketAddress.of(path)).close();
        } catch (ConnectException nobodyListens) {
            LOG.log(System.Logger.Level.INFO, "control socket {0} was left behind by a gateway that is gone; replacing it", path);
            Files.deleteIfExists(path);
            return;
        }
        throw new BindException("another gateway is running on control socket " + path + " (stop it first, or give this one another --control-socket)");
    }

    /** Removes the socket file if it is still the one this gateway bound, and releases the lock (the lock file stays). */
    @Override
    public void close() {
        try {
            Object now = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
            if (fileKey != null && Objects.equals(now, fileKey)) {
                Files.deleteIfExists(path);
            }
        } catch (IOException ignored) {
            // gone already, or going away anyway
        }
        try {
            lock.close(); // deleting the lock file would let two newcomers lock two different files
        } catch (IOException ignored) {
            // released with the process anyway
        }
    }
}
