#!/usr/bin/env bash
# The whole test suite, from a fresh Debian/Ubuntu machine with JDK 25 and Maven:
# installs what the tests need, then runs every module's tests (mvn verify).
set -euo pipefail
cd "$(dirname "$0")/.."
. deploy/lib/jdk.sh
. deploy/lib/packages.sh
. deploy/lib/docker-engine.sh
isthmus_find_jdk

# Linux packages the tests need (deploy/lib/packages.sh says which and why): the lab, strongSwan
# for the interop tests, wireguard-go for the benchmark's comparison (its short run is a test), OpenSSH
# for the two-machine bench's test, what builds and checks the Debian package, Docker and debootstrap
# for the two-machine test, promtool, BIRD and FreeRADIUS.
isthmus_apt_install "${ISTHMUS_LAB_PACKAGES[@]}" "${ISTHMUS_STRONGSWAN_PACKAGES[@]}" "${ISTHMUS_WIREGUARD_PACKAGES[@]}" \
    "${ISTHMUS_PACKAGE_BUILD_PACKAGES[@]}" "${ISTHMUS_SYSTEM_TEST_PACKAGES[@]}" "${ISTHMUS_METRICS_PACKAGES[@]}" \
    "${ISTHMUS_BGP_PACKAGES[@]}" "${ISTHMUS_RADIUS_PACKAGES[@]}" "${ISTHMUS_SSH_PACKAGES[@]}"

# The two-machine test's Docker engine: the one that runs, or one started here for this run and stopped
# when the suite ends, whatever the outcome. Its base image is cached in /var/cache/isthmus-test.
trap isthmus_docker_engine_stop EXIT
trap "exit 130" INT
trap "exit 143" TERM
isthmus_docker_engine
# Ryuk (Testcontainers' reaper) is an image to pull, and none can be pulled here.
export TESTCONTAINERS_RYUK_DISABLED=true

echo "Running the test suite with $("$JAVA_HOME/bin/java" -version 2>&1 | head -1) at $JAVA_HOME"
mvn -B -ntp verify "$@"
