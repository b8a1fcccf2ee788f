/*
 * The host side of MmOracleTest: a process whose top of user space mirrors a
 * guest address space, driven over pipes. Every access to the region goes
 * through the kernel's own user copies (pwrite/pread of a memfd, read of
 * /dev/zero, prctl(PR_SET_NAME)), never through a load or store of this
 * process, so a PROT_NONE page or a page past the end of a file costs an
 * errno, not a signal.
 *
 * Request: 11 little-endian int64 (op, a0..a5, scan address, scan pages,
 * scan writes, payload length), then the payload. Answer: 3 int64 (result
 * or -errno, data length, scan length), the data, the scan: after the op,
 * the pages asked for are scanned (see scan()) in the same round trip. A scan
 * address of -1 means from the page before the op's result (an mmap's
 * address), clipped to the region.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

enum {
    OP_EXIT = 0, OP_PLACE = 1, OP_MMAP = 2, OP_MUNMAP = 3, OP_MPROTECT = 4, OP_MADVISE = 5, OP_MSYNC = 6,
    OP_COPY_FROM = 7, OP_COPY_TO = 8, OP_CLEAR = 9, OP_STRNCPY = 10, OP_NOP = 11, OP_FORK = 12, OP_RESET = 13,
};

#define PAGE 4096L
#define MAX_PAYLOAD (1L << 22)
#define FILES 8

static int in = 0, out = 1;
static long region_lo, region_hi; /* the mirror of the guest address space, for scans after an mmap */
static int scratch = -1, zero = -1;
static int files[FILES];
static unsigned char *payload, *answer, *scanned;

static void die(const char *what) {
    fprintf(stderr, "mm-oracle-helper: %s: %s\n", what, strerror(errno));
    _exit(3);
}

static void read_all(void *buf, long n) {
    unsigned char *p = buf;
    while (n > 0) {
        ssize_t r = read(in, p, n);
        if (r == 0) {
            _exit(0); /* the test went away */
        }
        if (r < 0) {
            if (errno == EINTR) continue;
            die("read request");
        }
        p += r;
        n -= r;
    }
}

static void write_all(const void *buf, long n) {
    const unsigned char *p = buf;
    while (n > 0) {
        ssize_t r = write(out, p, n);
        if (r < 0) {
            if (errno == EINTR) continue;
            die("write answer");
        }
        p += r;
        n -= r;
    }
}

static void reply(long result, long len, long scan_len) {
    int64_t h[3] = {result, len, scan_len};
    write_all(h, sizeof h);
    write_all(answer, len);
    write_all(scanned, scan_len);
}

static long neg(long r) {
    return r < 0 ? -errno : r;
}

/* pwrite of n user bytes at addr into the scratch memfd: copy_from_user. */
static long copy_from(long addr, long n) {
    return neg(pwrite(scratch, (void *) addr, n, 0));
}

/* pread into n user bytes at addr from the scratch memfd, which holds src: copy_to_user. */
static long copy_to(long addr, const void *src, long n) {
    if (n > 0 && pwrite(scratch, src, n, 0) != n) die("pwrite scratch");
    return neg(pread(scratch, (void *) addr, n, 0));
}

static void fetch(long n, unsigned char *dst) {
    if (n > 0 && pread(scratch, dst, n, 0) != n) die("pread scratch");
}

/* Per page of [addr, +pages): the bytes readable (pwrite), then, if write, the
   bytes writable: the same bytes written back (pread), or zeros (a read of
   /dev/zero) where the page cannot be read; then the page's bytes, zeros where
   unreadable. Returns the length. */
static long scan(long addr, long pages, int write) {
    long at = 0;
    if (pages < 0 || pages * (16 + PAGE) > MAX_PAYLOAD) {
        errno = E2BIG;
        die("scan too large");
    }
    for (long i = 0; i < pages; i++) {
        long p = addr + i * PAGE;
        int64_t rw[2];
        rw[0] = copy_from(p, PAGE);
        long got = rw[0] > 0 ? rw[0] : 0;
        unsigned char *content = scanned + at + 16;
        memset(content, 0, PAGE);
        fetch(got, content);
        rw[1] = 0;
        if (write) {
            rw[1] = got == PAGE ? neg(pread(scratch, (void *) p, PAGE, 0)) : neg(read(zero, (void *) p, PAGE));
        }
        memcpy(scanned + at, rw, 16);
        at += 16 + PAGE;
    }
    return at;
}

