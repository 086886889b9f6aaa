package io.isthmus.lab.bench;

import java.lang.management.ManagementFactory;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.management.ObjectName;

/**
 * This JVM's memory at one moment, after full collections: the heap still in use (what is live),
 * the native memory the JVM has committed outside the heap by Native Memory Tracking category
 * (when the JVM runs with {@code -XX:NativeMemoryTracking=summary}; empty otherwise), and the live
 * objects by class (the class histogram, which itself collects first).
 *
 * @param heapBytes      heap in use after the collections
 * @param nativeKb       committed KB by NMT category, without "Java Heap"; empty without NMT
 * @param classes        live bytes and instances by class name
 */
record MemoryReading(long heapBytes, Map<String, Long> nativeKb, Map<String, long[]> classes) {
    private static final Pattern NMT_CATEGORY = Pattern.compile("^-\\s+(.+?) \\(reserved=\\d+KB, committed=(\\d+)KB\\)", Pattern.MULTILINE);
    private static final Pattern HISTOGRAM_LINE = Pattern.compile("^\\s*\\d+:\\s+(\\d+)\\s+(\\d+)\\s+(\\S+)", Pattern.MULTILINE);

    static MemoryReading now() {
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        Runtime r = Runtime.getRuntime();
        long heap = r.totalMemory() - r.freeMemory();
        return new MemoryReading(heap, nativeMemory(), histogram());
    }

    /** Committed native KB outside the heap, all categories together. */
    long nativeTotalKb() {
        return nativeKb.values().stream().mapToLong(Long::longValue).sum();
    }

    /** Live instances of a class ({@code name} as the histogram writes it). */
    long instances(String name) {
        long[] v = classes.get(name);
        return v == null ? 0 : v[1];
    }

    /** Whether Native Memory Tracking answered. */
    boolean tracked() {
        return !nativeKb.isEmpty();
    }

    private static Map<String, Long> nativeMemory() {
        String text = diagnostic("vmNativeMemory", "summary");
        Map<String, Long> out = new LinkedHashMap<>();
        if (text == null) {
            return out;
        }
        for (Matcher m = NMT_CATEGORY.matcher(text); m.find(); ) {
            String category = m.group(1).strip();
            if (!category.equals("Java Heap")) {
                out.merge(category, Long.parseLong(m.group(2)), Long::sum);
            }
        }
        return out;
    }

    private static Map<String, long[]> histogram() {
        String text = diagnostic("gcClassHistogram");
        Map<String, long[]> out = new HashMap<>();
        if (text == null) {
            return out;
        }
        for (Matcher m = HISTOGRAM_LINE.matcher(text); m.find(); ) {
            out.put(m.group(3), new long[] {Long.parseLong(m.group(2)), Long.parseLong(m.group(1))});
        }
        return out;
    }

    /** A jcmd command run in this JVM (the DiagnosticCommand MBean), or null where it cannot be. */
    private static String diagnostic(String operation, String... args) {
        try {
            Object result = ManagementFactory.getPlatformMBeanServer().invoke(new ObjectName("com.sun.management:type=DiagnosticCommand"),
                    operation, new Object[] {args}, new String[] {String[].class.getName()});
            String text = String.valueOf(result);
            return text.contains("not enabled") ? null : text;
        } catch (Exception e) {
            return null;
        }
    }
}
