/*
 * window.h - the live view: an SDL2 window showing RGB frames.
 *
 * The frame is uploaded to a streaming texture (SDL_PIXELFORMAT_RGB24) and
 * drawn into the largest rectangle of the frame's aspect ratio that fits the
 * window, centred, with black bars (letterboxing), so a resized window never
 * stretches the picture. A status line (small text on a dark band) sits at
 * the top-left corner of the window and a banner (large text, e.g. "camera
 * disconnected - waiting") across the middle; both are drawn with the
 * bitmap font of src/io/draw.h, at window resolution, so they stay legible
 * however the video is scaled.
 *
 * SDL must be used from one thread: all of these are called by the main thread.
 */
#ifndef BF_CAPTURE_WINDOW_H
#define BF_CAPTURE_WINDOW_H

#include <stddef.h>
#include <stdint.h>

typedef enum cam_action {
    CAM_ACTION_NONE = 0,
    CAM_ACTION_QUIT,      /* window closed, q or Esc */
    CAM_ACTION_PAUSE,     /* space */
    CAM_ACTION_SNAPSHOT,  /* s */
    CAM_ACTION_CONF_UP,   /* + (or = , keypad +) */
    CAM_ACTION_CONF_DOWN, /* - (or keypad -) */
    CAM_ACTION_REDRAW     /* the window was resized or exposed */
} cam_action;

typedef struct cam_window cam_window;

/* Opens a resizable window of w x h pixels. */
int cam_window_open(const char *title, int w, int h, cam_window **out, char *why, size_t why_len);
void cam_window_close(cam_window *win);

/* Waits up to timeout_ms for an input event; returns one action per call
 * (CAM_ACTION_NONE when nothing happened). */
cam_action cam_window_poll(cam_window *win, int timeout_ms);

/* Draws a frame (NULL: keep the last one), the status line and an optional
 * banner (NULL: none) and presents it. When screenshot_bmp is not NULL the
 * rendered window is also saved there (BMP) before presenting. 0 or -1. */
int cam_window_show(cam_window *win, const uint8_t *rgb, int w, int h, const char *status,
                    const char *banner, const char *screenshot_bmp, char *why, size_t why_len);

/* Queues a key press as if typed ("q", "esc", "space", "s", "+", "-"): the
 * tests drive the keys this way (BF_CAMERA_KEYS, apps/camera_app.c). 0 or -1. */
int cam_window_push_key(cam_window *win, const char *name);

/* The output size of the window in pixels. */
void cam_window_size(cam_window *win, int *w, int *h);

/* The letterbox rectangle: the largest img_w:img_h rectangle centred in
 * win_w x win_h. Shared with the tests that check box positions. */
void cam_letterbox_rect(int win_w, int win_h, int img_w, int img_h, int *x, int *y, int *w, int *h);

#endif /* BF_CAPTURE_WINDOW_H */
