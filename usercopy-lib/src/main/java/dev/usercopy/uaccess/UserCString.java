package dev.usercopy.uaccess;

import java.util.Arrays;

import dev.usercopy.mm.AddressSpace;
import dev.usercopy.mm.ErrnoException;
import dev.usercopy.uapi.Errno;

/**
 * A NUL-terminated guest string as bytes, read as Linux's {@code getname}
 * reads a path: {@code strncpy_from_user} of at most {@code max} bytes, so
 * no range check covers bytes past the NUL (a short string at the very end
 * of user space is fine), and no charset is imposed (a Linux path is bytes).
 */
public final class UserCString {
    private UserCString() {}

    /**
     * The bytes before the NUL of the string at guest {@code address}:
     * EFAULT when a byte before the NUL cannot be read or the string runs
     * past the end of user space, ENAMETOOLONG when no NUL lies within
     * {@code max} bytes (Linux's {@code PATH_MAX} for a path).
     *
     * @param space the guest's address space
     * @param address the guest address of the string
     * @param max the most bytes to read, NUL included
     * @return the bytes before the NUL, a new array
     */
    public static byte[] read(AddressSpace space, long address, int max) {
        if (address < 0 || address >= space.size()) {
            throw new ErrnoException(Errno.EFAULT, address, max, "string outside user space");
        }
        int count = (int) Math.min(max, space.size() - address);
        byte[] buf = new byte[count];
        long got = space.strncpyFromUser(buf, 0, address, count);
        if (got < 0) {
            throw new ErrnoException(Errno.EFAULT, address, count, "string runs into a byte the guest may not read");
        }
        if (got == count) {
            if (count < max) {
                throw new ErrnoException(Errno.EFAULT, address, count, "string runs past the end of user space");
            }
            throw new ErrnoException(Errno.ENAMETOOLONG, address, max, "no NUL within " + max + " bytes");
        }
        return Arrays.copyOf(buf, (int) got);
    }
}
