package dev.usercopy.sys;

import dev.usercopy.mm.AddressSpace;

/** TODO(helper): brk. */
public final class ProgramBreak {
    ProgramBreak(AddressSpace space, long start) {}
}
