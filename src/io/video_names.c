/* video_names.c - see video_names.h. Compiled with BF_HAVE_VIDEO=1 by
 * cmake/video.cmake when the FFmpeg libraries are there. */
#include "video_names.h"

#include <string.h>
#include <strings.h>

int bfio_video_supported(void)
{
#ifdef BF_HAVE_VIDEO
    return 1;
#else
    return 0;
#endif
}

int bfio_path_is_video_name(const char *path)
{
    if (!bfio_video_supported())
        return 0;
    static const char *const exts[] = {".mp4", ".m4v", ".mkv", ".avi", ".mov", ".webm"};
    size_t n = strlen(path);
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++) {
        size_t k = strlen(exts[i]);
        if (n > k && strcasecmp(path + n - k, exts[i]) == 0)
            return 1;
    }
    return 0;
}
