package io.isthmus.systemtest;

import com.github.dockerjava.api.model.Bind;
import com.github.dockerjava.api.model.Capability;
import com.github.dockerjava.api.model.Device;
import org.testcontainers.containers.Container.ExecResult;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.Network;
import org.testcontainers.images.builder.Transferable;
import org.testcontainers.utility.DockerImageName;
import org.testcontainers.utility.MountableFile;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * One Debian 12 machine of the test: a container of the base image (deploy/lib/base-image.sh) with systemd as
 * PID 1, on the wide-area network at a fixed address.
 *
 * <p>What systemd 252 as PID 1 needs from Docker 20.10 here (cgroup v1, hybrid: the host is not run by
 * systemd): the host's /sys/fs/cgroup bound read-write (systemd makes its own tree below the container's
 * cgroup, {@code /docker/<id>}), /run, /run/lock and /tmp as tmpfs, and SIGRTMIN+3 to halt. It is not
 * {@code --privileged}: that asks runc for every capability, and this machine's bounding set lacks
 * CAP_SYS_RESOURCE ("unable to apply caps: operation not permitted"); so every capability but that one, no
 * seccomp filter, /proc/sys/net writable (the container's own network namespace: systemd-sysctl applies the
 * package's forwarding drop-in there), and /dev/net/tun for the gateway's TUN device.
 */
final class Machine implements AutoCloseable {
    private final String name;
    private final GenericContainer<?> container;

    @SuppressWarnings("resource")
    Machine(String prefix, String name, String image, Network wan, String wanAddress) {
        this.name = name;
        this.container = new GenericContainer<>(DockerImageName.parse(image))
                .withNetwork(wan)
                .withTmpFs(Map.of("/run", "rw,exec", "/run/lock", "rw", "/tmp", "rw,exec"))
                .withEnv("container", "docker")
                // systemd as PID 1, with /proc/sys/net writable as on a VM (the package's forwarding drop-in is
                // applied there); only net: the rest of /proc/sys is the host's own (fs.*, kernel.*), left read-only.
                .withCommand("/bin/sh", "-c", "mount --bind /proc/sys/net /proc/sys/net && mount -o remount,rw,bind /proc/sys/net"
                        + " && exec /lib/systemd/systemd")
                .withCreateContainerCmdModifier(cmd -> {
                    cmd.withName(prefix + "-" + name).withHostName(name).withStopSignal("SIGRTMIN+3").withIpv4Address(wanAddress);
                    cmd.getHostConfig()
                            .withCapAdd(Capability.ALL)
                            .withCapDrop(Capability.SYS_RESOURCE)
                            .withSecurityOpts(List.of("seccomp=unconfined"))
                            .withDevices(Device.parse("/dev/net/tun"))
                            .withBinds(Bind.parse("/sys/fs/cgroup:/sys/fs/cgroup:rw"))
                            // The container sees its own cgroup path (/docker/<id>) in the tree it is given: systemd
                            // makes its units below it, never at the host's root (Docker's default on cgroup v1; said
                            // here so that a cgroup v2 host, where the default is a private namespace, behaves alike).
                            .withCgroupnsMode("host");
                });
    }

    String name() {
        return name;
    }

    /** Starts the container and waits until systemd says the boot is done, with no unit failed. */
    void boot() {
        container.start();
        await(name + ": systemd answers", Duration.ofSeconds(60), () -> exec("test -S /run/systemd/private").getExitCode() == 0);
        ExecResult r = exec("timeout 60 systemctl is-system-running --wait");
        if (!r.getStdout().strip().equals("running")) {
            throw new AssertionError(name + ": systemd did not boot cleanly: " + r.getStdout().strip() + "\n"
                    + sh("systemctl --failed --no-pager; journalctl -b -p warning --no-pager | tail -40"));
        }
    }

    /** Runs a bash script as root on the machine. */
    ExecResult exec(String script) {
        try {
            return container.execInContainer("bash", "-c", script);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Runs a bash script that must succeed; its standard output. */
    String sh(String script) {
        ExecResult r = exec("set -euo pipefail; " + script);
        if (r.getExitCode() != 0) {
            throw new AssertionError(name + ": `" + script + "` exited " + r.getExitCode() + "\n" + r.getStdout() + r.getStderr());
        }
        return r.getStdout();
    }

    void copy(Path file, String to) {
        container.copyFileToContainer(MountableFile.forHostPath(file), to);
    }

    void write(String to, String content, int mode) {
        container.copyFileToContainer(Transferable.of(content, mode), to);
    }

    /** Polls {@code condition} every 200 ms until it holds; fails after {@code max} (a bound, not a measurement). */
    static void await(String what, Duration max, BooleanSupplier condition) {
        Instant end = Instant.now().plus(max);
        while (!condition.getAsBoolean()) {
            if (Instant.now().isAfter(end)) {
                throw new AssertionError("not within " + max.toSeconds() + " s: " + what);
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
    }

    /** Saves the machine's journal (everything since boot) for whoever reads a failure. */
    void saveJournal(Path dir) {
        if (!container.isRunning()) {
            return;
        }
        try {
            Files.createDirectories(dir);
            Files.writeString(dir.resolve(name + "-journal.txt"), exec("journalctl -b --no-pager -o short-monotonic").getStdout());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        container.stop();
    }
}
