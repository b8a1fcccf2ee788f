package dev.usercopy.uaccess;

import java.lang.foreign.MemoryLayout;

import dev.usercopy.mm.AddressSpace;

/** A guest pointer the syscall only reads through (axptr's {@code UserConstPtr}). */
public final class UserConstPtr extends UserPointer<UserConstPtr> {
    UserConstPtr(AddressSpace space, long address, MemoryLayout layout) {
        super(space, address, layout);
    }

    /**
     * A pointer to a value at a guest address, as a syscall receives it;
     * nothing is checked until it is used.
     *
     * @param space the guest's address space
     * @param address the guest address
     * @param layout what it points at; its size and alignment drive the checks
     * @return the pointer
     * @throws IllegalArgumentException if the layout has no bytes
     */
    public static UserConstPtr of(AddressSpace space, long address, MemoryLayout layout) {
        return new UserConstPtr(space, address, layout);
    }

    @Override
    UserConstPtr make(long address, MemoryLayout layout) {
        return new UserConstPtr(space(), address, layout);
    }
}
