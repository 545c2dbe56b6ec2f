/*
 * test_image.c - decoding by content, the size limits, and every kind of
 * broken file the detect command must report rather than crash on.
 *
 * Test images are made here: JPEG with TurboJPEG (through bfio_jpeg_encode),
 * PNG and BMP with stb_image_write. Hostile headers are written byte by byte.
 */
#include "tmpdir.h"

#include <stdint.h>

#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STB_IMAGE_WRITE_STATIC
#if defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wunused-function"
#endif
#include <stb_image_write.h>

#include "check.h"
#include "files.h"
#include "image.h"

#define W 67 /* odd sizes: no accidental alignment */
#define H 45

static uint8_t rgb[W * H * 3];

static void make_pattern(void)
{
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            uint8_t *p = &rgb[(y * W + x) * 3];
            p[0] = (uint8_t)(x * 255 / (W - 1));
            p[1] = (uint8_t)(y * 255 / (H - 1));
            p[2] = (uint8_t)((x + y) * 2);
        }
}

static int one_line(const bfio_err *e)
{
    return e->msg[0] != '\0' && strchr(e->msg, '\n') == NULL;
}

/* Loads path expecting failure with `needle` in the reason. */
static void expect_fail(const char *path, const char *needle)
{
    bfio_image img = {(uint8_t *)1, 7, 7, 7}; /* must stay untouched */
    bfio_err err = {{0}};
    int rc = bfio_image_load(path, &img, &err);
    CHECK(rc == -1);
    CHECK(one_line(&err));
    CHECK(img.pixels == (uint8_t *)1 && img.width == 7);
    if (!strstr(err.msg, needle)) {
        fprintf(stderr, "  %s: reason '%s' lacks '%s'\n", path, err.msg, needle);
        CHECK(!"reason text");
    }
}

static uint32_t crc32_png(const uint8_t *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    }
    return c ^ 0xFFFFFFFFu;
}

static void be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

/* A PNG whose IHDR claims w x h, with a valid CRC, an empty IDAT and IEND. */
static size_t make_png_header(uint8_t *buf, uint32_t w, uint32_t h)
{
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    memcpy(buf, sig, 8);
    be32(buf + 8, 13);
    memcpy(buf + 12, "IHDR", 4);
    be32(buf + 16, w);
    be32(buf + 20, h);
    buf[24] = 8, buf[25] = 2, buf[26] = 0, buf[27] = 0, buf[28] = 0; /* 8-bit RGB */
    be32(buf + 29, crc32_png(buf + 12, 17));
    be32(buf + 33, 0);
    memcpy(buf + 37, "IEND", 4);
    be32(buf + 41, crc32_png(buf + 37, 4));
    return 45;
}

