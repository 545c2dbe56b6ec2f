/*
 * test_draw.c - boxes, labels and the font, on known pixels.
 *
 * Also writes draw_test.png (in the test's working folder) so a person can
 * look at the result: boxes in the middle, at every edge, a label that has no
 * room above its box, and the whole font.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STB_IMAGE_WRITE_STATIC
#if defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wunused-function"
#endif
#include <stb_image_write.h>

#include "check.h"
#include "draw.h"

static const bfio_rgb grey = {90, 90, 90};

static int is(const bfio_image *img, int x, int y, bfio_rgb c)
{
    const uint8_t *p = img->pixels + (size_t)y * img->stride + (size_t)x * 3;
    return p[0] == c.r && p[1] == c.g && p[2] == c.b;
}

static int eq(bfio_rgb a, bfio_rgb b)
{
    return a.r == b.r && a.g == b.g && a.b == b.b;
}

static void test_colors(void)
{
    CHECK(!eq(bfio_class_color(0), bfio_class_color(1)));
    CHECK(eq(bfio_class_color(0), bfio_class_color(20))); /* the palette repeats */
    bfio_rgb c = bfio_class_color(-3);                     /* no crash on nonsense */
    (void)c;
    CHECK(bfio_draw_font_scale(640, 480) == 2);
    CHECK(bfio_draw_font_scale(100, 80) == 1);
    CHECK(bfio_draw_line_width(640, 480) == 2);
    CHECK(bfio_draw_line_width(1920, 1080) == 3);
    CHECK(bfio_text_width("ab", 2) == (2 * 6 - 1) * 2);
    CHECK(bfio_text_width("", 2) == 0);
    CHECK(bfio_text_height(2) == 18);
}

static void test_rect_and_clip(void)
{
    bfio_image img;
    bfio_err err;
    CHECK(bfio_image_alloc(&img, 40, 30, &err) == 0);
    bfio_fill_rect(&img, -100, -100, 1000, 1000, grey); /* clipped to the whole image */
    CHECK(is(&img, 0, 0, grey) && is(&img, 39, 29, grey));
    bfio_rgb red = {255, 0, 0};
    bfio_draw_rect(&img, 10, 10, 20, 18, 2, red);
    CHECK(is(&img, 10, 10, red) && is(&img, 11, 11, red));  /* corner, 2 px */
    CHECK(is(&img, 19, 17, red) && is(&img, 18, 16, red));  /* far corner, inside [x0,x1) */
    CHECK(is(&img, 12, 12, grey));                          /* hollow */
    CHECK(is(&img, 20, 10, grey) && is(&img, 9, 10, grey)); /* nothing outside */
    bfio_draw_rect(&img, 35, 25, 60, 60, 2, red);           /* crosses the corner */
    CHECK(is(&img, 35, 29, red) && is(&img, 39, 25, red));
    bfio_draw_rect(&img, -50, -50, -10, -10, 3, red); /* entirely outside: nothing */
    bfio_draw_rect(&img, 5, 5, 5, 9, 3, red);         /* empty: nothing */
    CHECK(is(&img, 5, 5, grey));
    bfio_image_free(&img);
}

