package dev.usercopy.platform;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One entry of libusercopy's exception table: an instruction that may fault on
 * guest memory, named by its label in native/*.S. The table is read from the
 * library at load, names included (the {@code uaccess} macro emits each
 * label's name beside its entry), so the entries are looked up by name and
 * nothing here repeats the assembly. native/fault.S documents the table.
 */
public final class ExtableEntry {
    private static final List<ExtableEntry> ALL = read();
    private static final Map<String, ExtableEntry> BY_LABEL = byLabel(ALL);

    private final int index;
    private final String label;
    private final long instruction;
    private final long fixup;

    private ExtableEntry(int index, String label, long instruction, long fixup) {
        this.index = index;
        this.label = label;
        this.instruction = instruction;
        this.fixup = fixup;
    }

    private static List<ExtableEntry> read() {
        int size = Math.toIntExact(LibUsercopy.extableSize());
        List<ExtableEntry> entries = new ArrayList<>(size);
        for (int i = 0; i < size; i++) {
            String name = Posix.segment(LibUsercopy.extableEntry(i, 2), Long.MAX_VALUE).getString(0);
            entries.add(new ExtableEntry(i, name,
                    LibUsercopy.extableEntry(i, 0), LibUsercopy.extableEntry(i, 1)));
        }
        return Collections.unmodifiableList(entries);
    }

    private static Map<String, ExtableEntry> byLabel(List<ExtableEntry> entries) {
        Map<String, ExtableEntry> m = new LinkedHashMap<>();
        for (ExtableEntry e : entries) {
            if (m.put(e.label, e) != null) {
                throw new IllegalStateException("two exception table entries are labelled " + e.label);
            }
        }
        return Collections.unmodifiableMap(m);
    }

    /** Every entry, in table order (the order the linker laid the files and lines out in). */
    public static List<ExtableEntry> all() {
        return ALL;
    }

    /** The entry of the instruction labelled {@code label}; IllegalArgumentException if there is none. */
    public static ExtableEntry named(String label) {
        ExtableEntry e = BY_LABEL.get(Objects.requireNonNull(label));
        if (e == null) {
            throw new IllegalArgumentException("no exception table entry is labelled " + label + "; there are " + BY_LABEL.keySet());
        }
        return e;
    }

    /** The label on the instruction, as written in the assembly ({@code usercopy4a}). */
    public String label() {
        return label;
    }

    /** How many faults this entry has fixed up since the library was loaded. */
    public long hits() {
        return LibUsercopy.extableHits(index);
    }

    /** The position in the table. */
    int index() {
        return index;
    }

    /** The host address of the instruction that may fault. */
    long instruction() {
        return instruction;
    }

    /** The host address execution resumes at when it does. */
    long fixup() {
        return fixup;
    }

    @Override
    public String toString() {
        return label;
    }
}