static void test_good_files(void)
{
    char path[512];
    bfio_image img;
    bfio_err err;

    /* JPEG: lossy, so compare loosely (mean abs error at quality 95). */
    uint8_t *jpeg;
    size_t jn;
    CHECK(bfio_jpeg_encode(rgb, W, H, W * 3, 95, &jpeg, &jn, &err) == 0);
    CHECK(write_bytes(tmp_file(path, sizeof path, "good.jpg"), jpeg, jn) == 0);
    CHECK(bfio_image_sniff(jpeg, jn) == BFIO_FORMAT_JPEG);
    if (bfio_image_load(path, &img, &err) == 0) {
        CHECK(img.width == W && img.height == H && img.stride == W * 3);
        double sum = 0;
        for (size_t i = 0; i < sizeof rgb; i++)
            sum += abs((int)img.pixels[i] - rgb[i]);
        CHECK(sum / sizeof rgb < 4.0);
        bfio_image_free(&img);
    } else {
        fprintf(stderr, "good.jpg: %s\n", err.msg);
        CHECK(!"good JPEG decodes");
    }

    /* A JPEG named .png decodes as JPEG: the content decides. */
    CHECK(write_bytes(tmp_file(path, sizeof path, "jpeg-named.png"), jpeg, jn) == 0);
    CHECK(bfio_image_load(path, &img, &err) == 0);
    bfio_image_free(&img);

    /* The same JPEG saved through bfio_jpeg_save (atomic write) round-trips. */
    bfio_image src = {rgb, W, H, W * 3};
    CHECK(bfio_jpeg_save(tmp_file(path, sizeof path, "saved.jpg"), &src, 90, &err) == 0);
    CHECK(bfio_image_load(path, &img, &err) == 0 && img.width == W);
    bfio_image_free(&img);
    bfio_jpeg_free(jpeg);

    /* PNG and BMP: lossless, exact. */
    CHECK(stbi_write_png(tmp_file(path, sizeof path, "good.png"), W, H, 3, rgb, W * 3) != 0);
    CHECK(bfio_image_load(path, &img, &err) == 0);
    CHECK(img.width == W && img.height == H && memcmp(img.pixels, rgb, sizeof rgb) == 0);
    bfio_image_free(&img);

    CHECK(stbi_write_bmp(tmp_file(path, sizeof path, "good.bmp"), W, H, 3, rgb) != 0);
    CHECK(bfio_image_load(path, &img, &err) == 0);
    CHECK(img.width == W && img.height == H && memcmp(img.pixels, rgb, sizeof rgb) == 0);
    bfio_image_free(&img);

    /* Grey PNG with alpha -> RGB with r = g = b. */
    uint8_t ga[W * H * 2];
    for (int i = 0; i < W * H; i++)
        ga[2 * i] = (uint8_t)i, ga[2 * i + 1] = 200;
    CHECK(stbi_write_png(tmp_file(path, sizeof path, "grey.png"), W, H, 2, ga, W * 2) != 0);
    CHECK(bfio_image_load(path, &img, &err) == 0);
    CHECK(img.width == W && img.pixels[3 * 5] == 5 && img.pixels[3 * 5 + 1] == 5 &&
          img.pixels[3 * 5 + 2] == 5);
    bfio_image_free(&img);

    /* Info reads the header only. */
    uint8_t *data;
    size_t n;
    bfio_format f;
    int w, h;
    CHECK(bfio_read_file(tmp_file(path, sizeof path, "good.png"), BFIO_MAX_FILE_BYTES, &data, &n,
                         &err) == 0);
    CHECK(bfio_image_info(data, n, &f, &w, &h, &err) == 0 && f == BFIO_FORMAT_PNG && w == W && h == H);
    free(data);
}

