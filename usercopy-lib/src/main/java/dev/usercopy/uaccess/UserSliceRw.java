package dev.usercopy.uaccess;

import dev.usercopy.mm.AddressSpace;
import dev.usercopy.mm.Lend;

/** A {@link UserSlice} the syscall may read and write. */
public final class UserSliceRw extends UserSlice<UserSliceRw> implements UserReadable, UserWritable {
    UserSliceRw(AddressSpace space, long address, long length) {
        super(space, address, length);
    }

    @Override
    UserSliceRw make(long address, long length) {
        return new UserSliceRw(space(), address, length);
    }

    /** {@return the same range as a slice that may only be read, to hand to code that must not write it} */
    public UserSliceRo readOnly() {
        return new UserSliceRo(space(), address(), length());
    }

    /** {@return the same range as a slice that may only be written} */
    public UserSliceWo writeOnly() {
        return new UserSliceWo(space(), address(), length());
    }

    /**
     * Lends this buffer to {@code borrower}, writable (see {@link Lend}): the
     * borrower sees only the buffer's bytes, and its writes reach them.
     * Close the lend to end it.
     *
     * @param borrower an address space of the same machine
     * @return the lend, which holds the borrower's range until closed
     */
    public Lend lendTo(AddressSpace borrower) {
        return space().lend(address(), length(), borrower, true);
    }
}
