/* FFTW3, double and single precision. <complex.h> must not be included
   before this header, or fftw_complex becomes double _Complex. */
#include <fftw3.h>

/* fftw_version is an array of unknown size, which Swift cannot import. */
static inline const char *beamline_fftw_version(void) { return fftw_version; }
static inline const char *beamline_fftwf_version(void) { return fftwf_version; }
