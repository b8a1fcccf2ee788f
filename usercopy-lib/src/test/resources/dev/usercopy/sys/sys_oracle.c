/*
 * The host side of SysOracleTest: runs the syscall cases of a case file
 * (one a line: NAME KIND OP ARGS...) against the host kernel and prints
 * "NAME RESULT" for each, RESULT the raw return value (-errno on failure).
 * The Java side runs the same cases through Syscalls.dispatch and compares.
 *
 * Memory the cases name: a region of 256 pages, page 0 (W) and 1 (W2)
 * read-write, 2 (R) read-only, 3 (N) PROT_NONE, 4 (U) and up unmapped;
 * slots S0..S15 of 256 bytes in W2; B is the program break at start; K a
 * kernel address; P the previous case's result. No malloc before the cases run, so B is the untouched
 * start of the heap.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PAGE 4096UL
#define REGION_PAGES 256

static unsigned long base, brk0;
static long prev;
static char out[1 << 16];
static size_t outlen;

static void emit(const char *s) {
    size_t n = strlen(s);
    memcpy(out + outlen, s, n);
    outlen += n;
    if (outlen > sizeof(out) - 256) {
        write(1, out, outlen);
        outlen = 0;
    }
}

static unsigned long value(char *tok) {
    char *plus = NULL;
    unsigned long v;
    if (tok[0] == 'S' && tok[1] >= '0' && tok[1] <= '9') {
        char *end;
        unsigned long k = strtoul(tok + 1, &end, 10);
        unsigned long slot = base + PAGE + 256 * k;
        if (*end == ':') {
            unsigned long *p = (unsigned long *) slot;
            memset(p, 0, 256);
            char *s = end + 1;
            while (*s) {
                *p++ = strtoull(s, &s, 0);
                if (*s == ',') {
                    s++;
                }
            }
            return slot;
        }
        return slot + (*end ? strtoll(end, NULL, 0) : 0);
    }
    if ((tok[0] >= '0' && tok[0] <= '9') || tok[0] == '-') {
        return strtoull(tok, NULL, 0);
    }
    for (char *c = tok + 1; *c; c++) {
        if (*c == '+' || *c == '-') {
            plus = c;
            break;
        }
    }
    size_t len = plus ? (size_t) (plus - tok) : strlen(tok);
    if (len == 1 && tok[0] == 'W') v = base;
    else if (len == 2 && tok[0] == 'W' && tok[1] == '2') v = base + PAGE;
    else if (len == 1 && tok[0] == 'R') v = base + 2 * PAGE;
    else if (len == 1 && tok[0] == 'N') v = base + 3 * PAGE;
    else if (len == 1 && tok[0] == 'U') v = base + 4 * PAGE;
    else if (len == 1 && tok[0] == 'T') v = base + REGION_PAGES * PAGE;
    else if (len == 1 && tok[0] == 'B') v = brk0;
    else if (len == 1 && tok[0] == 'K') v = 0xffff800000000000UL;
    else if (len == 1 && tok[0] == 'P') v = (unsigned long) prev;
    else {
        fprintf(stderr, "bad token %s\n", tok);
        exit(2);
    }
    return plus ? v + strtoll(plus, NULL, 0) : v;
}

int main(int argc, char **argv) {
    brk0 = syscall(SYS_brk, 0);
    void *r = mmap(NULL, REGION_PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (r == MAP_FAILED) {
        return 3;
    }
    base = (unsigned long) r;
    mprotect((void *) (base + 2 * PAGE), PAGE, PROT_READ);
    mprotect((void *) (base + 3 * PAGE), PAGE, PROT_NONE);
    munmap((void *) (base + 4 * PAGE), (REGION_PAGES - 4) * PAGE);
    int fd = open(argv[1], O_RDONLY);
    static char cases[1 << 16];
    ssize_t n = read(fd, cases, sizeof(cases) - 1);
    if (n <= 0) {
        return 4;
    }
    cases[n] = 0;
    char line[64];
    snprintf(line, sizeof line, "base %lu\nbrk %lu\n", base, brk0);
    emit(line);
    char *save;
    for (char *l = strtok_r(cases, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        if (l[0] == '#' || l[0] == 0) {
            continue;
        }
        char *tok[10];
        int k = 0;
        char *s2;
        for (char *t = strtok_r(l, " ", &s2); t && k < 10; t = strtok_r(NULL, " ", &s2)) {
            tok[k++] = t;
        }
        long res;
        char *op = tok[2];
        if (!strcmp(op, "poke")) {
            *(volatile unsigned char *) value(tok[3]) = (unsigned char) value(tok[4]);
            res = 0;
        } else if (!strcmp(op, "peek")) {
            res = *(volatile unsigned char *) value(tok[3]);
        } else if (!strcmp(op, "peekl")) {
            res = *(volatile long *) value(tok[3]);
        } else if (!strcmp(op, "peekhash")) {
            unsigned char *p = (unsigned char *) value(tok[3]);
            unsigned long len = value(tok[4]);
            unsigned long h = 1469598103934665603UL;
            for (unsigned long i = 0; i < len; i++) {
                h = (h ^ p[i]) * 1099511628211UL;
            }
            res = (long) h;
        } else {
            unsigned long a[6] = {0, 0, 0, 0, 0, 0};
            for (int i = 3; i < k; i++) {
                a[i - 3] = value(tok[i]);
            }
            res = syscall(strtol(op, NULL, 0), a[0], a[1], a[2], a[3], a[4], a[5]);
            if (res == -1) {
                res = -errno;
            }
        }
        prev = res;
        snprintf(line, sizeof line, "%s %ld\n", tok[0], res);
        emit(line);
    }
    write(1, out, outlen);
    return 0;
}
