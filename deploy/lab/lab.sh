#!/usr/bin/env bash
# The two-site lab in network namespaces, by hand (root):
#   lab.sh up [--pairing isthmus-isthmus|isthmus-strongswan|strongswan-isthmus|strongswan-strongswan] [--nat]
#   lab.sh iperf [--pairing ...] [--seconds N] [--nat]   (one TCP stream site A -> site B, then down)
#   lab.sh down [--all]                                  (remove labs whose run is gone; --all: every lab)
# Sites 192.168.10.0/24 (host-a .10) and 192.168.20.0/24 (host-b .10), gateways 10.77.0.1 and
# 10.77.0.2 (site A's at 10.78.0.1 behind a NAT with --nat). Build first: mvn -DskipTests package.
set -euo pipefail
exec "$(dirname "$0")/../isthmus" lab "$@"
