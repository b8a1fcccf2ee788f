package dev.usercopy.uaccess;

import java.lang.foreign.MemoryLayout;

import dev.usercopy.mm.AddressSpace;

/** A guest pointer the syscall only reads through (axptr's {@code UserConstPtr}). */
public final class UserConstPtr extends UserPointer<UserConstPtr> {
    UserConstPtr(AddressSpace space, long address, MemoryLayout layout) {
        super(space, address, layout);
    }

    /** A pointer to a {@code layout} at guest {@code address}; nothing is checked until it is used. */
    public static UserConstPtr of(AddressSpace space, long address, MemoryLayout layout) {
        return new UserConstPtr(space, address, layout);
    }

    @Override
    UserConstPtr make(long address, MemoryLayout layout) {
        return new UserConstPtr(space(), address, layout);
    }
}
