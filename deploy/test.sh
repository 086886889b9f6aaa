#!/usr/bin/env bash
# The whole test suite, from a fresh Debian/Ubuntu machine with JDK 25 and Maven:
# installs what the tests need, then runs every module's tests (mvn verify).
set -euo pipefail
cd "$(dirname "$0")/.."
. deploy/lib/jdk.sh
isthmus_find_jdk

# Linux packages the tests need: strongSwan 5.9 charon + swanctl for the interop tests (the
# extra plugins bring kernel-libipsec, chapoly and curve25519), iproute2 and nftables for the
# namespace lab (and its NAT), ping and iperf3 for the traffic through it, wireguard-go for the
# benchmark's comparison (its short run is a test).
isthmus_apt_install iproute2 nftables iputils-ping iperf3 strongswan-charon strongswan-swanctl \
    libcharon-extra-plugins libstrongswan-extra-plugins wireguard-go wireguard-tools

echo "Running the test suite with $("$JAVA_HOME/bin/java" -version 2>&1 | head -1) at $JAVA_HOME"
exec mvn -B -ntp verify "$@"
