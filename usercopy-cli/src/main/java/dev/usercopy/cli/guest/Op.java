package dev.usercopy.cli.guest;

import dev.usercopy.mm.AddressSpace.PageState;
import dev.usercopy.uapi.Errno;

/** One statement of the guest language, its arguments already checked (see docs/guest-language.md). */
public sealed interface Op {
    /** A guest address as written: a number, or {@code $} (the last mmap's result) plus an offset. */
    record Addr(boolean lastMmap, long offset) {
        public static Addr of(long address) {
            return new Addr(false, address);
        }
    }

    /** {@code addr} null: let mmap choose ({@code any}). */
    record Mmap(Addr addr, long length, int prot, int flags) implements Op {}

    record Munmap(Addr addr, long length) implements Op {}

    record Mprotect(Addr addr, long length, int prot) implements Op {}

    record MadviseDontNeed(Addr addr, long length) implements Op {}

    record Write(Addr addr, byte[] data) implements Op {}

    record Read(Addr addr, int length) implements Op {}

    record ReadString(Addr addr, int max) implements Op {}

    record Clear(Addr addr, long length) implements Op {}

    /** {@code name} null: the next free {@code pN}. */
    record Fork(String name) implements Op {}

    record Switch(String name) implements Op {}

    record Close(String name) implements Op {}

    /** Lends [addr, addr + length) of the current space to {@code borrower}; {@code $} becomes the buffer's address there. */
    record Lend(Addr addr, long length, String borrower, boolean writable) implements Op {}

    /** Ends lend {@code id} (1, 2, ... in the order made), or the latest one still open when null. */
    record Unlend(Integer id) implements Op {}

    record Spaces() implements Op {}

    record Maps() implements Op {}

    /** {@code addr} null: the span of all grants. */
    record Pages(Addr addr, long length) implements Op {}

    record Frame(Addr addr) implements Op {}

    record Stats() implements Op {}

    record Echo(String text) implements Op {}

    record Help() implements Op {}

    record Quit() implements Op {}

    /** An {@code expect} line: a check of the previous statement's result or of the address space now. */
    sealed interface Expect extends Op {}

    record ExpectOk() implements Expect {}

    record ExpectErrno(Errno errno) implements Expect {}

    /** Bytes the last copy did not copy. */
    record ExpectLeft(long left) implements Expect {}

    /** The bytes the last read or readstr got. */
    record ExpectBytes(byte[] data) implements Expect {}

    /** The length readstr returned. */
    record ExpectLength(long length) implements Expect {}

    /** The address the last mmap returned. */
    record ExpectAddress(Addr addr) implements Expect {}

    record ExpectState(Addr addr, PageState state) implements Expect {}

    /** One symbol a page from {@code addr}, as {@code pages} prints them. */
    record ExpectPages(Addr addr, String symbols) implements Expect {}

    record ExpectRefcount(Addr addr, long refcount) implements Expect {}

    /** Whether the page at {@code addr} maps the same frame here as in address space {@code other}. */
    record ExpectFrame(Addr addr, boolean same, String other) implements Expect {}
}
