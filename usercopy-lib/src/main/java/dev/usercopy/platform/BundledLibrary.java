package dev.usercopy.platform;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;

/**
 * Loads libusercopy.so from the classpath: straight from target/classes in a
 * build, or extracted to a temporary file when running from a jar. No
 * LD_LIBRARY_PATH, no java.library.path.
 */
final class BundledLibrary {
    private BundledLibrary() {}

    static final String RESOURCE = "/native/linux-x86_64/libusercopy.so";

    static SymbolLookup load() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "");
        if (!os.contains("linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
            throw new UnsupportedOperationException(
                    "usercopy runs on Linux x86-64 only; this is " + os + "/" + arch);
        }
        URL url = BundledLibrary.class.getResource(RESOURCE);
        if (url == null) {
            throw new UnsatisfiedLinkError(RESOURCE + " is not on the classpath: build with `mvn package` (needs nasm)");
        }
        try {
            return open(url);
        } catch (IllegalCallerException e) {
            throw nativeAccessDenied(e);
        }
    }

    @SuppressWarnings("restricted")
    private static SymbolLookup open(URL url) {
        try {
            if (url.getProtocol().equals("file")) {
                return SymbolLookup.libraryLookup(Path.of(url.toURI()), Arena.global());
            }
            Path file = Files.createTempFile("libusercopy", ".so");
            try (InputStream in = url.openStream()) {
                Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
                // Once loaded the mapping keeps the code; the file itself can go.
                return SymbolLookup.libraryLookup(file, Arena.global());
            } finally {
                Files.deleteIfExists(file);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot extract " + RESOURCE, e);
        } catch (URISyntaxException e) {
            throw new IllegalStateException("bad library URL " + url, e);
        }
    }

    /**
     * The JVM refused a restricted call (run with {@code --illegal-native-access=deny},
     * or from a module not granted native access): the same exception, saying
     * which flag grants it.
     */
    static IllegalCallerException nativeAccessDenied(IllegalCallerException e) {
        Module module = BundledLibrary.class.getModule();
        String who = module.isNamed() ? module.getName() : "ALL-UNNAMED";
        return new IllegalCallerException("usercopy needs native access: run java with --enable-native-access=" + who
                + (module.isNamed() ? "" : " (or Enable-Native-Access: ALL-UNNAMED in an executable jar's manifest)"), e);
    }
}
