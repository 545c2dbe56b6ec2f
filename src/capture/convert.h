/*
 * convert.h - camera frames (MJPEG, YUYV) to packed 8-bit RGB.
 *
 * MJPEG goes through TurboJPEG. A webcam's MJPEG stream regularly contains
 * damaged frames (a USB transfer cut short, a bit error); they are reported as
 * CAM_CONVERT_CORRUPT so that the caller drops and counts them instead of
 * showing a half-grey picture or stopping:
 *   - data that does not start with SOI (FF D8) or does not end with EOI (FF D9)
 *     once trailing zero padding is ignored: a truncated transfer;
 *   - a header whose size differs from the negotiated one;
 *   - any TurboJPEG error or warning ("Premature end of JPEG file", "Corrupt
 *     JPEG data"): decoding stops at the first warning.
 *
 * YUYV (4:2:2, Y0 U Y1 V) is converted with integer BT.601 limited-range
 * coefficients (8-bit fixed point), the colour space UVC webcams use:
 *     C = Y - 16, D = U - 128, E = V - 128
 *     R = clip((298 C + 409 E + 128) >> 8)
 *     G = clip((298 C - 100 D - 208 E + 128) >> 8)
 *     B = clip((298 C + 516 D + 128) >> 8)
 * A YUYV frame with fewer bytes than the format needs is CORRUPT as well.
 */
#ifndef BF_CAPTURE_CONVERT_H
#define BF_CAPTURE_CONVERT_H

#include <stddef.h>
#include <stdint.h>

enum { CAM_CONVERT_OK = 0, CAM_CONVERT_CORRUPT = 1, CAM_CONVERT_UNSUPPORTED = 2, CAM_CONVERT_NOMEM = 3 };

typedef struct cam_converter cam_converter;

/* One per thread: it owns a TurboJPEG decompressor. NULL when out of memory. */
cam_converter *cam_converter_create(void);
void cam_converter_destroy(cam_converter *conv);

/* Converts one frame of `bytes` bytes in `fourcc` (w x h, YUYV rows src_stride
 * bytes apart) into dst, rows dst_stride bytes apart (>= w * 3). On
 * CAM_CONVERT_CORRUPT `why` says what was wrong; dst may hold garbage. */
int cam_convert_to_rgb(cam_converter *conv, uint32_t fourcc, const uint8_t *src, size_t bytes,
                       int w, int h, size_t src_stride, uint8_t *dst, size_t dst_stride, char *why,
                       size_t why_len);

/* The YUYV part alone (w even; src_stride >= 2 w). */
void cam_yuyv_to_rgb(const uint8_t *src, int w, int h, size_t src_stride, uint8_t *dst, size_t dst_stride);

/* Checks the SOI/EOI framing of an MJPEG frame; returns the length without trailing
 * zero padding, or 0 when the frame is truncated or is not a JPEG. */
size_t cam_mjpeg_trimmed_length(const uint8_t *src, size_t bytes);

#endif /* BF_CAPTURE_CONVERT_H */
