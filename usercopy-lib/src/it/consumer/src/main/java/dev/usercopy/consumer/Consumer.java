package dev.usercopy.consumer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import dev.usercopy.mm.AddressSpace;
import dev.usercopy.mm.ErrnoException;
import dev.usercopy.mm.MapFlags;
import dev.usercopy.mm.MemoryManager;
import dev.usercopy.mm.Prot;
import dev.usercopy.uaccess.UserSlice;
import dev.usercopy.uapi.Errno;

/**
 * What a project that depends on usercopy does first: map guest memory, copy
 * into it across a page boundary and back, then copy from an unmapped page
 * and get EFAULT with the bytes before it done. Exits non-zero on any
 * difference, which fails the build that runs it.
 */
public final class Consumer {
    private Consumer() {}

    public static void main(String[] args) {
        Module library = AddressSpace.class.getModule();
        check(library.isNamed() && library.getName().equals("dev.usercopy"),
                "the library is the named module dev.usercopy, not " + library);
        check(!library.isExported("dev.usercopy.platform"), "platform is not exported");

        long page = AddressSpace.PAGE;
        try (MemoryManager mm = new MemoryManager(MemoryManager.Config.defaults().withFrames(1024));
             AddressSpace space = mm.newAddressSpace()) {
            long base = space.mmap(0, 2 * page, Prot.READ | Prot.WRITE, MapFlags.PRIVATE);
            byte[] hello = "hello, guest page".getBytes(StandardCharsets.US_ASCII);
            long straddle = base + page - 5;

            check(space.copyToUser(straddle, hello, 0, hello.length) == 0, "copyToUser left bytes behind");
            byte[] back = new byte[hello.length];
            check(space.copyFromUser(back, 0, straddle, back.length) == 0, "copyFromUser left bytes behind");
            check(Arrays.equals(hello, back), "read back " + new String(back, StandardCharsets.US_ASCII));
            check(UserSlice.ro(space, straddle, hello.length).copyToString().equals("hello, guest page"),
                    "UserSlice read another string");

            space.munmap(base + page, page);
            byte[] cut = new byte[hello.length];
            try {
                UserSlice.ro(space, straddle, cut.length).copyToSlice(cut);
                check(false, "a copy from an unmapped page succeeded");
            } catch (ErrnoException e) {
                check(e.errno() == Errno.EFAULT, "errno " + e.errno());
                check(e.done() == 5, "done " + e.done() + ", not the 5 bytes before the unmapped page");
            }
        }
        System.out.println("consumer: copied through an AddressSpace with usercopy as its one dependency");
    }

    private static void check(boolean ok, String what) {
        if (!ok) {
            System.err.println("consumer: " + what);
            System.exit(1);
        }
    }
}
