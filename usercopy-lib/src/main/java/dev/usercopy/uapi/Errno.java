package dev.usercopy.uapi;

/**
 * The Linux errno values the project reports, with their numbers on x86-64.
 * A test holds every number against {@code <errno.h>}.
 */
public enum Errno {
    /** {@code EPERM} (1, asm-generic/errno-base.h): the caller lacks the privilege or ownership the operation needs. */
    EPERM(1, "Operation not permitted"),
    /** {@code ENOENT} (2, asm-generic/errno-base.h): a path component or the named file does not exist. */
    ENOENT(2, "No such file or directory"),
    /** {@code ESRCH} (3, asm-generic/errno-base.h): no process, thread or group has the given id (kill, tgkill, setpgid, getsid, prlimit). */
    ESRCH(3, "No such process"),
    /** {@code EINTR} (4, asm-generic/errno-base.h): a blocking call was interrupted by a signal and is not restarted (SA_RESTART unset, or a call Linux never restarts). */
    EINTR(4, "Interrupted system call"),
    /** {@code EIO} (5, asm-generic/errno-base.h): a low-level I/O error. */
    EIO(5, "Input/output error"),
    /** {@code ENXIO} (6, asm-generic/errno-base.h): no such device or address. */
    ENXIO(6, "No such device or address"),
    /** {@code E2BIG} (7, asm-generic/errno-base.h): an argument or environment list is larger than the kernel accepts, or an extensible struct's tail beyond the size known here is not all zeros. */
    E2BIG(7, "Argument list too long"),
    /** {@code ENOEXEC} (8, asm-generic/errno-base.h): execve found no format it can run (not an ELF image of this machine). */
    ENOEXEC(8, "Exec format error"),
    /** {@code EBADF} (9, asm-generic/errno-base.h): a file descriptor is not open, or not open for the access asked. */
    EBADF(9, "Bad file descriptor"),
    /** {@code ECHILD} (10, asm-generic/errno-base.h): wait found no child matching its arguments. */
    ECHILD(10, "No child processes"),
    /** {@code EAGAIN} (11, asm-generic/errno-base.h): the operation would block, or a resource limit is reached for now; same number as {@code EWOULDBLOCK}. */
    EAGAIN(11, "Resource temporarily unavailable"),
    /** {@code ENOMEM} (12, asm-generic/errno-base.h): out of memory, or an address range is not (entirely) mapped where a memory call needs a mapping (mprotect, madvise, msync, mremap). */
    ENOMEM(12, "Cannot allocate memory"),
    /** {@code EACCES} (13, asm-generic/errno-base.h): a permission check failed: a file mode, or a mapping's protection that the file was not opened for. */
    EACCES(13, "Permission denied"),
    /** {@code EFAULT} (14, asm-generic/errno-base.h): a guest address is unmapped or lacks the protection the access needs; the copy routines report it with the guest address and length. */
    EFAULT(14, "Bad address"),
    /** {@code EBUSY} (16, asm-generic/errno-base.h): the resource is in use; rename answers it for {@code .} or {@code ..} as a last component, as Linux does. */
    EBUSY(16, "Device or resource busy"),
    /** {@code EEXIST} (17, asm-generic/errno-base.h): the file already exists (O_CREAT|O_EXCL, mkdir, link, MAP_FIXED_NOREPLACE over a mapping). */
    EEXIST(17, "File exists"),
    /** {@code EXDEV} (18, asm-generic/errno-base.h): a link or rename crosses file systems. */
    EXDEV(18, "Invalid cross-device link"),
    /** {@code ENODEV} (19, asm-generic/errno-base.h): the file cannot be mapped: mmap of a directory, pipe, socket or device. */
    ENODEV(19, "No such device"),
    /** {@code ENOTDIR} (20, asm-generic/errno-base.h): a path component that must be a directory is not one. */
    ENOTDIR(20, "Not a directory"),
    /** {@code EISDIR} (21, asm-generic/errno-base.h): the file is a directory where one is not allowed (opened for writing, unlinked without AT_REMOVEDIR). */
    EISDIR(21, "Is a directory"),
    /** {@code EINVAL} (22, asm-generic/errno-base.h): an argument is out of its range: unaligned address, unknown flag, zero length where Linux refuses it. */
    EINVAL(22, "Invalid argument"),
    /** {@code ENFILE} (23, asm-generic/errno-base.h): the system-wide limit on open files is reached. */
    ENFILE(23, "Too many open files in system"),
    /** {@code EMFILE} (24, asm-generic/errno-base.h): the process's limit on open file descriptors ({@code RLIMIT_NOFILE}) is reached. */
    EMFILE(24, "Too many open files"),
    /** {@code ENOTTY} (25, asm-generic/errno-base.h): the ioctl request does not apply to this file. */
    ENOTTY(25, "Inappropriate ioctl for device"),
    /** {@code ETXTBSY} (26, asm-generic/errno-base.h): the file is being executed and cannot be written, or is open for writing and cannot be executed. */
    ETXTBSY(26, "Text file busy"),
    /** {@code EFBIG} (27, asm-generic/errno-base.h): a write or truncate would make the file larger than its limit ({@code RLIMIT_FSIZE}) allows. */
    EFBIG(27, "File too large"),
    /** {@code ENOSPC} (28, asm-generic/errno-base.h): no space left on the device. */
    ENOSPC(28, "No space left on device"),
    /** {@code ESPIPE} (29, asm-generic/errno-base.h): a seek or positioned I/O on a pipe or other file that has no position. */
    ESPIPE(29, "Illegal seek"),
    /** {@code EROFS} (30, asm-generic/errno-base.h): a write to a read-only file system. */
    EROFS(30, "Read-only file system"),
    /** {@code EMLINK} (31, asm-generic/errno-base.h): too many links to the file. */
    EMLINK(31, "Too many links"),
    /** {@code EPIPE} (32, asm-generic/errno-base.h): a write to a pipe whose read end is closed (which also sends {@code SIGPIPE}). */
    EPIPE(32, "Broken pipe"),
    /** {@code ERANGE} (34, asm-generic/errno-base.h): a result does not fit the buffer given (getcwd with too small a size). */
    ERANGE(34, "Numerical result out of range"),
    /** {@code ENAMETOOLONG} (36, asm-generic/errno.h): a path or one of its components is longer than {@code PATH_MAX} or {@code NAME_MAX}. */
    ENAMETOOLONG(36, "File name too long"),
    /** {@code ENOSYS} (38, asm-generic/errno.h): the system call number is not implemented. */
    ENOSYS(38, "Function not implemented"),
    /** {@code ENOTEMPTY} (39, asm-generic/errno.h): rmdir or rename onto a directory that is not empty. */
    ENOTEMPTY(39, "Directory not empty"),
    /** {@code ELOOP} (40, asm-generic/errno.h): too many symbolic links while resolving a path, or {@code O_NOFOLLOW} met one. */
    ELOOP(40, "Too many levels of symbolic links"),
    /** {@code ENODATA} (61, asm-generic/errno.h): getxattr of an extended attribute the file does not have. */
    ENODATA(61, "No data available"),
    /** {@code ENOPKG} (65, asm-generic/errno.h): what pipe2 reports for {@code O_NOTIFICATION_PIPE}, as on a kernel built without watch queues. */
    ENOPKG(65, "Package not installed"),
    /** {@code EOVERFLOW} (75, asm-generic/errno.h): a value does not fit the type it must be returned in, or an mmap offset plus length overflows. */
    EOVERFLOW(75, "Value too large for defined data type"),
    /** {@code ELIBBAD} (80, asm-generic/errno.h): execve of a dynamically linked program whose interpreter is no ELF file of this machine. */
    ELIBBAD(80, "Accessing a corrupted shared library"),
    /** {@code EILSEQ} (84, asm-generic/errno.h): bytes read from the guest are not valid UTF-8; reported at the first malformed byte's guest address. */
    EILSEQ(84, "Invalid or incomplete multibyte or wide character"),
    /** {@code ENOTSOCK} (88, asm-generic/errno.h): a socket call on a descriptor that is not a socket. */
    ENOTSOCK(88, "Socket operation on non-socket"),
    /** {@code EOPNOTSUPP} (95, asm-generic/errno.h): the operation is not supported on this file or with these flags. */
    EOPNOTSUPP(95, "Operation not supported"),
    /** {@code ETIMEDOUT} (110, asm-generic/errno.h): a futex wait whose timeout passed before a wake. */
    ETIMEDOUT(110, "Connection timed out");

    private static final Errno[] BY_NUMBER = new Errno[128];
    static {
        for (Errno e : values()) {
            BY_NUMBER[e.number] = e;
        }
    }

    private final int number;
    private final String description;

    Errno(int number, String description) {
        this.number = number;
        this.description = description;
    }

    /** {@return the errno number on Linux x86-64, as a system call returns it negated} */
    public int number() {
        return number;
    }

    /** {@return the message glibc's {@code strerror} gives for this errno, for error messages} */
    public String description() {
        return description;
    }

    /**
     * The name of an errno number, for messages.
     *
     * @param number an errno number, positive as in {@code errno}
     * @return its name, such as {@code "EFAULT"}, or {@code "errno 99"} for one not listed here
     */
    public static String nameOf(int number) {
        Errno e = number >= 0 && number < BY_NUMBER.length ? BY_NUMBER[number] : null;
        return e != null ? e.name() : "errno " + number;
    }

    /**
     * The value for a number.
     *
     * @param number an errno number, positive as in {@code errno}
     * @return its constant, or {@code null} for a number not listed here
     */
    public static Errno of(int number) {
        return number >= 0 && number < BY_NUMBER.length ? BY_NUMBER[number] : null;
    }
}
