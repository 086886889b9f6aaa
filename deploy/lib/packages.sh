# Sourced by the deploy scripts: every Debian package a script or test uses, named once, by job.
# apt runs with --no-install-recommends (wireguard-tools would otherwise pull a kernel image),
# so nothing may hide in a Recommends: strongSwan's gcm, openssl, aesni and agent plugins are in
# libstrongswan-standard-plugins, only recommended by charon; without it charon answers an
# AES-GCM IKE_SA_INIT and then silently drops the IKE_AUTH.

# The namespace lab and the demo: ip and ss (iproute2; the gateway itself runs both at start), nft for
# the lab's NAT, ping and iperf3 for traffic, sysctl and kill (procps: the lab's forwarding, the tests'
# signals to gateway processes). keepalived (2.2.7 in Debian 12) moves the active-active pair's floating
# addresses in the lab (deploy/lab PairLab) and checks the configurations Isthmus writes for it
# (control's KeepalivedConfigTest runs keepalived -t); its Debian unit starts nothing without an
# /etc/keepalived/keepalived.conf, so installing it changes nothing on the machine. tcpdump
# captures the pair lab's wide-area link, where the failover test reads the ESP sequence numbers
# and IKE exchange types the peer saw. curl scrapes a lab gateway's /metrics inside its namespace, and
# tcpreplay sends ESP packets tcpdump caught once more (the metrics test's replayed packets). tshark
# (Wireshark 4.0) reads the gateway's own captures with their exported keys (the capture test);
# setpriv (util-linux, always there) is how the API test speaks as another user.
ISTHMUS_LAB_PACKAGES=(iproute2 procps nftables iputils-ping iperf3 keepalived tcpdump curl tcpreplay tshark)
# BGP: BIRD 2 (bird2, 2.0.12 in Debian 12), which the gateway runs as its child for connections with
# enableBgp (control's BirdDaemonTest runs it with a second BIRD as the site's speaker, and checks the
# configuration Isthmus writes with bird -p; the lab's BGP test peers strongSwan sites' BIRD with it).
# Its own bird.service starts with Debian's example configuration (no peers, nothing exported to
# the kernel): harmless, and not needed by the gateway.
ISTHMUS_BGP_PACKAGES=(bird2)
# Metrics: promtool (Debian's prometheus package; its server is not started, see isthmus_apt_install)
# checks the text /metrics serves as Prometheus parses and lints it (control's GatewayMetricsTest).
ISTHMUS_METRICS_PACKAGES=(prometheus)
# RADIUS for point-to-site EAP: FreeRADIUS (freeradius, with freeradius-utils' radclient), started by
# control's FreeRadiusEapTest with a configuration directory and port of its own; Debian's own
# freeradius.service on 1812 is not used.
ISTHMUS_RADIUS_PACKAGES=(freeradius)
# strongSwan 5.9 as a peer: charon, swanctl, the standard plugins (gcm, openssl, aesni), and the
# extra ones (kernel-libipsec, chapoly, curve25519: this kernel has no xfrm ESP); pki (strongswan-pki)
# makes the certificates of the lab's identity test as a strongSwan user would (PrintableString DNs);
# libcharon-extauth-plugins brings eap-mschapv2, the road-warrior client's method in RemoteAccessLabTest.
ISTHMUS_STRONGSWAN_PACKAGES=(strongswan-charon strongswan-swanctl libstrongswan-standard-plugins
    libcharon-extra-plugins libcharon-extauth-plugins libstrongswan-extra-plugins strongswan-pki)
# The benchmark's comparison: wireguard-go and wg.
ISTHMUS_WIREGUARD_PACKAGES=(wireguard-go wireguard-tools)
# The benchmark across two machines (isthmus bench remote): gateway-a reaches gateway-b with the OpenSSH
# client; its test (deploy/lab RemoteBenchTest) runs an sshd of its own (its own configuration, host key
# and port) in a namespace standing in for gateway-b. The package's own ssh service is not started at
# installation (policy-rc.d) and is disabled after it (isthmus_apt_install), so no sshd is left listening.
ISTHMUS_SSH_PACKAGES=(openssh-client openssh-server)
# The Debian package (deploy/package): dpkg-shlibdeps and dpkg-parsechangelog (dpkg-dev), strip
# (binutils) and asciidoctor (the man pages) to build it; systemd-analyze (systemd), groff
# (groff-base) and readelf (binutils) to test it.
ISTHMUS_PACKAGE_BUILD_PACKAGES=(dpkg-dev binutils asciidoctor systemd groff-base)
# The two-machine test (deploy/system-test): Docker's engine (Debian's docker.io, 20.10), started by
# deploy/test.sh when none runs, and debootstrap for its base image (deploy/lib/base-image.sh).
ISTHMUS_SYSTEM_TEST_PACKAGES=(docker.io debootstrap)
