package dev.usercopy.cli;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import dev.usercopy.platform.Errno;
import dev.usercopy.platform.FaultHandler;
import dev.usercopy.platform.HostMapping;
import dev.usercopy.platform.Posix;
import dev.usercopy.platform.UserCopy;

import static dev.usercopy.platform.libc_h.PROT_NONE;

/**
 * A short tour of the fault path on real pages: each step does a copy that
 * runs into a page that faults and checks the count it gets back. Returns a
 * non-zero exit code if any step does not come out as it says.
 */
final class Demo {
    private static final long PAGE = Posix.PAGE_SIZE;

    private final PrintStream out;
    private int failures;

    Demo(PrintStream out) {
        this.out = out;
    }

    int run() {
        out.println("usercopy demo: copies that fault half-way, on real pages, inside this JVM");
        out.println();
        FaultHandler.Stats before = FaultHandler.stats();
        faultHalfWayOnProtNone();
        faultHalfWayPastEndOfFile();
        stringRunsIntoAnUnmappedPage();
        theJvmDidNotNotice(before);
        out.println();
        out.println(failures == 0 ? "all steps came out as described" : failures + " step(s) did NOT come out as described");
        return failures == 0 ? 0 : 1;
    }

    private void faultHalfWayOnProtNone() {
        try (HostMapping guest = HostMapping.anonymous(2 * PAGE)) {
            guest.protect(PAGE, PAGE, PROT_NONE);
            long boundary = guest.address() + PAGE;
            byte[] text = "bytes the guest wrote just before a PROT_NONE page".getBytes(StandardCharsets.US_ASCII);
            long src = boundary - text.length;
            check("fill the guest page through copy_to_user", 0, UserCopy.copyToUser(src, text, 0, text.length));

            out.printf("guest: page 0x%x read-write, page 0x%x PROT_NONE%n", guest.address(), boundary);
            byte[] kernel = new byte[128];
            long left = UserCopy.copyFromUser(kernel, 0, src, kernel.length);
            out.printf("copy_from_user(kernel[128], 0x%x, 128)  %d bytes lie before the PROT_NONE page%n", src, text.length);
            check("  returns the bytes NOT copied", kernel.length - text.length, left);
            out.printf("  arrived: \"%s\"%n", new String(kernel, 0, text.length, StandardCharsets.US_ASCII));
            check("  kernel bytes past the fault left untouched (non-zero count)", 0, countNonZero(kernel, text.length));
            out.println();
        }
    }

    private void faultHalfWayPastEndOfFile() {
        try (HostMapping guest = HostMapping.memfd("demo", PAGE, 2 * PAGE)) {
            long boundary = guest.address() + PAGE;
            out.printf("guest: a one-page memfd mapped over two pages; 0x%x is past its end (SIGBUS)%n", boundary);
            byte[] kernel = new byte[4096];
            long left = UserCopy.copyToUser(boundary - 1000, kernel, 0, kernel.length);
            out.printf("copy_to_user(0x%x, kernel[4096], 4096)%n", boundary - 1000);
            check("  returns the bytes NOT copied", 4096 - 1000, left);
            check("clear_user(the same range) returns the bytes NOT cleared", 4096 - 1000, UserCopy.clearUser(boundary - 1000, 4096));
            out.println();
        }
    }

    private void stringRunsIntoAnUnmappedPage() {
        try (HostMapping guest = HostMapping.anonymous(2 * PAGE)) {
            guest.protect(PAGE, PAGE, PROT_NONE);
            long boundary = guest.address() + PAGE;
            byte[] noNul = "/no/terminating/nul".getBytes(StandardCharsets.US_ASCII);
            UserCopy.copyToUser(boundary - noNul.length, noNul, 0, noNul.length);
            long got = UserCopy.strncpyFromUser(new byte[256], 0, boundary - noNul.length, 256);
            out.printf("strncpy_from_user of \"%s\" running into the PROT_NONE page%n", new String(noNul, StandardCharsets.US_ASCII));
            check("  returns -EFAULT", -Errno.EFAULT.number(), got);
            byte[] withNul = "/etc/hosts\0".getBytes(StandardCharsets.US_ASCII);
            UserCopy.copyToUser(boundary - withNul.length, withNul, 0, withNul.length);
            check("  with a NUL as the page's last byte it returns the length", withNul.length - 1,
                    UserCopy.strncpyFromUser(new byte[256], 0, boundary - withNul.length, 256));
            out.println();
        }
    }

    private void theJvmDidNotNotice(FaultHandler.Stats before) {
        FaultHandler.Stats after = FaultHandler.stats();
        out.printf("fault handler: %d fixups here (%d SIGSEGV, %d SIGBUS; a fault in the qword loop takes two, the qword and the byte retry);%n  faults that are not ours went on to the JVM's handler%n",
                after.fixups() - before.fixups(), after.segvFixups() - before.segvFixups(), after.busFixups() - before.busFixups());
        Object nothing = null;
        try {
            nothing.hashCode();
            fail("a null dereference did not throw");
        } catch (NullPointerException expected) {
            out.println("the JVM's own faults still work: a null dereference still throws NullPointerException");
        }
    }

    private void check(String what, long expected, long got) {
        if (expected == got) {
            out.printf("%s: %d%n", what, got);
        } else {
            fail(what + ": expected " + expected + ", got " + got);
        }
    }

    private void fail(String what) {
        failures++;
        out.println("FAILED " + what);
    }

    private static long countNonZero(byte[] b, int from) {
        long n = 0;
        for (int i = from; i < b.length; i++) {
            if (b[i] != 0) {
                n++;
            }
        }
        return n;
    }
}
