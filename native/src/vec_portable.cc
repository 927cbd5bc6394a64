// Vector loops compiled for the portable level (flags in binding.gyp); see vec_impl.inc.
#define WN_VEC_NAME vec_portable
#define WN_VEC_LABEL "portable"
#include "vec_impl.inc"
