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
#include "jpegmeta.h"

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
    /* Valid kinds the decoder does not take: named unsupported, not corrupt. */
    memcpy(big, jpeg, jn);
    big[sof + 4] = 12; /* bits per sample */
    CHECK(write_bytes(tmp_file(path, sizeof path, "twelve.jpg"), big, jn) == 0);
    expect_fail(path, "12-bit JPEG is not supported");
    memcpy(big, jpeg, jn);
    big[sof + 1] = 0xC3; /* lossless */
    CHECK(write_bytes(tmp_file(path, sizeof path, "lossless.jpg"), big, jn) == 0);
    expect_fail(path, "lossless JPEG (frame marker 0xC3) is not supported");
    big[sof + 1] = 0xC5; /* hierarchical */
    CHECK(write_bytes(tmp_file(path, sizeof path, "hier.jpg"), big, jn) == 0);
    expect_fail(path, "hierarchical JPEG");
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
    /* The same file claiming RLE8 (1), RLE4 (2), PNG (5) and an unknown (9)
     * compression: unsupported, named. */
    static const struct { uint8_t c; const char *why; } comp[] = {
        {1, "RLE8-compressed BMP is not supported"}, {2, "RLE4-compressed BMP is not supported"},
        {5, "PNG-compressed BMP is not supported"}, {9, "BMP compression type 9 is not supported"}};
    for (size_t k = 0; k < sizeof comp / sizeof comp[0]; k++) {
        data[30] = comp[k].c;
        CHECK(write_bytes(tmp_file(path, sizeof path, "comp.bmp"), data, n) == 0);
        expect_fail(path, comp[k].why);
    }
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

/* An APP1 Exif segment holding IFD0 with one entry (tag, type, count, value),
 * in big- or little-endian TIFF order; returns its length (marker included). */
static size_t make_app1(uint8_t *o, int big, unsigned tag, unsigned type, uint32_t count,
                        unsigned value)
{
    uint8_t t[64];
    size_t n = 0;
#define P16(v) (big ? (t[n] = (uint8_t)((v) >> 8), t[n + 1] = (uint8_t)(v)) \
                    : (t[n] = (uint8_t)(v), t[n + 1] = (uint8_t)((v) >> 8)), n += 2)
#define P32(v) (big ? (P16((v) >> 16), P16((v) & 0xFFFF)) : (P16((v) & 0xFFFF), P16((v) >> 16)))
    t[n++] = big ? 'M' : 'I';
    t[n++] = big ? 'M' : 'I';
    P16(42u);
    P32(8u);          /* IFD0 right after the header */
    P16(1u);          /* one entry */
    P16(tag);
    P16(type);
    P32(count);
    P16(value);       /* SHORT value, left-justified in the 4-byte field */
    P16(0u);
    P32(0u);          /* no next IFD */
#undef P16
#undef P32
    size_t len = 2 + 6 + n;
    o[0] = 0xFF;
    o[1] = 0xE1;
    o[2] = (uint8_t)(len >> 8);
    o[3] = (uint8_t)len;
    memcpy(o + 4, "Exif\0\0", 6);
    memcpy(o + 10, t, n);
    return 2 + len;
}

/* The stored pixel (sx, sy) that displayed pixel (x, y) shows, for each
 * orientation, written from the TIFF definitions (row 0 / column 0 sides)
 * rather than from orient.c's steps. */
static void stored_of(int o, int x, int y, int sw, int sh, int *sx, int *sy)
{
    switch (o) {
    case 1: *sx = x, *sy = y; break;                   /* top-left */
    case 2: *sx = sw - 1 - x, *sy = y; break;          /* top-right */
    case 3: *sx = sw - 1 - x, *sy = sh - 1 - y; break; /* bottom-right */
    case 4: *sx = x, *sy = sh - 1 - y; break;          /* bottom-left */
    case 5: *sx = y, *sy = x; break;                   /* left-top */
    case 6: *sx = y, *sy = sh - 1 - x; break;          /* right-top */
    case 7: *sx = sw - 1 - y, *sy = sh - 1 - x; break; /* right-bottom */
    default: *sx = sw - 1 - y, *sy = x; break;         /* 8: left-bottom */
    }
}

