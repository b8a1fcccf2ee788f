package dev.usercopy.sys;

import java.nio.file.Path;

/** TODO(helper): root, writable directory, working directory, umask. */
public final class FsContext {
    /** Guest paths resolve beneath {@code root}; files beneath {@code rw} (or null) may be written; the guest starts in {@code cwd}. */
    public FsContext(Path root, Path rw, Path cwd) {}
}
