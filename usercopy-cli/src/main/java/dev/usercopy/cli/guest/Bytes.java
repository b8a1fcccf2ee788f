package dev.usercopy.cli.guest;

import java.util.ArrayList;
import java.util.List;

/** Guest bytes for people: a quoted string with escapes, or a hex dump. */
final class Bytes {
    private Bytes() {}

    /** Lines a read prints at most; the rest is summarised, so a large read cannot flood the terminal. */
    static final int MAX_DUMP_LINES = 16;

    /** The bytes as a string literal of the guest language ({@code \xNN} for what is not printable ASCII). */
    static String quote(byte[] b) {
        StringBuilder sb = new StringBuilder("\"");
        for (byte x : b) {
            int c = x & 0xff;
            switch (c) {
                case '\n' -> sb.append("\\n");
                case '\t' -> sb.append("\\t");
                case '\r' -> sb.append("\\r");
                case 0 -> sb.append("\\0");
                case '\\' -> sb.append("\\\\");
                case '"' -> sb.append("\\\"");
                default -> {
                    if (c >= 0x20 && c < 0x7f) {
                        sb.append((char) c);
                    } else {
                        sb.append(String.format("\\x%02x", c));
                    }
                }
            }
        }
        return sb.append('"').toString();
    }

    /** 16 bytes a line: guest address, hex, printable ASCII. */
    static List<String> dump(long address, byte[] b) {
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < b.length; i += 16) {
            if (lines.size() == MAX_DUMP_LINES) {
                lines.add(String.format("... %d more bytes", b.length - i));
                break;
            }
            StringBuilder hex = new StringBuilder();
            StringBuilder ascii = new StringBuilder();
            for (int j = i; j < i + 16; j++) {
                if (j < b.length) {
                    int c = b[j] & 0xff;
                    hex.append(String.format("%02x ", c));
                    ascii.append(c >= 0x20 && c < 0x7f ? (char) c : '.');
                } else {
                    hex.append("   ");
                }
            }
            lines.add(String.format("0x%08x  %s |%s|", address + i, hex, ascii));
        }
        return lines;
    }
}
