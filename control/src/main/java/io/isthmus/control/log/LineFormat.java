package io.isthmus.control.log;

/** How a log line is written. Either way, each line is one event (a stack trace follows on its own lines). */
public enum LineFormat {
    /** "2026-12-01 10:00:00.123 INFO ike: message": for a person, and for grep. */
    HUMAN("human"),
    /** One JSON object a line, with the connection and SPIs as fields: for a log shipper. */
    JSON("json");

    private final String word;

    LineFormat(String word) {
        this.word = word;
    }

    public String word() {
        return word;
    }
}
