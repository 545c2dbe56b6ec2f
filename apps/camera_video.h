/*
 * camera_video.h - FFmpeg's reader (src/video) behind `bitfalcon camera
 * --source FILE|URL`, as the capture layer's cam_video_ops (source.h).
 */
#ifndef BF_APPS_CAMERA_VIDEO_H
#define BF_APPS_CAMERA_VIDEO_H

struct cam_video_ops;

/* The ops, or NULL in a build without video support (BITFALCON_VIDEO). */
const struct cam_video_ops *bf_camera_video_ops(void);

#endif /* BF_APPS_CAMERA_VIDEO_H */
