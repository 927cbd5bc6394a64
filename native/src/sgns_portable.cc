// SGNS inner loop compiled for the portable level (flags in binding.gyp); see sgns_impl.inc.
#define WN_SGNS_NAME sgns_portable
#define WN_SGNS_LABEL "portable"
#define WN_VEC_BYTES 16
#include "sgns_impl.inc"
