// SGNS inner loop compiled for the avx512 level (flags in binding.gyp); see sgns_impl.inc.
#define WN_SGNS_NAME sgns_avx512
#define WN_SGNS_LABEL "avx512"
#define WN_VEC_BYTES 64
#include "sgns_impl.inc"
