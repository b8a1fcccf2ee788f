/* What a program learns of its own loading from the auxiliary vector, held
 * against what the dynamic linker reports: AT_ENTRY is _start, AT_PHDR the
 * program's headers, AT_BASE the interpreter's load address (0 in a static
 * program). Prints comparisons, never addresses, so a native run and a guest
 * run (whose user space is smaller) print the same. */
#define _GNU_SOURCE
#include <elf.h>
#include <link.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>

extern char _start[];

struct found {
    unsigned long program_phdr;
    unsigned long interp_base;
    int objects;
};

static int each(struct dl_phdr_info *info, size_t size, void *data) {
    struct found *f = data;
    (void) size;
    if (f->objects++ == 0) {
        f->program_phdr = (unsigned long) info->dlpi_phdr;
    }
    for (int i = 0; i < info->dlpi_phnum; i++) {
        if (info->dlpi_phdr[i].p_type == PT_DYNAMIC && strstr(info->dlpi_name, "ld-linux") != NULL) {
            f->interp_base = info->dlpi_addr;
        }
    }
    return 0;
}

int main(void) {
    struct found f = {0, 0, 0};
    dl_iterate_phdr(each, &f);
    unsigned long base = getauxval(AT_BASE);
    printf("AT_ENTRY is _start: %d\n", getauxval(AT_ENTRY) == (unsigned long) _start);
    printf("AT_PHDR is the program's headers: %d\n", getauxval(AT_PHDR) == f.program_phdr);
    printf("AT_PHNUM > 0: %d\n", getauxval(AT_PHNUM) > 0);
    printf("AT_PAGESZ: %lu\n", getauxval(AT_PAGESZ));
    printf("AT_BASE is 0: %d\n", base == 0);
    printf("AT_BASE is where ld.so was loaded: %d\n", base == f.interp_base);
    printf("AT_BASE page-aligned: %d\n", (base & 4095) == 0);
    printf("the interpreter lies above the program: %d\n", base == 0 || base > (unsigned long) _start);
    printf("AT_EXECFN: %s\n", (const char *) getauxval(AT_EXECFN));
    return 0;
}
