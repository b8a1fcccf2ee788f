/** A user of the library: it reads only what dev.usercopy exports. */
module dev.usercopy.consumer {
    requires dev.usercopy;
}
