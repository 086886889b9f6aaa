#!/usr/bin/env bash
# The demo, from a fresh Debian/Ubuntu machine with JDK 25 and Maven: builds Isthmus and runs
# `isthmus demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
. deploy/lib/jdk.sh
isthmus_find_jdk
mvn -B -q -ntp -DskipTests package
exec deploy/isthmus demo "$@"
