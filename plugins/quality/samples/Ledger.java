// A small ledger, written for the highlighter comparison.
package example.ledger;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/** Keeps a running balance of integer cents. */
public final class Ledger {
    private static final int MAX_ENTRIES = 10_000;

    private final List<Entry> entries = new ArrayList<>();
    private long balance = 0L;

    /** One posted amount with its description. */
    public record Entry(String description, long cents) {
        public Entry {
            Objects.requireNonNull(description, "description");
        }
    }

    public void post(String description, long cents) {
        if (entries.size() >= MAX_ENTRIES) {
            throw new IllegalStateException("ledger is full: " + MAX_ENTRIES + " entries");
        }
        entries.add(new Entry(description, cents));
        balance += cents;
    }

    public long balance() {
        return balance;
    }

    public double average() {
        if (entries.isEmpty()) {
            return 0.0;
        }
        return (double) balance / entries.size();
    }

    public List<Entry> largerThan(long cents) {
        List<Entry> result = new ArrayList<>();
        for (Entry entry : entries) {
            if (Math.abs(entry.cents()) > cents) {
                result.add(entry);
            }
        }
        return result;
    }

    @Override
    public String toString() {
        return String.format("Ledger[%d entries, balance=%d]", entries.size(), balance);
    }

    public static void main(String[] args) {
        Ledger ledger = new Ledger();
        ledger.post("opening", 12_500);
        ledger.post("coffee", -350);
        char sign = ledger.balance() >= 0 ? '+' : '-';
        System.out.println(sign + " " + ledger);
    }
}
