/* zlib (Debian's zlib1g-dev), for NumpyArchive's bounded inflate of deflated
   .npz members. ZIPFoundation links zlib too, under its own module name
   (CZlib); this shim has a name of its own so the two never clash. */
#include <zlib.h>

/* inflateInit2 is a macro that passes the header's version and the stream's
   size; Swift cannot import it. */
static inline int beamline_inflate_init_raw(z_stream *stream) {
    return inflateInit2(stream, -MAX_WBITS);
}
