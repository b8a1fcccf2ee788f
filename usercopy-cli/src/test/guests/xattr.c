/* Extended attributes and statfs on files the test prepares (argv[1]: a file
 * with user.colour=blue, argv[2]: a symlink to it): values, sizes and errnos,
 * never inode numbers or addresses. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

/* Raw calls where the test passes bad pointers on purpose (the C library's
 * declarations let the compiler refuse those). */
static long raw_getxattr(const char *path, const char *name, void *value, size_t size) {
    return syscall(SYS_getxattr, path, name, value, size);
}

static long raw_statfs(const char *path, void *buf) {
    return syscall(SYS_statfs, path, buf);
}

static void show(const char *what, long r, const char *value) {
    if (r < 0) {
        printf("%s = -1 %s\n", what, strerrorname_np(errno));
    } else if (value != NULL) {
        printf("%s = %ld [%.*s]\n", what, r, (int) r, value);
    } else {
        printf("%s = %ld\n", what, r);
    }
}

int main(int argc, char **argv) {
    if (argc < 3) {
        return 2;
    }
    const char *file = argv[1], *link = argv[2];
    char buf[256];
    char longname[300];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    memcpy(longname, "user.", 5);
    show("getxattr user.colour", getxattr(file, "user.colour", buf, sizeof buf), buf);
    show("getxattr user.colour, size 0", getxattr(file, "user.colour", NULL, 0), NULL);
    show("getxattr user.colour, size 2", getxattr(file, "user.colour", buf, 2), NULL);
    show("getxattr user.missing", getxattr(file, "user.missing", buf, sizeof buf), NULL);
    show("getxattr empty name", getxattr(file, "", buf, sizeof buf), NULL);
    show("getxattr name of 299 bytes", getxattr(file, longname, buf, sizeof buf), NULL);
    show("getxattr name unreadable", raw_getxattr(file, (const char *) 8, buf, sizeof buf), NULL);
    show("getxattr value unwritable", raw_getxattr(file, "user.colour", (void *) 8, sizeof buf), NULL);
    show("getxattr no such file", getxattr("/no/such/file", "user.colour", buf, sizeof buf), NULL);
    show("getxattr empty name, no such file", getxattr("/no/such/file", "", buf, sizeof buf), NULL);
    show("fgetxattr empty name, closed descriptor", fgetxattr(99, "", buf, sizeof buf), NULL);
    show("getxattr through the symlink", getxattr(link, "user.colour", buf, sizeof buf), buf);
    show("lgetxattr on the symlink itself", lgetxattr(link, "user.colour", buf, sizeof buf), NULL);
    int fd = open(file, O_RDONLY);
    show("fgetxattr", fgetxattr(fd, "user.colour", buf, sizeof buf), buf);
    int pfd = open(file, O_PATH);
    show("fgetxattr on an O_PATH descriptor", fgetxattr(pfd, "user.colour", buf, sizeof buf), NULL);
    show("fgetxattr on a closed descriptor", fgetxattr(99, "user.colour", buf, sizeof buf), NULL);
    long n = listxattr(file, buf, sizeof buf);
    int found = 0;
    for (long i = 0; i < n; i += (long) strlen(buf + i) + 1) {
        found |= strcmp(buf + i, "user.colour") == 0;
    }
    printf("listxattr names user.colour: %d\n", found);
    show("listxattr, size 0 is the list's length", listxattr(file, NULL, 0) == n ? 0 : -2, NULL);
    show("flistxattr is listxattr", flistxattr(fd, buf, sizeof buf) == n ? 0 : -2, NULL);
    show("listxattr, size 1", listxattr(file, buf, 1), NULL);
    struct statfs a, b;
    show("statfs", statfs(file, &a), NULL);
    show("fstatfs", fstatfs(fd, &b), NULL);
    printf("same filesystem type and block size: %d\n", a.f_type == b.f_type && a.f_bsize == b.f_bsize);
    show("statfs unwritable buffer", raw_statfs(file, (void *) 8), NULL);
    show("statfs no such file", statfs("/no/such/file", &a), NULL);
    show("fstatfs on a closed descriptor", fstatfs(99, &a), NULL);
    return 0;
}
