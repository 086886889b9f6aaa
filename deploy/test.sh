#!/usr/bin/env bash
# The whole test suite, from a fresh Debian/Ubuntu machine with JDK 25 and Maven:
# installs what the tests need, then runs every module's tests (mvn verify).
set -euo pipefail
cd "$(dirname "$0")/.."
. deploy/lib/jdk.sh
. deploy/lib/packages.sh
isthmus_find_jdk

# Linux packages the tests need (deploy/lib/packages.sh says which and why): the lab, strongSwan
# for the interop tests, wireguard-go for the benchmark's comparison (its short run is a test), and
# what builds and checks the Debian package.
isthmus_apt_install "${ISTHMUS_LAB_PACKAGES[@]}" "${ISTHMUS_STRONGSWAN_PACKAGES[@]}" "${ISTHMUS_WIREGUARD_PACKAGES[@]}" \
    "${ISTHMUS_PACKAGE_BUILD_PACKAGES[@]}"

echo "Running the test suite with $("$JAVA_HOME/bin/java" -version 2>&1 | head -1) at $JAVA_HOME"
exec mvn -B -ntp verify "$@"
