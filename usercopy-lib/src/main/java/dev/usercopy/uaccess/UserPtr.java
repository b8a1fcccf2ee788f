package dev.usercopy.uaccess;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import dev.usercopy.mm.AddressSpace;
import dev.usercopy.mm.ErrnoException;
import dev.usercopy.uapi.Errno;

/** A guest pointer the syscall may read and write through (axptr's {@code UserPtr}). */
public final class UserPtr extends UserPointer<UserPtr> {
    UserPtr(AddressSpace space, long address, MemoryLayout layout) {
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
    public static UserPtr of(AddressSpace space, long address, MemoryLayout layout) {
        return new UserPtr(space, address, layout);
    }

    @Override
    UserPtr make(long address, MemoryLayout layout) {
        return new UserPtr(space(), address, layout);
    }

    /** {@return the same pointer, only for reading, to hand to code that must not write through it} */
    public UserConstPtr asConst() {
        return new UserConstPtr(space(), address(), layout());
    }

    /**
     * Writes a value at the pointer, after the pointer's checks.
     *
     * @param value exactly the layout's size (else EINVAL)
     */
    public void set(MemorySegment value) {
        if (value.byteSize() != layout().byteSize()) {
            throw new ErrnoException(Errno.EINVAL, address(), value.byteSize(), "value of " + value.byteSize() + " bytes for " + layout());
        }
        setAsSlice(value);
    }

    /**
     * Writes consecutive values from the pointer on (a C array); EFAULT, with
     * the bytes written before the fault, when one cannot be written.
     *
     * @param values a whole number of the layout's size (else EINVAL); empty writes nothing
     */
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

    /**
     * Writes the value, for a pointer to a 1-byte layout (else IllegalArgumentException).
     *
     * @param value the bits to write; signed or unsigned alike
     */
    public void setByte(byte value) {
        requireSize(1);
        set(MemorySegment.ofArray(new byte[] {value}));
    }

    /**
     * Writes the value, little-endian, for a pointer to a 2-byte layout (else IllegalArgumentException).
     *
     * @param value the bits to write; signed or unsigned alike
     */
    public void setShort(short value) {
        requireSize(2);
        MemorySegment v = kernelBuffer(address(), 2);
        v.set(ValueLayout.JAVA_SHORT, 0, value);
        set(v);
    }

    /**
     * Writes the value, little-endian, for a pointer to a 4-byte layout (else IllegalArgumentException).
     *
     * @param value the bits to write; signed or unsigned alike
     */
    public void setInt(int value) {
        requireSize(4);
        MemorySegment v = kernelBuffer(address(), 4);
        v.set(ValueLayout.JAVA_INT, 0, value);
        set(v);
    }

    /**
     * Writes the value, little-endian, for a pointer to a 8-byte layout (else IllegalArgumentException).
     *
     * @param value the bits to write; signed or unsigned alike
     */
    public void setLong(long value) {
        requireSize(8);
        MemorySegment v = kernelBuffer(address(), 8);
        v.set(ValueLayout.JAVA_LONG, 0, value);
        set(v);
    }
}
