#!/usr/bin/env bash
# A strongSwan 5.9.8 peer in its own network namespace, joined to this namespace by a veth pair.
#   strongswan-peer.sh start NAME DIR HOST_CIDR PEER_CIDR [SITE_CIDR...]   (DIR/swanctl.conf must exist)
#   strongswan-peer.sh stop NAME DIR
# The peer uses kernel-libipsec (ESP in userspace on a TUN device: this kernel has no xfrm ESP),
# its own mount namespace (so pid files and sockets do not collide), a vici socket at
# DIR/charon.vici and a log at DIR/charon.log with IKE and CHILD keys (ike=4, chd=4). Each
# SITE_CIDR is put on the namespace's loopback: the site behind the peer, whose address
# kernel-libipsec needs to route its child SAs. Settings in DIR/charon-extra.conf, if it exists,
# go inside strongswan.conf's charon section (e.g. "fragment_size = 576", "rsa_pss = yes").
# IPv6 addresses skip duplicate address detection, so they work at once.
set -euo pipefail
cmd=${1:?start|stop}; name=${2:?name}; dir=${3:?dir}

stop() {
    if [ -f "$dir/charon.pid" ]; then
        kill "$(cat "$dir/charon.pid")" 2>/dev/null || true
        for _ in $(seq 1 20); do kill -0 "$(cat "$dir/charon.pid")" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$(cat "$dir/charon.pid")" 2>/dev/null || true
        rm -f "$dir/charon.pid"
    fi
    ip netns del "$name" 2>/dev/null || true
    ip link del "$name-h" 2>/dev/null || true
}

case "$cmd" in
stop) stop ;;
start)
    host_cidr=${4:?host address/prefix}; peer_cidr=${5:?peer address/prefix}; shift 5
    [ -f "$dir/swanctl.conf" ] || { echo "no $dir/swanctl.conf" >&2; exit 1; }
    stop
    ip netns add "$name"
    ip link add "$name-h" type veth peer name "$name-p"
    ip link set "$name-p" netns "$name"
    nodad() { case "$1" in *:*) echo nodad ;; esac; }
    ip addr add "$host_cidr" dev "$name-h" $(nodad "$host_cidr")
    ip link set "$name-h" up
    ip -n "$name" addr add "$peer_cidr" dev "$name-p" $(nodad "$peer_cidr")
    ip -n "$name" link set lo up
    for site in "$@"; do ip -n "$name" addr add "$site" dev lo; done
    ip -n "$name" link set "$name-p" up
    plugins="random nonce aes sha1 sha2 hmac gcm chapoly curve25519 gmp x509 pubkey pem pkcs1 pkcs8 openssl kdf kernel-libipsec kernel-netlink socket-default vici eap-md5 md5 mgf1 constraints revocation"
    cat > "$dir/strongswan.conf" <<EOT
charon {
  load = $plugins
  install_routes = yes
  retransmit_tries = 3
  retransmit_timeout = 1.0
  plugins { vici { socket = unix://$dir/charon.vici } }
  filelog { f { path = $dir/charon.log
      default = 1
      ike = 4
      chd = 4
      cfg = 2
      time_format = %T
      flush_line = yes } }
  $( [ -f "$dir/charon-extra.conf" ] && cat "$dir/charon-extra.conf" )
}
EOT
    : > "$dir/charon.log"
    rm -f "$dir/charon.vici"
    ip netns exec "$name" unshare -m sh -c "mount -t tmpfs none /run; STRONGSWAN_CONF=$dir/strongswan.conf exec /usr/lib/ipsec/charon" \
        > "$dir/charon.out" 2>&1 &
    echo $! > "$dir/charon.pid"
    for _ in $(seq 1 100); do
        [ -S "$dir/charon.vici" ] && swanctl --stats --uri "unix://$dir/charon.vici" >/dev/null 2>&1 && break
        sleep 0.1
    done
    swanctl --stats --uri "unix://$dir/charon.vici" >/dev/null 2>&1 || { echo "charon did not start:"; cat "$dir/charon.out"; exit 1; } >&2
    # A plugin charon could not load is only a line in its log, and the symptom comes much later
    # (no gcm: IKE_AUTH silently dropped): say it now, with the package that brings it.
    loaded=" $(swanctl --stats --uri "unix://$dir/charon.vici" | sed -n 's/^loaded plugins: //p') "
    missing=""
    for p in $plugins; do case "$loaded" in *" $p "*) ;; *) missing="$missing $p" ;; esac; done
    if [ -n "$missing" ]; then
        echo "charon did not load the plugins:$missing (gcm, openssl and aesni come with libstrongswan-standard-plugins," \
             "kernel-libipsec, chapoly and curve25519 with libstrongswan-extra-plugins; deploy/test.sh installs them)" >&2
        stop
        exit 1
    fi
    swanctl --load-all --file "$dir/swanctl.conf" --uri "unix://$dir/charon.vici" > "$dir/load.out" 2>&1 \
        || { cat "$dir/load.out" >&2; exit 1; }
    ;;
*) echo "usage: $0 start|stop NAME DIR [HOST_CIDR PEER_CIDR]" >&2; exit 2 ;;
esac