/* Serves requests until told to exit. */
static void serve(void) {
    for (;;) {
        int64_t h[11];
        read_all(h, sizeof h);
        long op = h[0], a0 = h[1], a1 = h[2], a2 = h[3], a3 = h[4], a4 = h[5], a5 = h[6];
        long scan_addr = h[7], scan_pages = h[8], scan_write = h[9], plen = h[10];
        long result = 0, len = 0;
        if (plen < 0 || plen > MAX_PAYLOAD) {
            errno = EINVAL;
            die("payload length");
        }
        read_all(payload, plen);
        switch (op) {
        case OP_EXIT:
            reply(0, 0, 0);
            _exit(0);
        case OP_RESET: {
            /* Empties the region [a0, +a1) and opens the files named in the payload (NUL-separated). */
            for (int i = 0; i < FILES; i++) {
                if (files[i] >= 0) close(files[i]);
                files[i] = -1;
            }
            result = neg(syscall(SYS_munmap, a0, a1));
            region_lo = a0;
            region_hi = a0 + a1;
            payload[plen] = 0;
            int f = 0;
            for (long at = 0; result == 0 && at < plen && f < FILES; f++) {
                char *name = (char *) payload + at;
                files[f] = open(name, O_RDWR);
                if (files[f] < 0) result = -errno;
                at += strlen(name) + 1;
            }
            break;
        }
        case OP_PLACE: {
            /* Is [a0, a0 + a1) free? Reserved and given back, so nothing else lands there. */
            long r = syscall(SYS_mmap, a0, a1, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE | MAP_NORESERVE, -1, 0);
            if (r == -1) {
                result = -errno;
            } else if (r != a0) {
                syscall(SYS_munmap, r, a1);
                result = -EEXIST;
            } else {
                syscall(SYS_munmap, a0, a1);
            }
            break;
        }
        case OP_MMAP: {
            int fd = a4 < 0 || a4 >= FILES ? -1 : files[a4];
            long r = syscall(SYS_mmap, a0, a1, a2, a3, fd, a5);
            result = r == -1 ? -errno : r;
            break;
        }
        case OP_MUNMAP:
            result = neg(syscall(SYS_munmap, a0, a1));
            break;
        case OP_MPROTECT:
            result = neg(syscall(SYS_mprotect, a0, a1, a2));
            break;
        case OP_MADVISE:
            result = neg(syscall(SYS_madvise, a0, a1, a2));
            break;
        case OP_MSYNC:
            result = neg(syscall(SYS_msync, a0, a1, a2));
            break;
        case OP_COPY_FROM:
            result = copy_from(a0, a1);
            len = result > 0 ? result : 0;
            fetch(len, answer);
            break;
        case OP_COPY_TO:
            result = copy_to(a0, payload, plen);
            break;
        case OP_CLEAR:
            result = neg(read(zero, (void *) a0, a1));
            break;
        case OP_STRNCPY:
            /* PR_SET_NAME copies with strncpy_from_user(comm, addr, 15). */
            result = neg(prctl(PR_SET_NAME, a0, 0, 0, 0));
            memset(answer, 0, 16);
            if (result == 0 && prctl(PR_GET_NAME, answer, 0, 0, 0) != 0) die("PR_GET_NAME");
            len = result == 0 ? 16 : 0;
            break;
        case OP_FORK: {
            /* a0: the new process's number; payload: the directory of the FIFOs it talks over. */
            char cmd[4200], rsp[4200];
            payload[plen] = 0;
            snprintf(cmd, sizeof cmd, "%s/%ld.cmd", (char *) payload, a0);
            snprintf(rsp, sizeof rsp, "%s/%ld.rsp", (char *) payload, a0);
            if (mkfifo(cmd, 0600) != 0 || mkfifo(rsp, 0600) != 0) {
                result = -errno;
                break;
            }
            pid_t pid = fork();
            if (pid == 0) {
                /* The test opens the command FIFO for writing first, then the answer FIFO. */
                int c = open(cmd, O_RDONLY);
                if (c < 0) die("open command FIFO");
                int r = open(rsp, O_WRONLY);
                if (r < 0) die("open answer FIFO");
                close(in);
                if (out != in) close(out);
                in = c;
                out = r;
                continue;
            }
            result = pid < 0 ? -errno : pid;
            break;
        }
        case OP_NOP:
            result = getpid();
            break;
        default:
            result = -ENOSYS;
        }
        if (scan_addr == -1) {
            long lo = result < 0 ? region_hi : result - PAGE, hi = lo + scan_pages * PAGE;
            lo = lo < region_lo ? region_lo : lo;
            hi = hi > region_hi ? region_hi : hi;
            scan_addr = lo;
            scan_pages = hi > lo ? (hi - lo) / PAGE : 0;
        }
        reply(result, len, scan_pages > 0 ? scan(scan_addr, scan_pages, scan_write) : 0);
    }
}

int main(void) {
    signal(SIGCHLD, SIG_IGN); /* forked processes are reaped by the kernel */
    for (int i = 0; i < FILES; i++) files[i] = -1;
    payload = malloc(MAX_PAYLOAD + 1);
    answer = malloc(MAX_PAYLOAD);
    scanned = malloc(MAX_PAYLOAD);
    if (!payload || !answer || !scanned) die("malloc");
    scratch = memfd_create("mm-oracle-scratch", 0);
    zero = open("/dev/zero", O_RDONLY);
    if (scratch < 0 || zero < 0) die("memfd or /dev/zero");
    serve();
    return 0;
}
