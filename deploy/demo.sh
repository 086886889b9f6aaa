#!/usr/bin/env bash
# The demo, from a fresh Debian/Ubuntu machine with JDK 25 and Maven: installs what it needs
# (iproute2, ping, iperf3, nftables), builds Isthmus and runs `isthmus demo`: two gateways in network
# namespaces carrying traffic between two sites. Network namespaces need root: sudo if not.
set -euo pipefail
cd "$(dirname "$0")/.."
. deploy/lib/jdk.sh
. deploy/lib/packages.sh
isthmus_find_jdk
isthmus_apt_install "${ISTHMUS_LAB_PACKAGES[@]}"
# Only what the command line needs: the .deb (deploy/package) wants asciidoctor and dpkg-dev, which a demo does not.
mvn -B -q -ntp -DskipTests -pl deploy/lab -am package
if [ "$(id -u)" -ne 0 ]; then
    exec sudo JAVA_HOME="$JAVA_HOME" deploy/isthmus demo "$@"
fi
exec deploy/isthmus demo "$@"
