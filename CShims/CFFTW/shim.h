/* FFTW3, double and single precision. <complex.h> must not be included
   before this header, or fftw_complex becomes double _Complex. */
#include <fftw3.h>