static void test_bad_files(void)
{
    char path[512];
    bfio_err err;
    uint8_t *jpeg;
    size_t jn;
    CHECK(bfio_jpeg_encode(rgb, W, H, W * 3, 95, &jpeg, &jn, &err) == 0);

    /* Truncated JPEG: the scan data stops half-way. */
    CHECK(write_bytes(tmp_file(path, sizeof path, "truncated.jpg"), jpeg, jn / 2) == 0);
    expect_fail(path, "truncated or corrupt");
    /* Truncated in the header. */
    CHECK(write_bytes(tmp_file(path, sizeof path, "header.jpg"), jpeg, 40) == 0);
    expect_fail(path, "JPEG header");
    /* Only the first 3 magic bytes. */
    CHECK(write_bytes(tmp_file(path, sizeof path, "magic.jpg"), jpeg, 3) == 0);
    expect_fail(path, "JPEG");

    /* A JPEG whose SOF claims 60000 x 60000 (the pixel data cannot be there). */
    uint8_t *big = malloc(jn);
    memcpy(big, jpeg, jn);
    size_t sof = 0;
    for (size_t i = 2; i + 9 < jn; i++)
        if (big[i] == 0xFF && big[i + 1] == 0xC0) {
            sof = i;
            break;
        }
    CHECK(sof != 0);
    big[sof + 5] = 60000 >> 8, big[sof + 6] = 60000 & 255; /* height */
    big[sof + 7] = 60000 >> 8, big[sof + 8] = 60000 & 255; /* width */
    CHECK(write_bytes(tmp_file(path, sizeof path, "huge.jpg"), big, jn) == 0);
    expect_fail(path, "16384 pixel limit");
    /* 12000 x 12000: under the side limit, over 100 megapixels. */
    big[sof + 5] = 12000 >> 8, big[sof + 6] = 12000 & 255;
    big[sof + 7] = 12000 >> 8, big[sof + 8] = 12000 & 255;
    CHECK(write_bytes(tmp_file(path, sizeof path, "100mp.jpg"), big, jn) == 0);
    expect_fail(path, "megapixel limit");
    free(big);
    bfio_jpeg_free(jpeg);

    /* Empty file. */
    CHECK(write_bytes(tmp_file(path, sizeof path, "empty.jpg"), "", 0) == 0);
    expect_fail(path, "empty file");

    /* A text file named .jpg. */
    const char *text = "this is not a picture\n";
    CHECK(write_bytes(tmp_file(path, sizeof path, "text.jpg"), text, strlen(text)) == 0);
    expect_fail(path, "not a JPEG, PNG or BMP");

    /* PNG header claiming 100000 x 100000 and 12000 x 12000. */
    uint8_t png[64];
    size_t pn = make_png_header(png, 100000, 100000);
    CHECK(write_bytes(tmp_file(path, sizeof path, "huge.png"), png, pn) == 0);
    expect_fail(path, "100000x100000 pixels, larger than the 16384 pixel limit");
    pn = make_png_header(png, 12000, 12000);
    CHECK(write_bytes(tmp_file(path, sizeof path, "100mp.png"), png, pn) == 0);
    expect_fail(path, "megapixel limit");
    pn = make_png_header(png, 0, 10);
    CHECK(write_bytes(tmp_file(path, sizeof path, "zero.png"), png, pn) == 0);
    expect_fail(path, "invalid size");
    /* Sane size but no pixel data (empty IDAT): a decode error from stb. */
    pn = make_png_header(png, 10, 10);
    CHECK(write_bytes(tmp_file(path, sizeof path, "nodata.png"), png, pn) == 0);
    expect_fail(path, "PNG is corrupt or truncated");
    CHECK(write_bytes(tmp_file(path, sizeof path, "short.png"), png, 12) == 0);
    expect_fail(path, "truncated");

    /* Truncated real PNG. */
    int len = 0;
    unsigned char *mem = stbi_write_png_to_mem(rgb, W * 3, W, H, 3, &len);
    CHECK(mem && len > 100);
    CHECK(write_bytes(tmp_file(path, sizeof path, "truncated.png"), mem, (size_t)len / 2) == 0);
    expect_fail(path, "PNG is corrupt or truncated");
    STBIW_FREE(mem);

    /* BMP header claiming 70000 x -70000 (top-down). */
    uint8_t bmp[54] = {'B', 'M'};
    bmp[14] = 40;
    int32_t bw = 70000, bh = -70000;
    memcpy(bmp + 18, &bw, 4);
    memcpy(bmp + 22, &bh, 4);
    CHECK(write_bytes(tmp_file(path, sizeof path, "huge.bmp"), bmp, sizeof bmp) == 0);
    expect_fail(path, "70000x70000");
    /* Truncated real BMP. */
    CHECK(stbi_write_bmp(tmp_file(path, sizeof path, "full.bmp"), W, H, 3, rgb) != 0);
    uint8_t *data;
    size_t n;
    CHECK(bfio_read_file(path, BFIO_MAX_FILE_BYTES, &data, &n, &err) == 0);
    CHECK(write_bytes(tmp_file(path, sizeof path, "truncated.bmp"), data, n / 2) == 0);
    expect_fail(path, "BMP is truncated");
    free(data);

    /* Not a file at all. */
    expect_fail(tmp_file(path, sizeof path, "missing.jpg"), "No such file");
    expect_fail(tmpdir_path, "is a directory");

    /* Memory decode of nothing. */
    bfio_image img;
    CHECK(bfio_image_decode((const uint8_t *)"", 0, &img, &err) == -1);
}

static void test_encode_args(void)
{
    uint8_t *out;
    size_t n;
    bfio_err err;
    CHECK(bfio_jpeg_encode(rgb, W, H, W * 3, 0, &out, &n, &err) == -1);
    CHECK(bfio_jpeg_encode(rgb, W, H, W * 3 - 1, 90, &out, &n, &err) == -1);
    CHECK(bfio_jpeg_encode(rgb, 0, H, W * 3, 90, &out, &n, &err) == -1);
    CHECK(bfio_jpeg_encode(NULL, W, H, W * 3, 90, &out, &n, &err) == -1);
    bfio_image img;
    CHECK(bfio_image_alloc(&img, 20000, 10, &err) == -1);
    CHECK(bfio_image_alloc(&img, 10, 10, &err) == 0 && img.stride == 30);
    bfio_image_free(&img);
    bfio_image_free(NULL);
}

int main(void)
{
    make_pattern();
    tmpdir_create("test_image");
    test_good_files();
    test_bad_files();
    test_encode_args();
    int rc = check_finish("test_image");
    if (rc == 0)
        tmpdir_remove();
    else
        fprintf(stderr, "files kept in %s\n", tmpdir_path);
    return rc;
}
