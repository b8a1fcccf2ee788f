package dev.usercopy.mm;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.usercopy.mm.AddressSpace.PageState;
import dev.usercopy.uapi.Errno;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Demand paging: what a first read or write of a lazy page maps, and how much fault-around takes. */
class FaultAroundTest extends MmScenario {

    @Test
    void aReadOfLazyPagesMapsTheZeroedFramesAndAllocatesNoFrame() {
        machine();
        AddressSpace as = space();
        long a = as.mmap(BASE, 64 * PAGE, Prot.READ | Prot.WRITE, MapFlags.PRIVATE);
        assertEquals(BASE, a, "a free, aligned hint is taken");
        checkMeasured(as);
        assertEquals(PageState.LAZY, as.pageState(a + 5 * PAGE));

        assertArrayEquals(new byte[3 * (int) PAGE], read(as, a + 5 * PAGE + 7, 3 * (int) PAGE));
        checkMeasured(as);
        assertEquals(0, used(), "reads of lazy anonymous pages allocate nothing");
        for (int p = 0; p < 16; p++) {
            assertEquals(PageState.ZEROED, as.pageState(a + p * PAGE), "page " + p + " of the first window");
            assertEquals(0, as.frameOf(a + p * PAGE)[1], "a zeroed frame is not refcounted");
        }
        assertEquals(PageState.LAZY, as.pageState(a + 16 * PAGE), "the next window is untouched");
        assertEquals(3, as.vmas(), "one read-only run between two reserved gaps");
    }

    @ParameterizedTest(name = "faultAround {0}")
    @ValueSource(ints = {1, 16})
    void aWriteAllocatesExactlyTheAlignedFaultAroundWindow(int faultAround) {
        machine(small().withFaultAround(faultAround));
        AddressSpace as = space();
        long a = as.mmap(BASE, 64 * PAGE, Prot.READ | Prot.WRITE, MapFlags.PRIVATE);

        writeByte(as, a + 21 * PAGE + 100, 0x5a);
        checkMeasured(as);
        assertEquals(faultAround, used(), "frames after one write fault");
        long window = 21 & -faultAround;
        for (int p = 0; p < 64; p++) {
            boolean inWindow = p >= window && p < window + faultAround;
            assertEquals(inWindow ? PageState.PRIVATE : PageState.LAZY, as.pageState(a + p * PAGE), "page " + p);
        }
        assertEquals(0x5a, readByte(as, a + 21 * PAGE + 100));

        writeByte(as, a + (window + faultAround - 1) * PAGE, 1);
        assertEquals(faultAround, used(), "a second write in the same window allocates nothing");
        writeByte(as, a + 40 * PAGE, 2);
        checkMeasured(as);
        assertEquals(2L * faultAround, used(), "a write in another window allocates that window");
    }

    @Test
    void aWriteToAZeroedPageAllocatesOnlyThatPage() {
        machine();
        AddressSpace as = space();
        long a = as.mmap(BASE, 16 * PAGE, Prot.READ | Prot.WRITE, MapFlags.PRIVATE);
        read(as, a, 1);
        assertEquals(PageState.ZEROED, as.pageState(a + 9 * PAGE));
        writeByte(as, a + 9 * PAGE, 9);
        checkMeasured(as);
        assertEquals(1, used());
        assertEquals(PageState.PRIVATE, as.pageState(a + 9 * PAGE));
        assertEquals(PageState.ZEROED, as.pageState(a + 8 * PAGE));
        assertEquals(PageState.ZEROED, as.pageState(a + 10 * PAGE));
        assertEquals(0, readByte(as, a + 8 * PAGE));
        assertEquals(9, readByte(as, a + 9 * PAGE));
    }

    @Test
    void faultAroundIsClippedAtTheEdgesOfItsGrant() {
        machine(small().withFaultAround(16));
        AddressSpace as = space();
        // Windows are [256, 272), [272, 288); the grant under test is [261, 281), with neighbours on both sides.
        long before = as.mmap(BASE, 5 * PAGE, Prot.READ | Prot.WRITE, MapFlags.PRIVATE | MapFlags.FIXED);
        long g = as.mmap(BASE + 5 * PAGE, 20 * PAGE, Prot.READ | Prot.WRITE, MapFlags.PRIVATE | MapFlags.FIXED);
        long after = as.mmap(BASE + 25 * PAGE, 7 * PAGE, Prot.READ | Prot.WRITE, MapFlags.PRIVATE | MapFlags.FIXED);
        checkMeasured(as);

        writeByte(as, g, 1);
        checkMeasured(as);
        assertEquals(11, used(), "from the grant's first page to the end of its window");
        for (int p = 0; p < 5; p++) {
            assertEquals(PageState.LAZY, as.pageState(before + p * PAGE), "the grant before is not filled");
        }

        writeByte(as, g + 19 * PAGE, 2);
        checkMeasured(as);
        assertEquals(20, used(), "from the start of the last window to the grant's end");
        for (int p = 0; p < 7; p++) {
            assertEquals(PageState.LAZY, as.pageState(after + p * PAGE), "the grant after is not filled");
        }

        read(as, after, 1);
        checkMeasured(as);
        assertEquals(PageState.ZEROED, as.pageState(after + 6 * PAGE));
        assertEquals(20, used());
    }