static void test_detection(void)
{
    bfio_image img;
    bfio_err err;
    CHECK(bfio_image_alloc(&img, 640, 480, &err) == 0);
    bfio_fill_rect(&img, 0, 0, 640, 480, grey);
    bfio_rgb c0 = bfio_class_color(0);

    /* A box in the middle: 2 px lines at floor(x0) .. ceil(x1)-1, label above. */
    bfio_draw_detection(&img, 100.4f, 150.0f, 300.0f, 400.0f, "person 0.87", c0);
    CHECK(is(&img, 100, 200, c0) && is(&img, 101, 200, c0) && is(&img, 102, 200, grey));
    CHECK(is(&img, 299, 200, c0) && is(&img, 300, 200, grey));
    CHECK(is(&img, 200, 150, c0) && is(&img, 200, 399, c0));
    /* Label: background of the class colour directly above the box, 18 + 6 px
     * tall at scale 2 (glyph 9 x 2, padding 3 each side). */
    CHECK(is(&img, 101, 149, c0) && is(&img, 101, 150 - 24, c0) && is(&img, 101, 150 - 25, grey));
    /* Some ink in the label (white or black on this colour). */
    int ink = 0;
    for (int y = 126; y < 150; y++)
        for (int x = 100; x < 100 + bfio_text_width("person 0.87", 2) + 6; x++)
            ink += !is(&img, x, y, c0);
    CHECK(ink > 100);

    /* A box at the top edge: its label goes inside the box, at the top. */
    bfio_rgb c1 = bfio_class_color(15);
    bfio_draw_detection(&img, 400, 0, 600, 120, "cat 0.50", c1);
    CHECK(is(&img, 401, 0, c1) && is(&img, 401, 23, c1)); /* label background, inside */

    /* A box crossing the right edge: the label is shifted left to stay visible. */
    bfio_rgb c2 = bfio_class_color(2);
    bfio_draw_detection(&img, 600, 300, 700, 420, "car 0.33", c2);
    /* x1 = 700 maps past the image (to_pixel's width + 1): the right side's two columns
     * 639..640 are clipped to the last column, so a clipped box still shows its edge there,
     * with the interior next to it untouched. */
    CHECK(is(&img, 639, 350, c2) && is(&img, 638, 350, grey));
    CHECK(is(&img, 600, 350, c2) && is(&img, 601, 350, c2) && is(&img, 602, 350, grey));
    int lw = bfio_text_width("car 0.33", 2) + 6;
    CHECK(is(&img, 640 - lw, 299, c2)); /* the label's left end, shifted in */

    /* Boxes outside, degenerate, NaN, huge: no crash, no writes out of bounds
     * (the sanitizer build checks that). */
    bfio_draw_detection(&img, -500, -500, -400, -400, "x", c0);
    bfio_draw_detection(&img, 5000, 5000, 6000, 6000, "x", c0);
    bfio_draw_detection(&img, NAN, NAN, NAN, NAN, "nan", c0);
    bfio_draw_detection(&img, -1e30f, -1e30f, 1e30f, 1e30f, "huge", c0);
    bfio_draw_detection(&img, 10, 470, 10, 470, "a label with \x01\xff odd characters", c0);

    /* The font, for a visual check, in both inks. */
    char line[100];
    for (int row = 0; row < 3; row++) {
        int n = 0;
        for (int ch = 32 + row * 32; ch < 32 + (row + 1) * 32 && ch < 127; ch++)
            line[n++] = (char)ch;
        line[n] = 0;
        bfio_fill_rect(&img, 0, 410 + row * 22, 640, 432 + row * 22, (bfio_rgb){255, 255, 255});
        bfio_draw_text(&img, 4, 412 + row * 22, line, 2, (bfio_rgb){0, 0, 0});
    }
    CHECK(stbi_write_png("draw_test.png", img.width, img.height, 3, img.pixels, (int)img.stride) != 0);
    bfio_image_free(&img);
}

/* Counts the pixels of each kind: the label colour, its ink (black or white), anything else. */
static void count_inks(const bfio_image *img, bfio_rgb label, int *n_label, int *n_ink, int *n_other)
{
    *n_label = *n_ink = *n_other = 0;
    for (int y = 0; y < img->height; y++)
        for (int x = 0; x < img->width; x++) {
            if (is(img, x, y, label))
                ++*n_label;
            else if (is(img, x, y, (bfio_rgb){0, 0, 0}) || is(img, x, y, (bfio_rgb){255, 255, 255}))
                ++*n_ink;
            else
                ++*n_other;
        }
}

static void test_small_image(void)
{
    /* Labels larger than the image: the label's background is clamped into the image and
     * covers all of it (11 rows of label on 6 rows of image), text drawn over it, clipped. */
    bfio_image img;
    bfio_err err;
    bfio_rgb c3 = bfio_class_color(3);
    int n_label, n_ink, n_other;
    CHECK(bfio_image_alloc(&img, 8, 6, &err) == 0);
    bfio_fill_rect(&img, 0, 0, 8, 6, grey);
    bfio_draw_detection(&img, 1, 1, 7, 5, "a very long label that does not fit", c3);
    count_inks(&img, c3, &n_label, &n_ink, &n_other);
    CHECK(n_other == 0);                  /* no grey left, no stray colour */
    CHECK(n_label > 0 && n_ink > 0);      /* background and some glyph pixels */
    bfio_image_free(&img);
    CHECK(bfio_image_alloc(&img, 1, 1, &err) == 0);
    bfio_fill_rect(&img, 0, 0, 1, 1, grey);
    bfio_draw_detection(&img, 0, 0, 1, 1, "x", c3);
    count_inks(&img, c3, &n_label, &n_ink, &n_other);
    CHECK(n_other == 0 && n_label + n_ink == 1);
    bfio_image_free(&img);
}

int main(void)
{
    test_colors();
    test_rect_and_clip();
    test_detection();
    test_small_image();
    return check_finish("test_draw");
}
