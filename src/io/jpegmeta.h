/*
 * jpegmeta.h - what a JPEG's markers say before any pixel is decoded: the
 * frame type (which SOF marker, how many bits per sample) and the EXIF
 * orientation (tag 0x0112 of IFD0 in the APP1 "Exif" segment).
 *
 *     bfio_jpeg_meta m;
 *     bfio_jpeg_meta_read(data, size, &m);
 *     if (m.orientation != 1) ... turn the decoded pixels (orient.h)
 *
 * Only the orientation is read from EXIF, not the rest (maker notes,
 * thumbnails, GPS): one 16-bit value does not justify a general EXIF parser
 * (libexif) on untrusted files, with its history of memory-safety CVEs and
 * a new runtime dependency on every target, arm64 included. OpenCV does the
 * same with its own small reader (imgcodecs/src/exif.cpp). The reader here
 * distrusts every offset and count: it reads nothing outside the segment,
 * and anything it does not understand leaves the orientation at 1.
 */
#ifndef BFIO_JPEGMETA_H
#define BFIO_JPEGMETA_H

#include <stddef.h>
#include <stdint.h>

typedef struct bfio_jpeg_meta {
    int orientation; /* EXIF orientation 1..8; 1 (as stored) when absent or invalid */
    int sof;         /* the frame marker's second byte (0xC0 baseline, 0xC2 progressive,
                      * 0xC3 lossless, ...), or 0 when none was found before the scan */
    int precision;   /* bits per sample from the frame header, 0 when none was found */
} bfio_jpeg_meta;

/* Walks the markers from SOI to the first scan (SOS). Never fails: a
 * truncated or odd file gives what was found so far (the decoder reports the
 * damage itself). */
void bfio_jpeg_meta_read(const uint8_t *data, size_t size, bfio_jpeg_meta *out);

/* The orientation from an APP1 segment's payload (after the length bytes),
 * or 0 when it is not an EXIF segment or holds no valid orientation. */
int bfio_exif_orientation(const uint8_t *payload, size_t n);

/* What kind of frame a SOF marker starts, when this decoder cannot take it
 * ("lossless", "hierarchical", ...); NULL for the ones it can (baseline,
 * extended sequential, progressive, arithmetic-coded sequential/progressive). */
const char *bfio_jpeg_unsupported_sof(int sof);

#endif /* BFIO_JPEGMETA_H */
