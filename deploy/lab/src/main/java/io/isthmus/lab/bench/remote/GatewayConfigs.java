package io.isthmus.lab.bench.remote;

/**
 * The configurations the two-machine bench writes for one machine's gateway, from the two
 * machines' addresses, the two sites and the run's key: Isthmus's (the Azure resource model) and
 * strongSwan's swanctl.conf. gateway-a initiates, gateway-b responds. IPv4 only: the sites are
 * from the benchmarking range (RFC 2544), the machines talk over whatever IPv4 they share.
 *
 * @param a          whether this is gateway-a
 * @param me         this machine's address towards the other
 * @param peer       the other machine's address
 * @param mySite     the prefix of the site behind this machine
 * @param peerSite   the prefix behind the other
 * @param key        the run's pre-shared key
 */
record GatewayConfigs(boolean a, String me, String peer, String mySite, String peerSite, String key) {
    /** Isthmus's TUN device in the bench: not isthmus0, which a gateway of the machine's own may have. */
    static final String TUNNEL_DEVICE = "ibench0";

    String name() {
        return a ? "gateway-a" : "gateway-b";
    }

    String isthmus(RemotePath path) {
        String policy = """
                    ipsecPolicies:
                      - %s
                """.formatted(path.isthmusPolicy().strip().replace("\n", "\n        "));
        return """
                # Isthmus two-machine bench: %1$s (written for one run, removed after it)
                virtualNetworkGateway:
                  name: bench-%1$s
                  vpnType: RouteBased
                  sku: VpnGw1
                  addressSpace: [%2$s]
                  instances:
                    - name: bench-%1$s-0
                      publicIpAddress: %3$s
                  tunnel:
                    device: %4$s
                    mtu: 1400
                localNetworkGateways:
                  - name: site-%5$s
                    gatewayIpAddress: %6$s
                    addressPrefixes: [%7$s]
                connections:
                  - name: to-site-%5$s
                    localNetworkGateway: site-%5$s
                    sharedKey: "%8$s"
                    connectionMode: %9$s
                    forceUdpEncapsulation: %10$s
                %11$s""".formatted(name(), mySite, me, TUNNEL_DEVICE, a ? "b" : "a", peer, peerSite, key,
                a ? "InitiatorOnly" : "ResponderOnly", path.udpEncapsulation, policy);
    }

    String swanctl() {
        return """
                connections { bench {
                  local_addrs = %1$s
                  remote_addrs = %2$s
                  version = 2
                  proposals = aes128gcm16-prfsha256-ecp256
                  dpd_delay = 10s
                  local { auth = psk
                    id = %1$s }
                  remote { auth = psk
                    id = %2$s }
                  children { net {
                      local_ts = %3$s
                      remote_ts = %4$s
                      esp_proposals = aes128gcm16
                      start_action = %5$s
                      dpd_action = restart
                      mode = tunnel } } } }
                secrets { ike-bench { secret = "%6$s" } }
                """.formatted(me, peer, mySite, peerSite, a ? "start" : "none", key);
    }
}
