/* CBLAS from OpenBLAS (pkg-config openblas pins openblas-pthread/cblas.h).
   No include guard of our own: OpenBLAS's cblas.h uses CBLAS_H. */
#include <cblas.h>
