/*
 * draw.h - boxes and labels on RGB images, for `bitfalcon detect --draw`.
 *
 * Everything is clipped to the image, so boxes that touch or cross the edges
 * (common: detections are clipped to [0, w] x [0, h] in continuous
 * coordinates) draw what is visible and never write outside the buffer.
 *
 * Text uses a built-in 5x9 pixel ASCII font in 6x10 cells (7-pixel capitals,
 * 2 rows for descenders), drawn at an integer scale: 2 for ordinary photos,
 * so "person 0.87" is legible without any font library.
 */
#ifndef BFIO_DRAW_H
#define BFIO_DRAW_H

#include <stdint.h>

#include "image.h"

#define BFIO_FONT_CELL_W 6  /* glyph 5 + 1 column of spacing */
#define BFIO_FONT_CELL_H 10 /* glyph 9 + 1 row of spacing */
#define BFIO_FONT_GLYPH_H 9

typedef struct bfio_rgb {
    uint8_t r, g, b;
} bfio_rgb;

/* A distinct colour per class (a 20-colour palette, repeating). */
bfio_rgb bfio_class_color(int class_id);

/* The font scale and box line width suited to an image of this size. */
int bfio_draw_font_scale(int width, int height);
int bfio_draw_line_width(int width, int height);

/* Fills [x0, x1) x [y0, y1), clipped. */
void bfio_fill_rect(bfio_image *img, int x0, int y0, int x1, int y1, bfio_rgb color);

/* A rectangle outline `thickness` pixels wide, drawn inside [x0, x1) x [y0, y1). */
void bfio_draw_rect(bfio_image *img, int x0, int y0, int x1, int y1, int thickness,
                    bfio_rgb color);

/* Text with its top-left corner at (x, y); characters outside 32..126 show as '?'. */
void bfio_draw_text(bfio_image *img, int x, int y, const char *text, int scale, bfio_rgb color);
int bfio_text_width(const char *text, int scale); /* ink width in pixels */
int bfio_text_height(int scale);

/* A detection: the box (continuous pixel coordinates, as bf_detection) in
 * `color`, and `label` in black or white (whichever reads better) on a filled
 * background of the same colour above the box, or just inside its top edge
 * when there is no room above; shifted left to stay inside the image. */
void bfio_draw_detection(bfio_image *img, float x0, float y0, float x1, float y1,
                         const char *label, bfio_rgb color);

#endif /* BFIO_DRAW_H */
