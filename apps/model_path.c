/* model_path.c - see model_path.h. */
#include "model_path.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef BF_INSTALL_MODEL_DIR /* set by CMake from CMAKE_INSTALL_FULL_DATADIR */
#define BF_INSTALL_MODEL_DIR "/usr/local/share/bitfalcon/models"
#endif

static int is_file(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

const char *bf_default_model(const char **looked)
{
    static char path[4096], where[8192];
    const char *env = getenv("BITFALCON_MODEL");
    if (env && *env) {
        snprintf(path, sizeof path, "%s", env);
        return path; /* asked for explicitly: opening it reports what is wrong */
    }
    const char *local = "models/" BF_MODEL_NAME;
    if (is_file(local))
        return local;
    /* BIN/../share/bitfalcon/models next to the running program. */
    char exe[2048], beside[4096] = "";
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = 0;
            snprintf(beside, sizeof beside, "%s/../share/bitfalcon/models/" BF_MODEL_NAME, exe);
            if (is_file(beside)) {
                snprintf(path, sizeof path, "%s", beside);
                return path;
            }
        }
    }
    const char *installed = BF_INSTALL_MODEL_DIR "/" BF_MODEL_NAME;
    if (is_file(installed))
        return installed;
    snprintf(where, sizeof where,
             "no model given (-m) and none found: $BITFALCON_MODEL is not set; looked for "
             "%s, %s%s%s",
             local, beside, *beside ? ", " : "", installed);
    if (looked)
        *looked = where;
    return NULL;
}
