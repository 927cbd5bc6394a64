// SGNS inner loop compiled for the avx2 level (flags in binding.gyp); see sgns_impl.inc.
#define WN_SGNS_NAME sgns_avx2
#define WN_SGNS_LABEL "avx2"
#define WN_VEC_BYTES 32
#include "sgns_impl.inc"
