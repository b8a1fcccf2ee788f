/**
 * usercopy: a small kernel's memory manager inside the JVM. Guest memory is
 * real pages (memfd frames); copies to and from it are NASM routines whose
 * faults an exception table turns into short counts.
 * {@link dev.usercopy.mm.MemoryManager} makes address spaces,
 * {@link dev.usercopy.mm.AddressSpace} maps and copies, and
 * {@link dev.usercopy.uaccess.UserSlice} and {@link dev.usercopy.uaccess.UserPtr}
 * are what a syscall implementation uses, and {@link dev.usercopy.proc.Guest}
 * runs an unmodified static Linux program with its syscalls served here. Needs Linux x86-64 and
 * {@code --enable-native-access=dev.usercopy}.
 */
module dev.usercopy {
    exports dev.usercopy.mm;
    exports dev.usercopy.proc;
    exports dev.usercopy.uaccess;
    exports dev.usercopy.uapi;
}
