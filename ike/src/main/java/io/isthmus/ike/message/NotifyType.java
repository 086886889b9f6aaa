package io.isthmus.ike.message;

import java.util.Map;

/** Notify Message Types (RFC 7296 §3.10.1 and later RFCs, IANA "IKEv2 Notify Message Types"). */
public final class NotifyType {
    // Errors
    public static final int UNSUPPORTED_CRITICAL_PAYLOAD = 1;
    public static final int INVALID_IKE_SPI = 4;
    public static final int INVALID_MAJOR_VERSION = 5;
    public static final int INVALID_SYNTAX = 7;
    public static final int INVALID_MESSAGE_ID = 9;
    public static final int INVALID_SPI = 11;
    public static final int NO_PROPOSAL_CHOSEN = 14;
    public static final int INVALID_KE_PAYLOAD = 17;
    public static final int AUTHENTICATION_FAILED = 24;
    public static final int SINGLE_PAIR_REQUIRED = 34;
    public static final int NO_ADDITIONAL_SAS = 35;
    public static final int INTERNAL_ADDRESS_FAILURE = 36;
    public static final int FAILED_CP_REQUIRED = 37;
    public static final int TS_UNACCEPTABLE = 38;
    public static final int INVALID_SELECTORS = 39;
    public static final int TEMPORARY_FAILURE = 43;
    public static final int CHILD_SA_NOT_FOUND = 44;
    // Status
    public static final int INITIAL_CONTACT = 16384;
    public static final int SET_WINDOW_SIZE = 16385;
    public static final int ADDITIONAL_TS_POSSIBLE = 16386;
    public static final int IPCOMP_SUPPORTED = 16387;
    public static final int NAT_DETECTION_SOURCE_IP = 16388;
    public static final int NAT_DETECTION_DESTINATION_IP = 16389;
    public static final int COOKIE = 16390;
    public static final int USE_TRANSPORT_MODE = 16391;
    public static final int HTTP_CERT_LOOKUP_SUPPORTED = 16392;
    public static final int REKEY_SA = 16393;
    public static final int ESP_TFC_PADDING_NOT_SUPPORTED = 16394;
    public static final int NON_FIRST_FRAGMENTS_ALSO = 16395;
    public static final int MOBIKE_SUPPORTED = 16396;
    public static final int MULTIPLE_AUTH_SUPPORTED = 16404;
    public static final int EAP_ONLY_AUTHENTICATION = 16417;
    /** RFC 6311 §3.1, in IKE_AUTH: this end takes part in message ID synchronisation. */
    public static final int IKEV2_MESSAGE_ID_SYNC_SUPPORTED = 16420;
    /** RFC 6311 §4.1, message ID 0: nonce, EXPECTED_SEND_REQ_MESSAGE_ID, EXPECTED_RECV_REQ_MESSAGE_ID. */
    public static final int IKEV2_MESSAGE_ID_SYNC = 16422;
    public static final int IKEV2_FRAGMENTATION_SUPPORTED = 16430;
    public static final int SIGNATURE_HASH_ALGORITHMS = 16431;

    private static final Map<Integer, String> NAMES = Map.ofEntries(
            Map.entry(UNSUPPORTED_CRITICAL_PAYLOAD, "UNSUPPORTED_CRITICAL_PAYLOAD"),
            Map.entry(INVALID_IKE_SPI, "INVALID_IKE_SPI"),
            Map.entry(INVALID_MAJOR_VERSION, "INVALID_MAJOR_VERSION"),
            Map.entry(INVALID_SYNTAX, "INVALID_SYNTAX"),
            Map.entry(INVALID_MESSAGE_ID, "INVALID_MESSAGE_ID"),
            Map.entry(INVALID_SPI, "INVALID_SPI"),
            Map.entry(NO_PROPOSAL_CHOSEN, "NO_PROPOSAL_CHOSEN"),
            Map.entry(INVALID_KE_PAYLOAD, "INVALID_KE_PAYLOAD"),
            Map.entry(AUTHENTICATION_FAILED, "AUTHENTICATION_FAILED"),
            Map.entry(SINGLE_PAIR_REQUIRED, "SINGLE_PAIR_REQUIRED"),
            Map.entry(NO_ADDITIONAL_SAS, "NO_ADDITIONAL_SAS"),
            Map.entry(INTERNAL_ADDRESS_FAILURE, "INTERNAL_ADDRESS_FAILURE"),
            Map.entry(FAILED_CP_REQUIRED, "FAILED_CP_REQUIRED"),
            Map.entry(TS_UNACCEPTABLE, "TS_UNACCEPTABLE"),
            Map.entry(INVALID_SELECTORS, "INVALID_SELECTORS"),
            Map.entry(TEMPORARY_FAILURE, "TEMPORARY_FAILURE"),
            Map.entry(CHILD_SA_NOT_FOUND, "CHILD_SA_NOT_FOUND"),
            Map.entry(INITIAL_CONTACT, "INITIAL_CONTACT"),
            Map.entry(SET_WINDOW_SIZE, "SET_WINDOW_SIZE"),
            Map.entry(ADDITIONAL_TS_POSSIBLE, "ADDITIONAL_TS_POSSIBLE"),
            Map.entry(IPCOMP_SUPPORTED, "IPCOMP_SUPPORTED"),
            Map.entry(NAT_DETECTION_SOURCE_IP, "NAT_DETECTION_SOURCE_IP"),
            Map.entry(NAT_DETECTION_DESTINATION_IP, "NAT_DETECTION_DESTINATION_IP"),
            Map.entry(COOKIE, "COOKIE"),
            Map.entry(USE_TRANSPORT_MODE, "USE_TRANSPORT_MODE"),
            Map.entry(HTTP_CERT_LOOKUP_SUPPORTED, "HTTP_CERT_LOOKUP_SUPPORTED"),
            Map.entry(REKEY_SA, "REKEY_SA"),
            Map.entry(ESP_TFC_PADDING_NOT_SUPPORTED, "ESP_TFC_PADDING_NOT_SUPPORTED"),
            Map.entry(NON_FIRST_FRAGMENTS_ALSO, "NON_FIRST_FRAGMENTS_ALSO"),
            Map.entry(MOBIKE_SUPPORTED, "MOBIKE_SUPPORTED"),
            Map.entry(MULTIPLE_AUTH_SUPPORTED, "MULTIPLE_AUTH_SUPPORTED"),
            Map.entry(EAP_ONLY_AUTHENTICATION, "EAP_ONLY_AUTHENTICATION"),
            Map.entry(IKEV2_MESSAGE_ID_SYNC_SUPPORTED, "IKEV2_MESSAGE_ID_SYNC_SUPPORTED"),
            Map.entry(IKEV2_MESSAGE_ID_SYNC, "IKEV2_MESSAGE_ID_SYNC"),
            Map.entry(IKEV2_FRAGMENTATION_SUPPORTED, "IKEV2_FRAGMENTATION_SUPPORTED"),
            Map.entry(SIGNATURE_HASH_ALGORITHMS, "SIGNATURE_HASH_ALGORITHMS"));

    /** Below 16384 a notify reports an error (RFC 7296 §3.10.1). */
    public static boolean isError(int type) {
        return type < INITIAL_CONTACT;
    }

    public static String name(int type) {
        return NAMES.getOrDefault(type, (isError(type) ? "ERROR_" : "STATUS_") + type);
    }

    private NotifyType() {
    }
}
