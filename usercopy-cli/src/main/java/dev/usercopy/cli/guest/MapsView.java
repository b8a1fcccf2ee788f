package dev.usercopy.cli.guest;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

import dev.usercopy.mm.AddressSpace;
import dev.usercopy.mm.Grant;
import dev.usercopy.mm.Prot;
import dev.usercopy.mm.Provider;

/** An address space's grants in the shape of /proc/PID/maps, with the provider in the last column. */
public final class MapsView {
    private MapsView() {}

    /**
     * One line a grant: {@code start-end perms offset pages provider}. The
     * offset is the file offset for file mappings, the first frame for
     * device memory, the lender's address for borrowed pages, else 0.
     */
    public static List<String> lines(AddressSpace space, Function<AddressSpace, String> nameOf) {
        List<String> lines = new ArrayList<>();
        for (Grant g : space.grants()) {
            Provider p = g.provider();
            String kind = (p.shared() ? "s" : "p");
            long offset = switch (p) {
                case Provider.Allocated a -> a.cowFile() == null ? 0 : a.cowFile().offset();
                case Provider.AllocatedShared s -> 0;
                case Provider.PhysBorrowed d -> d.base();
                case Provider.External e -> e.page() * AddressSpace.PAGE;
                case Provider.FmapBorrowed f -> f.file().offset();
            };
            String what = switch (p) {
                case Provider.Allocated a -> a.cowFile() == null ? "Allocated [anon]" : "Allocated " + a.cowFile().path();
                case Provider.AllocatedShared s -> "AllocatedShared [anon shared]";
                case Provider.PhysBorrowed d -> "PhysBorrowed [device frames]";
                case Provider.External e -> "External [borrowed from " + nameOf.apply(e.lender()) + "]";
                case Provider.FmapBorrowed f -> "FmapBorrowed " + f.file().path();
            };
            lines.add(String.format("%08x-%08x %s%s %08x %5d  %s", g.start() * AddressSpace.PAGE, g.end() * AddressSpace.PAGE,
                    Prot.toString(g.prot()), kind, offset, g.pages(), what));
        }
        return lines;
    }

    public static final String HEADER = "start    end      perm offset   pages  provider";
}
