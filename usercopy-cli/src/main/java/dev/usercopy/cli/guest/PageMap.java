package dev.usercopy.cli.guest;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import dev.usercopy.mm.AddressSpace;
import dev.usercopy.mm.AddressSpace.PageState;
import dev.usercopy.mm.Grant;

/** One character a guest page, saying what backs it now. */
public final class PageMap {
    private PageMap() {}

    static final long PAGE = AddressSpace.PAGE;
    /** Pages a line of {@link #render} shows. */
    static final int PER_LINE = 64;
    /** The most pages {@link #render} shows when no range is given, so a huge mapping stays readable. */
    static final long MAX_DEFAULT_PAGES = 16 * PER_LINE;

    public static final String LEGEND =
            "legend: . unmapped  - lazy (no frame yet)  0 zeroed frame (read-only)  P private  C copy-on-write shared  S shared";

    public static char symbol(PageState state) {
        return switch (state) {
            case UNMAPPED -> '.';
            case LAZY -> '-';
            case ZEROED -> '0';
            case PRIVATE -> 'P';
            case COW_SHARED -> 'C';
            case SHARED -> 'S';
        };
    }

    /** The state a symbol or a name stands for ({@code P}, {@code private}, {@code cow}, ...), or null. */
    static PageState parseState(String word) {
        return switch (word.toLowerCase(Locale.ROOT)) {
            case ".", "unmapped" -> PageState.UNMAPPED;
            case "-", "lazy" -> PageState.LAZY;
            case "0", "zeroed", "zero" -> PageState.ZEROED;
            case "p", "private" -> PageState.PRIVATE;
            case "c", "cow", "cow_shared", "cow-shared" -> PageState.COW_SHARED;
            case "s", "shared" -> PageState.SHARED;
            default -> null;
        };
    }

    /** The symbols of {@code pages} pages from guest address {@code from} (page aligned). */
    public static String symbols(AddressSpace space, long from, long pages) {
        StringBuilder sb = new StringBuilder((int) pages);
        for (long p = 0; p < pages; p++) {
            sb.append(symbol(space.pageState(from + p * PAGE)));
        }
        return sb.toString();
    }

    /** [first, end) guest address of the span from the lowest grant to the end of the highest; null with no grant. */
    static long[] span(AddressSpace space) {
        List<Grant> grants = space.grants();
        if (grants.isEmpty()) {
            return null;
        }
        return new long[] {grants.getFirst().start() * PAGE, grants.getLast().end() * PAGE};
    }

    /**
     * Lines of {@link #PER_LINE} pages, each led by its first guest address;
     * consecutive lines of nothing but unmapped pages become one line saying so.
     */
    public static List<String> render(AddressSpace space, long from, long pages) {
        List<String> lines = new ArrayList<>();
        long holePages = 0;
        long holeStart = 0;
        for (long p = 0; p < pages; p += PER_LINE) {
            long n = Math.min(PER_LINE, pages - p);
            String row = symbols(space, from + p * PAGE, n);
            if (row.chars().allMatch(c -> c == '.')) {
                if (holePages == 0) {
                    holeStart = from + p * PAGE;
                }
                holePages += n;
                continue;
            }
            hole(lines, holeStart, holePages);
            holePages = 0;
            lines.add(String.format("0x%08x  %s", from + p * PAGE, row));
        }
        hole(lines, holeStart, holePages);
        return lines;
    }

    private static void hole(List<String> lines, long start, long pages) {
        if (pages > 0) {
            lines.add(String.format("0x%08x  ... %d pages unmapped", start, pages));
        }
    }
}
