/*
 * detect_image.c - BitFalcon on a JPEG file: load the model, decode the JPEG
 * with libjpeg-turbo, detect, print one box per line with its class name.
 *
 *     detect_image MODEL.bfm IMAGE.jpg [INPUT_SIZE]
 *
 *     person       0.722    2.7    9.2  352.1  480.0
 *
 * (name, score, then the corners x0 y0 x1 y1 in the image's pixels.)
 *
 * Build against an installed BitFalcon (cmake --install build --prefix PREFIX):
 *
 *     cc detect_image.c -o detect_image \
 *         $(pkg-config --cflags --libs bitfalcon libturbojpeg)
 *
 * or with CMake, examples/CMakeLists.txt (find_package(bitfalcon)):
 *
 *     cmake -S examples -B build-examples -DCMAKE_PREFIX_PATH=PREFIX
 *     cmake --build build-examples
 *     build-examples/detect_image models/bitfalcon-v8n.bfm assets/astronaut.jpg
 *
 * The lifecycle: open the model, create a detector on it, run it (as often as
 * you like), read the results, then destroy in reverse order: the detector
 * before the model it uses.
 */
#include <bitfalcon.h>
#include <turbojpeg.h>

#include <stdio.h>
#include <stdlib.h>

/* Reads a whole file into memory; NULL on failure. */
static unsigned char *read_file(const char *path, unsigned long *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    unsigned char *data = NULL;
    long n = -1;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0) {
        data = malloc((size_t)n);
        if (data && fread(data, 1, (size_t)n, f) != (size_t)n) {
            free(data);
            data = NULL;
        }
    }
    fclose(f);
    *size = (unsigned long)n;
    return data;
}

/* Decodes a JPEG to tightly packed RGB (3 bytes per pixel); NULL on failure. */
static unsigned char *decode_jpeg(const unsigned char *jpeg, unsigned long size, int *width, int *height)
{
    tjhandle tj = tjInitDecompress();
    if (!tj)
        return NULL;
    unsigned char *rgb = NULL;
    int subsamp, colorspace;
    if (tjDecompressHeader3(tj, jpeg, size, width, height, &subsamp, &colorspace) == 0) {
        rgb = malloc((size_t)*width * (size_t)*height * 3);
        /* TJFLAG_STOPONWARNING: a truncated file is an error, not a grey picture. */
        if (rgb && tjDecompress2(tj, jpeg, size, rgb, *width, 0, *height, TJPF_RGB,
                                 TJFLAG_STOPONWARNING) != 0) {
            free(rgb);
            rgb = NULL;
        }
    }
    tjDestroy(tj);
    return rgb;
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: %s MODEL.bfm IMAGE.jpg [INPUT_SIZE]\n", argv[0]);
        return 2;
    }
    unsigned long jpeg_size = 0;
    unsigned char *jpeg = read_file(argv[2], &jpeg_size);
    if (!jpeg) {
        fprintf(stderr, "%s: cannot read the file\n", argv[2]);
        return 1;
    }
    int width = 0, height = 0;
    unsigned char *rgb = decode_jpeg(jpeg, jpeg_size, &width, &height);
    free(jpeg);
    if (!rgb) {
        fprintf(stderr, "%s: not a JPEG, or a damaged one\n", argv[2]);
        return 1;
    }

    /* 1. The model: read and validated completely here; immutable after. */
    bf_error err;
    bf_model *model = NULL;
    if (bf_model_open(argv[1], &model, &err) != BF_OK) {
        fprintf(stderr, "%s\n", err.message); /* names the file and the cause */
        free(rgb);
        return 1;
    }

    /* 2. A detector: its options and all its working memory, allocated once. */
    bf_options options;
    bf_options_default(&options); /* the model's input size, conf 0.25, IoU 0.7 */
    if (argc == 4)
        options.input_size = atoi(argv[3]);
    bf_detector *detector = NULL;
    if (bf_detector_create(model, &options, &detector, &err) != BF_OK) {
        fprintf(stderr, "%s\n", err.message);
        bf_model_close(model);
        free(rgb);
        return 1;
    }

    /* 3. Run on the pixels; the boxes are in this image's coordinates and stay
     *    valid until the next run or the destroy. */
    int status = 0;
    if (bf_detector_run(detector, rgb, width, height, (size_t)width * 3, BF_PIXEL_RGB, &err) == BF_OK) {
        size_t n = 0;
        const bf_detection *d = bf_detector_results(detector, &n);
        for (size_t i = 0; i < n; i++)
            printf("%-12s %.3f %6.1f %6.1f %6.1f %6.1f\n", bf_model_class_name(model, d[i].class_id),
                   d[i].score, d[i].x0, d[i].y0, d[i].x1, d[i].y1);
    } else {
        fprintf(stderr, "%s: %s\n", argv[2], err.message);
        status = 1;
    }

    /* 4. Free in reverse: the detector before the model it reads. */
    bf_detector_destroy(detector);
    bf_model_close(model);
    free(rgb);
    return status;
}
