#!/usr/bin/env bash
# The base image of the two-machine test (deploy/system-test): a plain Debian 12 that boots
# systemd, built here with debootstrap from Debian's own packages (no image can be pulled), then
# `docker import`ed. No JDK in it: the test installs the .deb, which brings its own runtime.
#
#   deploy/lib/base-image.sh            # prints the image's name, building it first if missing
#
# The image is named isthmus-test-base:<hash of this recipe>, so it is rebuilt only when the
# recipe (this file's package list, suite, variant) changes. The debootstrap root is kept as a
# tarball in $ISTHMUS_TEST_CACHE (default /var/cache/isthmus-test), so a Docker engine started
# afresh for each run (as deploy/test.sh does) imports it in seconds instead of running
# debootstrap (about 90 s) again. Needs root, debootstrap and a Docker engine (DOCKER_HOST).
# Mirror: ISTHMUS_DEBIAN_MIRROR, else the first Debian mirror apt uses on this machine.
set -euo pipefail

# What the image holds, and why. The package's own Depends must be here: the test installs the
# .deb with apt from a copied file, with no mirror to reach.
ISTHMUS_BASE_SUITE=bookworm
ISTHMUS_BASE_PACKAGES=(
    systemd systemd-sysv dbus     # systemd as PID 1, systemctl, journalctl
    iproute2                      # ip(8): the gateway's routes, the test's "host behind" namespaces
    procps                        # sysctl(8), ps, pgrep
    iputils-ping                  # ping across the tunnel
    netcat-openbsd                # the TCP transfer checked by hash (sha256sum is in coreutils)
    iperf3                        # the paced UDP stream across a reload, with its loss count
)

isthmus_base_recipe_hash() {
    printf '%s\n' "recipe 1" "$ISTHMUS_BASE_SUITE" minbase "${ISTHMUS_BASE_PACKAGES[@]}" | sha256sum | cut -c1-12
}

isthmus_debian_mirror() {
    if [ -n "${ISTHMUS_DEBIAN_MIRROR:-}" ]; then echo "$ISTHMUS_DEBIAN_MIRROR"; return; fi
    local m
    m=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | sed -n 's|^URIs: *\(https\?://[^ ]*/debian\)/\?$|\1|p' | head -1)
    [ -n "$m" ] || m=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
        | sed -n 's|^deb \(\[[^]]*\] \)\?\(https\?://[^ ]*/debian\)/\? .*|\2|p' | head -1)
    echo "${m:-http://deb.debian.org/debian}"
}

isthmus_base_image() {
    local tag cache tarball
    tag="isthmus-test-base:$(isthmus_base_recipe_hash)"
    if docker image inspect "$tag" >/dev/null 2>&1; then echo "$tag"; return 0; fi
    cache="${ISTHMUS_TEST_CACHE:-/var/cache/isthmus-test}"
    tarball="$cache/base-${tag#*:}.tar"
    mkdir -p "$cache"
    (
        # One builder at a time per cache (two test runs side by side would debootstrap twice).
        flock 9
        if [ ! -s "$tarball" ]; then
            local root mirror list
            root=$(mktemp -d "$cache/root-${tag#*:}.XXXXXX")
            mirror=$(isthmus_debian_mirror)
            list=$(IFS=,; echo "${ISTHMUS_BASE_PACKAGES[*]}")
            echo "base image: debootstrap $ISTHMUS_BASE_SUITE from $mirror into $root (about 90 s)" >&2
            if ! debootstrap --variant=minbase --include="$list" "$ISTHMUS_BASE_SUITE" "$root" "$mirror" >"$root.log" 2>&1; then
                tail -30 "$root.log" >&2
                rm -rf --one-file-system "$root"
                exit 1
            fi
            # A container has no console to log in on, and no hardware clock or udev to wait for.
            chroot "$root" systemctl mask getty@tty1.service serial-getty@console.service \
                systemd-udevd.service systemd-udev-trigger.service systemd-timesyncd.service \
                apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer >/dev/null 2>&1 || true
            chroot "$root" apt-get clean
            rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin
            echo "$ISTHMUS_BASE_SUITE" > "$root/etc/hostname"
            tar -C "$root" --numeric-owner -cf "$tarball.part" .
            mv "$tarball.part" "$tarball"
            rm -rf --one-file-system "$root" "$root.log"
        fi
    ) 9>"$cache/.lock"
    echo "base image: docker import $tarball as $tag" >&2
    docker import -c 'CMD ["/lib/systemd/systemd"]' -c 'ENV container=docker' \
        "$tarball" "$tag" >/dev/null
    echo "$tag"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    isthmus_base_image
fi
