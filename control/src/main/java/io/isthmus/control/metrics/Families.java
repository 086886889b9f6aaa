package io.isthmus.control.metrics;

import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.prometheus.metrics.model.snapshots.Unit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The metric families of one scrape, filled point by point and turned into the client
 * library's snapshots at the end: a family is declared once (name, help, unit, counter or
 * gauge) wherever its first point comes from, and a point with labels already seen adds to it
 * (two SAs of one connection add up into the connection's gauge).
 */
final class Families {
    private final Map<String, Family> byName = new LinkedHashMap<>();

    private static final class Family {
        final String name;
        final String help;
        final Unit unit;
        final boolean counter;
        /** Each point's label names and values (name, value, ...), in the order they came, and its value. */
        final List<String[]> labels = new ArrayList<>();
        final List<Double> values = new ArrayList<>();
        /** Where the points {@link Point#add} may add to are, by their labels. */
        final Map<List<String>, Integer> merged = new HashMap<>();

        Family(String name, String help, Unit unit, boolean counter) {
            this.name = name;
            this.help = help;
            this.unit = unit;
            this.counter = counter;
        }
    }

    /** A counter, named without {@code _total} (the text format adds it). */
    Point counter(String name, String help, Unit unit) {
        return new Point(family(name, help, unit, true));
    }

    Point gauge(String name, String help, Unit unit) {
        return new Point(family(name, help, unit, false));
    }

    private Family family(String name, String help, Unit unit, boolean counter) {
        Family f = byName.computeIfAbsent(name, n -> new Family(n, help, unit, counter));
        if (f.counter != counter) {
            throw new IllegalStateException(name + " declared as both a counter and a gauge");
        }
        return f;
    }

    /** Adds points to one family. */
    static final class Point {
        private final Family family;

        private Point(Family family) {
            this.family = family;
        }

        /** Adds {@code value} to the point with these label names and values (name, value, name, value...). */
        Point add(double value, String... labels) {
            Integer at = family.merged.putIfAbsent(List.of(labels), family.values.size());
            if (at == null) {
                family.labels.add(labels);
                family.values.add(value);
            } else {
                family.values.set(at, family.values.get(at) + value);
            }
            return this;
        }

        /**
         * A point no other of this family has (the caller added up what shares its labels): kept
         * without a lookup, which a scrape of 10,000 connections' half a million points makes
         * count. Two with the same labels fail the scrape (the client library refuses them).
         */
        Point put(double value, String... labels) {
            family.labels.add(labels);
            family.values.add(value);
            return this;
        }
    }

    MetricSnapshots snapshots() {
        List<MetricSnapshot> all = new ArrayList<>();
        for (Family f : byName.values()) {
            if (f.counter) {
                var b = described(CounterSnapshot.builder(), f);
                for (int i = 0; i < f.labels.size(); i++) {
                    b.dataPoint(CounterSnapshot.CounterDataPointSnapshot.builder().labels(Labels.of(f.labels.get(i))).value(f.values.get(i)).build());
                }
                all.add(b.build());
            } else {
                var b = described(GaugeSnapshot.builder(), f);
                for (int i = 0; i < f.labels.size(); i++) {
                    b.dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder().labels(Labels.of(f.labels.get(i))).value(f.values.get(i)).build());
                }
                all.add(b.build());
            }
        }
        return new MetricSnapshots(all);
    }

    private static <B extends MetricSnapshot.Builder<B>> B described(B b, Family f) {
        b.name(f.name).help(f.help);
        return f.unit == null ? b : b.unit(f.unit);
    }
}
