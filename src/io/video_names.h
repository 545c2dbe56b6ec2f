/*
 * video_names.h - which file names a folder walk takes as videos.
 *
 * A folder walk picks files by name (files.h); a file named on the command
 * line is recognised by content instead. The names are those of the
 * containers `bitfalcon detect` reads: .mp4 .m4v .mkv .avi .mov .webm (any
 * case). In a build without video support (BITFALCON_VIDEO off) no name is a
 * video name, so a folder of photos and clips is walked for the photos only,
 * as before.
 */
#ifndef BFIO_VIDEO_NAMES_H
#define BFIO_VIDEO_NAMES_H

/* 1 when the name ends in one of the video extensions and video support is built. */
int bfio_path_is_video_name(const char *path);

/* 1 when this build reads videos (BITFALCON_VIDEO). */
int bfio_video_supported(void);

#endif /* BFIO_VIDEO_NAMES_H */
