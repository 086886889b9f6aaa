package io.isthmus.lab.ikeload;

import io.isthmus.lab.LabGateways;
import java.nio.file.Path;

/**
 * What each responder of the IKE load benchmark is told, the same for both as far as their
 * configurations can say the same thing: one connection that answers any peer from the
 * generators' /16 (Isthmus: a site whose gatewayIpAddress is that range, ResponderOnly;
 * strongSwan: {@code remote_addrs} the range), any identity the key or certificate proves,
 * AES-GCM-128 with PRF-SHA256 and Curve25519 for IKE and AES-GCM-128 for ESP, the child SAs
 * between a site behind the generators and one behind the responder (Isthmus route-based, so
 * any to any narrowed to what the generator asks), each installed in the responder's data plane
 * (Isthmus's own, strongSwan's kernel-libipsec). Cookies: off, or each one's defaults (Isthmus: 10 half-open IKE
 * SAs or 50 costly IKE_SA_INIT a second; strongSwan 5.9: 30 half-open, or 3 from one address).
 * Both log at their defaults: Isthmus at info, charon at level 1 to a file.
 */
final class ResponderConfigs {
    private ResponderConfigs() {
    }

    static final String IKE = "aes128gcm16-prfsha256-x25519";
    static final String ESP = "aes128gcm16";

    static String isthmus(IkeLoadLab.Setup setup, LoadPki.Certificates pki) {
        String auth = setup.auth().equals("psk") ? "sharedKey: \"" + IkeLoadLab.PSK + "\"" : """
                certificateAuthentication:
                      outboundAuthCertificate: %s
                      privateKey: %s
                      inboundAuthCertificateChain: [%s]""".formatted(pki.responderCertificate(), pki.responderKey(), pki.ca());
        return """
                # The IKE load benchmark's Isthmus responder: peers from the generators' range, ResponderOnly.
                virtualNetworkGateway:
                  name: ikeload
                  vpnType: RouteBased
                  sku: VpnGw5
                  instances:
                    - name: ikeload-0
                      publicIpAddress: %s
                  tunnel:
                    device: ikeload0
                  ikeDefense:
                    cookies: %s
                localNetworkGateways:
                  - name: generators
                    gatewayIpAddress: %s
                    addressPrefixes: [%s]
                connections:
                  - name: load
                    localNetworkGateway: generators
                    connectionMode: ResponderOnly
                    %s
                    ipsecPolicies:
                      - saLifeTimeSeconds: 27000
                        saDataSizeKilobytes: 102400000
                        ipsecEncryption: GCMAES128
                        ipsecIntegrity: GCMAES128
                        ikeEncryption: GCMAES128
                        ikeIntegrity: SHA256
                        dhGroup: X25519
                        pfsGroup: None
                """.formatted(IkeLoadLab.ISTHMUS_IP, setup.cookies(), IkeLoadLab.SOURCES, IkeLoadGenerator.SITE_TS, auth);
    }

    static String strongSwan(IkeLoadLab.Setup setup, LoadPki.Certificates pki) {
        boolean psk = setup.auth().equals("psk");
        return """
                connections { load {
                  local_addrs = %1$s
                  remote_addrs = %2$s
                  version = 2
                  proposals = %3$s
                  local { auth = %4$s
                    %5$s }
                  remote { auth = %4$s
                    id = %%any }
                  children { load {
                      local_ts = %8$s
                      remote_ts = %9$s
                      esp_proposals = %6$s
                      mode = tunnel } } } }
                %7$s
                """.formatted(IkeLoadLab.STRONGSWAN_IP, IkeLoadLab.SOURCES, IKE, psk ? "psk" : "pubkey",
                psk ? "id = " + IkeLoadLab.STRONGSWAN_IP : "certs = " + pki.responderCertificate(), ESP,
                psk ? "secrets { ike-load { secret = \"" + IkeLoadLab.PSK + "\" } }" : "authorities { load { cacert = " + pki.ca() + " } }",
                IkeLoadGenerator.RESPONDER_TS, IkeLoadGenerator.SITE_TS);
    }

    /**
     * charon's settings: its plugins as the lab loads them; no routes (the child SAs are any to
     * any, which would route everything into ipsec0); the IKE SA table sized for thousands of
     * SAs, as strongSwan's documentation advises for load (its default is one bucket); cookies
     * off or its defaults; a file log at level 1, charon's default.
     */
    static String strongSwanConf(IkeLoadLab.Setup setup, Path dir) {
        return """
                charon {
                  load = %2$s
                  install_routes = no
                  install_virtual_ip = no
                  ikesa_table_size = 4096
                  ikesa_table_segments = 16
                  %3$s
                  plugins { vici { socket = unix://%1$s/charon.vici } }
                  filelog { f { path = %1$s/charon.log
                      default = 1
                      time_format = %%T } }
                }
                """.formatted(dir, String.join(" ", LabGateways.STRONGSWAN_PLUGINS),
                setup.cookies() ? "" : "cookie_threshold = 0\n  cookie_threshold_ip = 0");
    }
}
