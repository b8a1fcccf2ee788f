package dev.usercopy.uaccess;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import dev.usercopy.mm.AddressSpace;
import dev.usercopy.mm.ErrnoException;
import dev.usercopy.platform.Errno;

/** A guest pointer the syscall may read and write through (axptr's {@code UserPtr}). */
public final class UserPtr extends UserPointer<UserPtr> {
    UserPtr(AddressSpace space, long address, MemoryLayout layout) {
        super(space, address, layout);
    }

    /** A pointer to a {@code layout} at guest {@code address}; nothing is checked until it is used. */
    public static UserPtr of(AddressSpace space, long address, MemoryLayout layout) {
        return new UserPtr(space, address, layout);
    }

    @Override
    UserPtr make(long address, MemoryLayout layout) {
        return new UserPtr(space(), address, layout);
    }

    /** The same pointer, read-only. */
    public UserConstPtr asConst() {
        return new UserConstPtr(space(), address(), layout());
    }

    /** Writes {@code value}, exactly the layout's size, at the pointer. */
    public void set(MemorySegment value) {
        if (value.byteSize() != layout().byteSize()) {
            throw new ErrnoException(Errno.EINVAL, address(), value.byteSize(), "value of " + value.byteSize() + " bytes for " + layout());
        }
        setAsSlice(value);
    }

    /** Writes {@code values}, a whole number of this layout's size, from the pointer on. */
    public void setAsSlice(MemorySegment values) {
        long length = values.byteSize();
        if (length % layout().byteSize() != 0) {
            throw new ErrnoException(Errno.EINVAL, address(), length, "not a whole number of " + layout());
        }
        if (length == 0) {
            return;
        }
        check(length, true);
        long left = space().copyToUser(address(), values);
        if (left != 0) {
            throw Faults.efault(address(), length, left, "write of " + layout());
        }
    }

    public void setByte(byte value) {
        requireSize(1);
        set(MemorySegment.ofArray(new byte[] {value}));
    }

    public void setShort(short value) {
        requireSize(2);
        MemorySegment v = kernelBuffer(address(), 2);
        v.set(ValueLayout.JAVA_SHORT, 0, value);
        set(v);
    }

    public void setInt(int value) {
        requireSize(4);
        MemorySegment v = kernelBuffer(address(), 4);
        v.set(ValueLayout.JAVA_INT, 0, value);
        set(v);
    }

    public void setLong(long value) {
        requireSize(8);
        MemorySegment v = kernelBuffer(address(), 8);
        v.set(ValueLayout.JAVA_LONG, 0, value);
        set(v);
    }
}
