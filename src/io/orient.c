/* orient.c - see orient.h. */
#include "orient.h"

#include <string.h>

void bfio_orient_size(int orientation, int width, int height, int *out_width, int *out_height)
{
    int swap = orientation >= 5 && orientation <= 8;
    *out_width = swap ? height : width;
    *out_height = swap ? width : height;
}

int bfio_image_orient(bfio_image *img, int o, bfio_err *err)
{
    if (o < 2 || o > 8)
        return 0;
    int W = img->width, H = img->height, dw, dh;
    bfio_orient_size(o, W, H, &dw, &dh);
    bfio_image out;
    if (bfio_image_alloc(&out, dw, dh, err) != 0)
        return -1;
    /* For each displayed pixel (x, y), the stored pixel (sx, sy) it shows.
     * A stored step along a displayed row is (dx_x, dx_y); down a displayed
     * column (dy_x, dy_y); (x0, y0) is the stored pixel shown top-left. */
    int x0, y0, dxx, dxy, dyx, dyy;
    switch (o) {
    case 2: x0 = W - 1, y0 = 0, dxx = -1, dxy = 0, dyx = 0, dyy = 1; break;
    case 3: x0 = W - 1, y0 = H - 1, dxx = -1, dxy = 0, dyx = 0, dyy = -1; break;
    case 4: x0 = 0, y0 = H - 1, dxx = 1, dxy = 0, dyx = 0, dyy = -1; break;
    case 5: x0 = 0, y0 = 0, dxx = 0, dxy = 1, dyx = 1, dyy = 0; break;
    case 6: x0 = 0, y0 = H - 1, dxx = 0, dxy = -1, dyx = 1, dyy = 0; break;
    case 7: x0 = W - 1, y0 = H - 1, dxx = 0, dxy = -1, dyx = -1, dyy = 0; break;
    default: x0 = W - 1, y0 = 0, dxx = 0, dxy = 1, dyx = -1, dyy = 0; break; /* 8 */
    }
    /* Signed strides in bytes; sizes are within the image limits, so
     * long long holds every offset. */
    long long sx = (long long)dxx * 3 + (long long)dxy * (long long)img->stride;
    long long sy = (long long)dyx * 3 + (long long)dyy * (long long)img->stride;
    long long row = (long long)x0 * 3 + (long long)y0 * (long long)img->stride;
    for (int y = 0; y < dh; y++, row += sy) {
        uint8_t *d = out.pixels + (size_t)y * out.stride;
        long long s = row;
        for (int x = 0; x < dw; x++, s += sx, d += 3)
            memcpy(d, img->pixels + s, 3);
    }
    bfio_image_free(img);
    *img = out;
    return 0;
}
