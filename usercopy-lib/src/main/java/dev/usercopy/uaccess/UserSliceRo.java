package dev.usercopy.uaccess;

import dev.usercopy.mm.AddressSpace;
import dev.usercopy.mm.Lend;

/** A {@link UserSlice} the syscall may only read. */
public final class UserSliceRo extends UserSlice<UserSliceRo> implements UserReadable {
    UserSliceRo(AddressSpace space, long address, long length) {
        super(space, address, length);
    }

    @Override
    UserSliceRo make(long address, long length) {
        return new UserSliceRo(space(), address, length);
    }

    /**
     * Lends this buffer to {@code borrower}, read-only (see {@link Lend}):
     * the borrower sees only the buffer's bytes. Close the lend to end it.
     *
     * @param borrower an address space of the same machine
     * @return the lend, which holds the borrower's range until closed
     */
    public Lend lendTo(AddressSpace borrower) {
        return space().lend(address(), length(), borrower, false);
    }
}
