/*
 * detect_buffer.c - BitFalcon with no dependency at all: detect objects in an
 * RGB buffer you already have (from a camera, a decoder of your choice, a GPU
 * read-back). Here the buffer comes from a binary PPM file (P6: a short text
 * header, then width x height x 3 bytes of RGB), the one image format that
 * needs no library to read.
 *
 *     detect_buffer MODEL.bfm IMAGE.ppm
 *
 *     person       0.722    2.7    9.2  352.1  480.0
 *
 * (name, score, then the corners x0 y0 x1 y1 in the image's pixels.) Make a
 * PPM from any picture with e.g. `djpeg -ppm x.jpg > x.ppm`, ImageMagick's
 * `convert x.jpg x.ppm`, or Python's PIL: Image.open("x.jpg").save("x.ppm").
 *
 * Build against an installed BitFalcon (cmake --install build --prefix PREFIX):
 *
 *     cc detect_buffer.c -o detect_buffer $(pkg-config --cflags --libs bitfalcon)
 *
 * or statically, with nothing to find at run time:
 *
 *     cc detect_buffer.c -o detect_buffer $(pkg-config --cflags bitfalcon) \
 *         "$(pkg-config --variable=libdir bitfalcon)/libbitfalcon.a" -lzstd -lpthread -lm
 *
 * or with CMake, examples/CMakeLists.txt (find_package(bitfalcon)).
 */
#include <bitfalcon.h>

#include <stdio.h>
#include <stdlib.h>

/* Reads a binary PPM (P6, maxval 255) into a packed RGB buffer; NULL on failure. */
static unsigned char *read_ppm(const char *path, int *width, int *height)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    unsigned char *rgb = NULL;
    int maxval = 0;
    /* "P6 <w> <h> 255" and one whitespace byte; the pixels follow. (Comment
     * lines in the header, which PPM allows, are not handled here.) */
    if (fscanf(f, "P6 %d %d %d", width, height, &maxval) == 3 && maxval == 255 && fgetc(f) != EOF &&
        *width > 0 && *height > 0 && *width <= BF_MAX_IMAGE_DIM && *height <= BF_MAX_IMAGE_DIM) {
        size_t size = (size_t)*width * (size_t)*height * 3;
        rgb = malloc(size);
        if (rgb && fread(rgb, 1, size, f) != size) {
            free(rgb);
            rgb = NULL;
        }
    }
    fclose(f);
    return rgb;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s MODEL.bfm IMAGE.ppm\n", argv[0]);
        return 2;
    }
    int width = 0, height = 0;
    unsigned char *rgb = read_ppm(argv[2], &width, &height);
    if (!rgb) {
        fprintf(stderr, "%s: not a binary PPM (P6, maxval 255), or a truncated one\n", argv[2]);
        return 1;
    }

    /* Open the model (validated completely here), then a detector on it with
     * the default options: the model's input size, conf 0.25, IoU 0.7, all cores. */
    bf_error err;
    bf_model *model = NULL;
    if (bf_model_open(argv[1], &model, &err) != BF_OK) {
        fprintf(stderr, "%s\n", err.message);
        free(rgb);
        return 1;
    }
    bf_options options;
    bf_options_default(&options);
    bf_detector *detector = NULL;
    if (bf_detector_create(model, &options, &detector, &err) != BF_OK) {
        fprintf(stderr, "%s\n", err.message);
        bf_model_close(model);
        free(rgb);
        return 1;
    }

    /* The buffer: width x height pixels, 3 bytes each in R, G, B order, rows
     * `stride` bytes apart (a padded or cropped buffer passes its own stride;
     * BF_PIXEL_BGR takes OpenCV's order). The library copies nothing it keeps:
     * the buffer may be reused as soon as run() returns. */
    size_t stride = (size_t)width * 3;
    int status = 0;
    if (bf_detector_run(detector, rgb, width, height, stride, BF_PIXEL_RGB, &err) == BF_OK) {
        size_t n = 0;
        const bf_detection *d = bf_detector_results(detector, &n);
        for (size_t i = 0; i < n; i++)
            printf("%-12s %.3f %6.1f %6.1f %6.1f %6.1f\n", bf_model_class_name(model, d[i].class_id),
                   d[i].score, d[i].x0, d[i].y0, d[i].x1, d[i].y1);
    } else {
        fprintf(stderr, "%s: %s\n", argv[2], err.message);
        status = 1;
    }

    /* Free in reverse: the detector before the model it reads, then the pixels. */
    bf_detector_destroy(detector);
    bf_model_close(model);
    free(rgb);
    return status;
}
