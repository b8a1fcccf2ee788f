// The measurement behind the adaptive form's distance dispatch (copy.S): the
// ns per copy of rep movsb (copy_from_user_flat) and of the adaptive form, by
// size and by the distance (dst - src) mod 4 KiB, both sides cache-hot, the
// two interleaved and the best of several rounds kept.
//
//   gcc -O2 -o /tmp/copy-distance bench/c/copy-distance.c -ldl
//   /tmp/copy-distance usercopy-lib/target/classes/native/linux-x86_64/libusercopy.so
//
// To time the AVX2 loop at every size, build the library with
// ADAPTIVE_VEC_MAX raised to 0x7fffffff in a scratch copy of native/ first.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

typedef size_t (*copy_fn)(void *, const void *, size_t);

static double now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}

static double best_ns(copy_fn f, char *dst, char *src, size_t n, int rounds) {
    long iters = (32L << 20) / n;
    if (iters < 500) {
        iters = 500;
    }
    double best = 1e30;
    for (int r = 0; r < rounds; r++) {
        double t0 = now_ns();
        for (long i = 0; i < iters; i++) {
            f(dst, src, n);
            __asm__ volatile("" ::: "memory");
        }
        double t = (now_ns() - t0) / iters;
        if (t < best) {
            best = t;
        }
    }
    return best;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s libusercopy.so\n", argv[0]);
        return 2;
    }
    void *lib = dlopen(argv[1], RTLD_NOW);
    if (!lib) {
        fprintf(stderr, "%s\n", dlerror());
        return 1;
    }
    copy_fn flat = (copy_fn) dlsym(lib, "copy_from_user_flat");
    copy_fn adaptive = (copy_fn) dlsym(lib, "copy_from_user_adaptive");
    size_t len = 4 << 20;
    char *src = mmap(0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    char *dst = mmap(0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    memset(src, 7, len);
    memset(dst, 1, len);
    static const size_t sizes[] = {1024, 2048, 4096, 8192, 16384, 65536, 262144, 1048576};
    static const int distances[] = {0, 1, 16, 31, 32, 33, 48, 63, 64, 96, 128, 512, 1024, 2048, 4033, 4064, 4095};
    printf("size distance flat_ns adaptive_ns flat/adaptive\n");
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        for (size_t d = 0; d < sizeof distances / sizeof *distances; d++) {
            double a = 1e30, b = 1e30;
            for (int k = 0; k < 3; k++) {
                double x = best_ns(flat, dst + distances[d], src, sizes[s], 3);
                double y = best_ns(adaptive, dst + distances[d], src, sizes[s], 3);
                a = x < a ? x : a;
                b = y < b ? y : b;
            }
            printf("%zu %d %.1f %.1f %.2f\n", sizes[s], distances[d], a, b, a / b);
        }
    }
    return 0;
}
