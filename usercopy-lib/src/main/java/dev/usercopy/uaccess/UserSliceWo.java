package dev.usercopy.uaccess;

import dev.usercopy.mm.AddressSpace;

/** A {@link UserSlice} the syscall may only write. */
public final class UserSliceWo extends UserSlice<UserSliceWo> implements UserWritable {
    UserSliceWo(AddressSpace space, long address, long length) {
        super(space, address, length);
    }

    @Override
    UserSliceWo make(long address, long length) {
        return new UserSliceWo(space(), address, length);
    }
}
