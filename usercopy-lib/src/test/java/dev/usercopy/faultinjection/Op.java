package dev.usercopy.faultinjection;

/** The four things a kernel does with user memory, each with Linux's return convention. */
enum Op {
    /** copy_from_user: returns bytes not copied. */
    FROM_USER,
    /** copy_to_user: returns bytes not copied. */
    TO_USER,
    /** clear_user: returns bytes not cleared; the kernel buffer is not used. */
    CLEAR_USER,
    /** strncpy_from_user with count = length: the string's length, count, or -EFAULT. */
    STRNCPY_FROM_USER;

    boolean writesUser() {
        return this == TO_USER || this == CLEAR_USER;
    }
}
