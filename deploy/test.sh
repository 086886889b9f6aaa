#!/usr/bin/env bash
# The whole test suite, from a fresh Debian/Ubuntu machine with JDK 25 and Maven:
# installs what the tests need, then runs every module's tests (mvn verify).
set -euo pipefail
cd "$(dirname "$0")/.."
. deploy/lib/jdk.sh
isthmus_find_jdk

# Linux packages the tests need: strongSwan 5.9 charon + swanctl for the interop tests (the
# extra plugins bring kernel-libipsec, chapoly and curve25519), iproute2 for namespaces.
packages=(iproute2 nftables iputils-ping iperf3 strongswan-charon strongswan-swanctl libcharon-extra-plugins libstrongswan-extra-plugins)
missing=()
for p in "${packages[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    sudo_cmd=""
    [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}"
fi

echo "Running the test suite with $("$JAVA_HOME/bin/java" -version 2>&1 | head -1) at $JAVA_HOME"
exec mvn -B -ntp verify "$@"
