// Vector loops compiled for the portable level (flags in binding.gyp); see vec_impl.inc.
#define WN_VEC_NAME vec_portable
#define WN_VEC_LABEL "portable"
#define WN_VEC_BYTES 16
#include "vec_impl.inc"
