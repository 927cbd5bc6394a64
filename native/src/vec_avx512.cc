// Vector loops compiled for the avx512 level (flags in binding.gyp); see vec_impl.inc.
#define WN_VEC_NAME vec_avx512
#define WN_VEC_LABEL "avx512"
#define WN_VEC_BYTES 64
#include "vec_impl.inc"
