/* version.c - bf_version(): the version this library was built as, from the
 * macros of the bitfalcon.h it was compiled with (a program compiled against
 * another header can compare the two). */
#include "bitfalcon.h"

#include "common.h"

#define BF_STR2(x) #x
#define BF_STR(x) BF_STR2(x)

BF_API const char *bf_version(void)
{
    return BF_STR(BITFALCON_VERSION_MAJOR) "." BF_STR(BITFALCON_VERSION_MINOR) "." BF_STR(BITFALCON_VERSION_PATCH);
}
