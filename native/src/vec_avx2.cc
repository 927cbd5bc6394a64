// Vector loops compiled for the avx2 level (flags in binding.gyp); see vec_impl.inc.
#define WN_VEC_NAME vec_avx2
#define WN_VEC_LABEL "avx2"
#define WN_VEC_BYTES 32
#include "vec_impl.inc"
