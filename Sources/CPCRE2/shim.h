// PCRE2's 8-bit library (Debian: libpcre2-dev). The API's names are macros that Swift cannot
// import; the helpers below give the constants that are not plain integers a name Swift sees.
#ifndef TAILWATCH_CPCRE2_SHIM_H
#define TAILWATCH_CPCRE2_SHIM_H
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

static inline PCRE2_SIZE tailwatch_pcre2_unset(void) { return PCRE2_UNSET; }
#endif
