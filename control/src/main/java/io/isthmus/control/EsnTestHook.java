package io.isthmus.control;

import io.isthmus.dataplane.Dataplane;

/**
 * {@value #VARIABLE}: a test hook that starts every ESN child SA's outbound sequence numbers
 * after the number it holds (decimal, or hexadecimal after 0x), so that a lab test sees an SA
 * cross 2^32 within seconds instead of after 4 billion packets (see
 * {@link Dataplane#startEsnSequencesAfter}). An environment variable, not a configuration field:
 * no operator has a reason to set it, and a configuration file is what operators copy. Refused
 * in a pair, whose nodes take their numbers from leases.
 */
final class EsnTestHook {
    static final String VARIABLE = "ISTHMUS_TEST_ESN_FIRST_SEQUENCE";
    private static final System.Logger LOG = System.getLogger("io.isthmus.control");

    private EsnTestHook() {
    }

    /** Applies {@code value} (null or empty: nothing) to the data plane; a value that is not a number fails the start, naming the variable. */
    static long apply(String value, Dataplane dataplane, boolean pair) {
        if (value == null || value.isBlank()) {
            return 0;
        }
        long after;
        try {
            String v = value.strip();
            after = v.startsWith("0x") ? Long.parseUnsignedLong(v.substring(2).replace("_", ""), 16) : Long.parseUnsignedLong(v.replace("_", ""));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(VARIABLE + "='" + value + "' is not a sequence number (decimal, or hexadecimal after 0x)");
        }
        if (pair) {
            throw new IllegalArgumentException(VARIABLE + " is a test hook for a single gateway; a pair's nodes take their sequence numbers from leases");
        }
        LOG.log(System.Logger.Level.WARNING, "test hook {0}: ESN child SAs send from sequence number 0x{1} on", VARIABLE,
                Long.toHexString(after + 1));
        dataplane.startEsnSequencesAfter(after);
        return after;
    }
}
