/* LAPACKE with C99 _Complex replaced by layout-compatible structs, which
   Swift imports (and which match swift-numerics' Complex layout). */
#define LAPACK_COMPLEX_CUSTOM
typedef struct { float re, im; } beamline_complex_float;
typedef struct { double re, im; } beamline_complex_double;
#define lapack_complex_float beamline_complex_float
#define lapack_complex_double beamline_complex_double
#include <lapacke.h>
