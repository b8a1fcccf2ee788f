package dev.usercopy.mm;

/** Page protections, with Linux's PROT_* values. */
public final class Prot {
    private Prot() {}

    public static final int NONE = 0;
    public static final int READ = 1;
    public static final int WRITE = 2;
    public static final int EXEC = 4;
    static final int ALL = READ | WRITE | EXEC;

    public static String toString(int prot) {
        return ((prot & READ) != 0 ? "r" : "-") + ((prot & WRITE) != 0 ? "w" : "-") + ((prot & EXEC) != 0 ? "x" : "-");
    }
}