static void test_exif(void)
{
    uint8_t *jpeg = NULL;
    size_t jn = 0;
    bfio_err err;
    CHECK(bfio_jpeg_encode(rgb, W, H, W * 3, 95, &jpeg, &jn, &err) == 0);
    if (!jpeg)
        return;
    uint8_t *f = malloc(jn + 128);
    bfio_image raw;
    CHECK(f && bfio_image_decode(jpeg, jn, &raw, &err) == 0 && raw.width == W);
    if (!f || raw.width != W) {
        free(f);
        bfio_jpeg_free(jpeg);
        return;
    }
    for (int big = 0; big < 2; big++)
        for (int o = 1; o <= 8; o++) {
            /* SOI, the Exif segment, then the rest of the encoder's file. */
            f[0] = 0xFF, f[1] = 0xD8;
            size_t a = make_app1(f + 2, big, 0x0112, 3, 1, (unsigned)o);
            memcpy(f + 2 + a, jpeg + 2, jn - 2);
            size_t fn = jn + a;
            bfio_jpeg_meta m;
            bfio_jpeg_meta_read(f, fn, &m);
            CHECK(m.orientation == o && m.sof == 0xC0 && m.precision == 8);
            bfio_format fmt;
            int iw = 0, ih = 0;
            CHECK(bfio_image_info(f, fn, &fmt, &iw, &ih, &err) == 0);
            CHECK(iw == (o >= 5 ? H : W) && ih == (o >= 5 ? W : H));
            bfio_image img, kept;
            CHECK(bfio_image_decode(f, fn, &img, &err) == 0);
            CHECK(bfio_image_decode_ex(f, fn, BFIO_IMAGE_NO_EXIF, &kept, &err) == 0);
            CHECK(kept.width == W && kept.height == H &&
                  memcmp(kept.pixels, raw.pixels, (size_t)W * H * 3) == 0);
            CHECK(img.width == iw && img.height == ih && img.stride == (size_t)iw * 3);
            int bad = 0;
            for (int y = 0; y < img.height && !bad; y++)
                for (int x = 0; x < img.width && !bad; x++) {
                    int sx, sy;
                    stored_of(o, x, y, W, H, &sx, &sy);
                    bad = memcmp(img.pixels + (size_t)y * img.stride + (size_t)x * 3,
                                 raw.pixels + (size_t)sy * raw.stride + (size_t)sx * 3, 3) != 0;
                }
            if (bad)
                fprintf(stderr, "  orientation %d (%s): pixels not in the displayed frame\n", o,
                        big ? "MM" : "II");
            CHECK(!bad);
            bfio_image_free(&img);
            bfio_image_free(&kept);
        }

    /* Hostile or odd EXIF blocks: read nothing outside, give 0 (no orientation). */
    uint8_t seg[64];
    size_t a = make_app1(seg, 1, 0x0112, 3, 1, 6);
    CHECK(bfio_exif_orientation(seg + 4, a - 4) == 6);
    CHECK(bfio_exif_orientation(seg + 4, a - 4 - 5) == 0); /* the entry cut short */
    a = make_app1(seg, 0, 0x0112, 4, 1, 6);                /* LONG, not SHORT */
    CHECK(bfio_exif_orientation(seg + 4, a - 4) == 0);
    a = make_app1(seg, 0, 0x0112, 3, 2, 6);                /* count 2 */
    CHECK(bfio_exif_orientation(seg + 4, a - 4) == 0);
    a = make_app1(seg, 0, 0x0112, 3, 1, 9);                /* value 9 */
    CHECK(bfio_exif_orientation(seg + 4, a - 4) == 0);
    a = make_app1(seg, 0, 0x0112, 3, 1, 0);                /* value 0 */
    CHECK(bfio_exif_orientation(seg + 4, a - 4) == 0);
    a = make_app1(seg, 0, 0x0110, 3, 1, 6);                /* another tag */
    CHECK(bfio_exif_orientation(seg + 4, a - 4) == 0);
    a = make_app1(seg, 0, 0x0112, 3, 1, 6);
    seg[4 + 6 + 4] = 0xFF, seg[4 + 6 + 5] = 0xFF, seg[4 + 6 + 6] = 0xFF, seg[4 + 6 + 7] = 0xFF;
    CHECK(bfio_exif_orientation(seg + 4, a - 4) == 0);     /* IFD0 at 4 GB */
    a = make_app1(seg, 0, 0x0112, 3, 1, 6);
    seg[4 + 6 + 8] = 0xFF, seg[4 + 6 + 9] = 0xFF;          /* 65535 entries claimed */
    CHECK(bfio_exif_orientation(seg + 4, a - 4) == 6);     /* the first is read, then it stops */
    seg[4 + 6 + 10] = 0x10;                                /* ... and the first is not ours */
    CHECK(bfio_exif_orientation(seg + 4, a - 4) == 0);
    CHECK(bfio_exif_orientation((const uint8_t *)"Exif\0\0XX*\0", 12) == 0);
    /* An APP1 length past the end of the file: nothing read, orientation 1. */
    f[0] = 0xFF, f[1] = 0xD8, f[2] = 0xFF, f[3] = 0xE1, f[4] = 0xFF, f[5] = 0xF0;
    memcpy(f + 6, "Exif\0\0MM", 8);
    bfio_jpeg_meta m;
    bfio_jpeg_meta_read(f, 14, &m);
    CHECK(m.orientation == 1 && m.sof == 0);
    free(f);
    bfio_image_free(&raw);
    bfio_jpeg_free(jpeg);
}

int main(void)
{
    make_pattern();
    tmpdir_create("test_image");
    test_good_files();
    test_bad_files();
    test_encode_args();
    test_exif();
    int rc = check_finish("test_image");
    if (rc == 0)
        tmpdir_remove();
    else
        fprintf(stderr, "files kept in %s\n", tmpdir_path);
    return rc;
}