    @Test
    void aWriteFillsOnlyTheLazyPagesAdjoiningItInItsWindow() {
        machine(small().withFaultAround(16));
        AddressSpace as = space();
        long a = as.mmap(BASE, 16 * PAGE, Prot.READ | Prot.WRITE, MapFlags.PRIVATE);
        write(as, a, pattern(16 * (int) PAGE, 1));
        assertEquals(16, used());
        as.madviseDontNeed(a + 4 * PAGE, 3 * PAGE);
        as.madviseDontNeed(a + 10 * PAGE, 2 * PAGE);
        checkMeasured(as);
        assertEquals(11, used());

        writeByte(as, a + 5 * PAGE, 7);
        checkMeasured(as);
        assertEquals(14, used(), "the lazy run 4..6 around the fault, not the lazy pages 10..11");
        assertEquals(PageState.LAZY, as.pageState(a + 10 * PAGE));
        assertEquals(PageState.PRIVATE, as.pageState(a + 4 * PAGE));
        assertEquals(PageState.PRIVATE, as.pageState(a + 6 * PAGE));
    }

    @Test
    void aWindowGetsContiguousFramesThatTheHostMapsAsOneMapping() {
        machine(small().withFaultAround(16));
        AddressSpace as = space();
        assertEquals(1, as.vmas());
        checkMeasured(as);
        long a = as.mmap(BASE, 64 * PAGE, Prot.READ | Prot.WRITE, MapFlags.PRIVATE);
        writeByte(as, a + 3 * PAGE, 1);
        checkMeasured(as);
        long first = frame(as, a);
        for (int p = 1; p < 16; p++) {
            assertEquals(first + p, frame(as, a + p * PAGE), "page " + p + " of the window");
        }
        assertEquals(3, as.vmas(), "gap, the window's run, the rest of the reservation");
        assertEquals(3, as.hostVmasMeasured());

        write(as, a, pattern(64 * (int) PAGE, 2));
        checkMeasured(as);
        for (int w = 0; w < 4; w++) {
            long f = frame(as, a + w * 16 * PAGE);
            for (int p = 1; p < 16; p++) {
                assertEquals(f + p, frame(as, a + (w * 16 + p) * PAGE), "page " + p + " of window " + w);
            }
        }
        assertTrue(as.vmas() <= 9, "four windows cost at most a run and a gap each: " + as.vmas());
        assertBytes(pattern(64 * (int) PAGE, 2), as, a);
    }

    @Test
    void copiesResumeAcrossLazyPagesAndStopAtTheExactByteOutsideTheGrant() {
        machine();
        AddressSpace as = space();
        long a = as.mmap(BASE, 3 * PAGE, Prot.READ | Prot.WRITE, MapFlags.PRIVATE);
        byte[] data = pattern(4 * (int) PAGE, 3);
        assertEquals(PAGE + 123, as.copyToUser(a + 123, data, 0, data.length), "bytes past the grant are not written");
        checkMeasured(as);
        byte[] back = new byte[data.length];
        assertEquals(PAGE + 123, as.copyFromUser(back, 0, a + 123, back.length));
        assertArrayEquals(slice(data, 0, 3 * (int) PAGE - 123), slice(back, 0, 3 * (int) PAGE - 123));
        assertEquals(2 * PAGE, as.clearUser(a + 2 * PAGE, 3 * PAGE), "clearUser stops at the grant's end too");
        assertArrayEquals(new byte[(int) PAGE], read(as, a + 2 * PAGE, (int) PAGE));
        assertArrayEquals(slice(data, 0, 100), read(as, a + 123, 100), "bytes before the cleared page are kept");
        checkMeasured(as);
    }

    @Test
    void strncpyFollowsAStringAcrossPagesAndIsEfaultWhenItRunsOffTheGrant() {
        machine();
        AddressSpace as = space();
        long a = as.mmap(BASE, 2 * PAGE, Prot.READ | Prot.WRITE, MapFlags.PRIVATE);
        byte[] to = new byte[64];
        assertEquals(0, as.strncpyFromUser(to, 0, a + 5, 64), "a lazy page reads as an empty string");
        checkMeasured(as);
        byte[] hello = "hello, world\0".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        write(as, a + PAGE - 5, hello);
        assertEquals(12, as.strncpyFromUser(to, 0, a + PAGE - 5, 64));
        assertArrayEquals(slice(hello, 0, 12), slice(to, 0, 12));
        write(as, a + 2 * PAGE - 8, filled(8, 'x'));
        assertEquals(-Errno.EFAULT.number(), as.strncpyFromUser(to, 0, a + 2 * PAGE - 8, 64), "no NUL before the grant ends");
        assertEquals(8, as.strncpyFromUser(to, 0, a + 2 * PAGE - 8, 8), "count reached before the grant ends");
        checkMeasured(as);
    }
}
