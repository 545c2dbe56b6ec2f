/* image.c - see image.h. */
#include "image.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <turbojpeg.h>

#include "files.h"
#include "jpegmeta.h"
#include "orient.h"

/* stb_image is compiled here and only here, for PNG and BMP, with its
 * functions static so no other library's copy can clash with ours. Its own
 * dimension limit is a second line of defence behind check_dims(). */
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_STATIC
#define STBI_ONLY_PNG
#define STBI_ONLY_BMP
#define STBI_NO_STDIO
#define STBI_NO_LINEAR
#define STBI_NO_HDR
#define STBI_MAX_DIMENSIONS BFIO_IMAGE_MAX_SIDE
#if defined(__GNUC__)
/* The static build declares functions we never call (GIF, ...); GCC reports
 * those at the end of the file, so this one stays off for the whole file. */
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wshadow"
#endif
#include <stb_image.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

bfio_format bfio_image_sniff(const uint8_t *d, size_t n)
{
    if (n >= 3 && d[0] == 0xFF && d[1] == 0xD8 && d[2] == 0xFF)
        return BFIO_FORMAT_JPEG;
    if (n >= 8 && memcmp(d, "\x89PNG\r\n\x1a\n", 8) == 0)
        return BFIO_FORMAT_PNG;
    if (n >= 2 && d[0] == 'B' && d[1] == 'M')
        return BFIO_FORMAT_BMP;
    return BFIO_FORMAT_UNKNOWN;
}

const char *bfio_format_name(bfio_format format)
{
    switch (format) {
    case BFIO_FORMAT_JPEG: return "JPEG";
    case BFIO_FORMAT_PNG: return "PNG";
    case BFIO_FORMAT_BMP: return "BMP";
    default: return "unknown";
    }
}

/* The limits, applied to header values before any allocation. w and h are
 * 64-bit so that unchecked header fields cannot overflow the test itself. */
static int check_dims(long long w, long long h, bfio_err *err)
{
    if (w <= 0 || h <= 0)
        return bfio_fail(err, "image header gives an invalid size %lldx%lld", w, h);
    if (w > BFIO_IMAGE_MAX_SIDE || h > BFIO_IMAGE_MAX_SIDE)
        return bfio_fail(err, "image is %lldx%lld pixels, larger than the %d pixel limit per side",
                         w, h, BFIO_IMAGE_MAX_SIDE);
    if (w * h > BFIO_IMAGE_MAX_PIXELS)
        return bfio_fail(err, "image is %lldx%lld pixels, more than the %lld megapixel limit", w,
                         h, BFIO_IMAGE_MAX_PIXELS / 1000000);
    return 0;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

/* What a too-short file of a known format is called. */
static int truncated(bfio_format f, bfio_err *err)
{
    return bfio_fail(err, "%s file is truncated (header incomplete)", bfio_format_name(f));
}

/* BMP dimensions, and a size check: stb_image fills a truncated BMP's
 * missing rows with zeros and reports success, so for uncompressed files
 * (the usual kind) we check that all the pixel rows are present. */
static int bmp_info(const uint8_t *d, size_t size, long long *w, long long *h, bfio_err *err)
{
    /* file header (14): "BM", file size, reserved, pixel data offset (at 10);
     * then the DIB header, its size first. */
    if (size < 26)
        return truncated(BFIO_FORMAT_BMP, err);
    uint32_t offset = le32(d + 10), dib = le32(d + 14);
    uint32_t bpp, compression = 0;
    if (dib == 12) { /* OS/2 BITMAPCOREHEADER: 16-bit unsigned sizes */
        *w = d[18] | d[19] << 8;
        *h = d[20] | d[21] << 8;
        bpp = d[24] | d[25] << 8;
    } else {
        if (size < 34)
            return truncated(BFIO_FORMAT_BMP, err);
        *w = (int32_t)le32(d + 18);
        *h = (int32_t)le32(d + 22);
        if (*h < 0)
            *h = -*h; /* negative height: rows stored top-down */
        bpp = d[28] | d[29] << 8;
        compression = le32(d + 30);
    }
    if (check_dims(*w, *h, err) != 0)
        return -1;
    /* stb_image reads uncompressed and bitfields BMPs only; the others are
     * named here, so they are not mistaken for damaged files. */
    static const char *const kinds[] = {NULL, "RLE8-compressed", "RLE4-compressed", NULL,
                                        "JPEG-compressed", "PNG-compressed"};
    if (compression != 0 && compression != 3)
        return compression < 6 && kinds[compression]
               ? bfio_fail(err, "%s BMP is not supported: only uncompressed BMP", kinds[compression])
               : bfio_fail(err, "BMP compression type %u is not supported: only uncompressed BMP",
                           (unsigned)compression);
    if ((compression == 0 || compression == 3) && bpp >= 1 && bpp <= 32) { /* BI_RGB, BI_BITFIELDS */
        /* Rows are padded to 4 bytes. w, h <= 16384 and bpp <= 32: no overflow in 64 bits. */
        unsigned long long row = ((unsigned long long)bpp * (unsigned long long)*w + 31) / 32 * 4;
        unsigned long long need = (unsigned long long)offset + row * (unsigned long long)*h;
        if (need > size)
            return bfio_fail(err, "BMP is truncated: %llu bytes expected, %zu present", need, size);
    }
    return 0;
}

/* The header: size (as stored), and the frame types TurboJPEG cannot decode,
 * named as unsupported rather than left to its "corrupt" messages. */
static int jpeg_info(tjhandle tj, const uint8_t *data, size_t size, const bfio_jpeg_meta *m,
                     int *w, int *h, bfio_err *err)
{
    int sub = 0, cs = 0;
    if (size > ULONG_MAX)
        return bfio_fail(err, "JPEG file too large");
    const char *kind = m->sof ? bfio_jpeg_unsupported_sof(m->sof) : NULL;
    if (kind)
        return bfio_fail(err, "%s JPEG (frame marker 0x%02X) is not supported: only baseline and "
                         "progressive 8-bit JPEG", kind, (unsigned)m->sof);
    if (m->sof && m->precision != 8)
        return bfio_fail(err, "%d-bit JPEG is not supported: only 8 bits per sample",
                         m->precision);
    if (tjDecompressHeader3(tj, data, (unsigned long)size, w, h, &sub, &cs) != 0)
        return bfio_fail(err, "JPEG header is corrupt or truncated: %s", tjGetErrorStr2(tj));
    /* libjpeg-turbo 2.1 can "succeed" on a header cut short, with no size. */
    if (*w <= 0 || *h <= 0)
        return bfio_fail(err, "JPEG header is corrupt or truncated (no image size)");
    if (cs == TJCS_CMYK || cs == TJCS_YCCK)
        return bfio_fail(err, "CMYK JPEG images are not supported");
    return check_dims(*w, *h, err);
}

int bfio_image_info(const uint8_t *data, size_t size, bfio_format *format, int *width, int *height,
                    bfio_err *err)
{
    return bfio_image_info_ex(data, size, 0, format, width, height, err);
}

int bfio_image_info_ex(const uint8_t *data, size_t size, unsigned flags, bfio_format *format,
                       int *width, int *height, bfio_err *err)
{
    if (size == 0)
        return bfio_fail(err, "empty file (0 bytes)");
    bfio_format f = bfio_image_sniff(data, size);
    long long w = 0, h = 0;
    switch (f) {
    case BFIO_FORMAT_JPEG: {
        tjhandle tj = tjInitDecompress();
        if (!tj)
            return bfio_fail(err, "cannot start the JPEG decoder: %s", tjGetErrorStr2(NULL));
        int iw = 0, ih = 0;
        bfio_jpeg_meta m;
        bfio_jpeg_meta_read(data, size, &m);
        int rc = jpeg_info(tj, data, size, &m, &iw, &ih, err);
        tjDestroy(tj);
        if (rc != 0)
            return rc;
        if (!(flags & BFIO_IMAGE_NO_EXIF))
            bfio_orient_size(m.orientation, iw, ih, &iw, &ih);
        w = iw;
        h = ih;
        break;
    }
    case BFIO_FORMAT_PNG:
        /* signature (8), IHDR length (4), "IHDR" (4), width (4), height (4) */
        if (size < 24)
            return truncated(f, err);
        if (memcmp(data + 12, "IHDR", 4) != 0)
            return bfio_fail(err, "PNG file is corrupt (no IHDR chunk first)");
        /* The PNG spec fixes IHDR at 13 bytes; png_check reads its bit depth
         * and colour type (bytes 24, 25) once the chunk is known to fit. */
        if (be32(data + 8) != 13)
            return bfio_fail(err, "PNG file is corrupt (an IHDR chunk of %u bytes, not 13)",
                             be32(data + 8));
        w = be32(data + 16);
        h = be32(data + 20);
        break;
    case BFIO_FORMAT_BMP:
        if (bmp_info(data, size, &w, &h, err) != 0)
            return -1;
        break;
    default:
        return bfio_fail(err, "not a JPEG, PNG or BMP image (unrecognised content)");
    }
    if (check_dims(w, h, err) != 0)
        return -1;
    *format = f;
    *width = (int)w;
    *height = (int)h;
    return 0;
}

int bfio_image_alloc(bfio_image *out, int width, int height, bfio_err *err)
{
    if (check_dims(width, height, err) != 0)
        return -1;
    /* width, height <= 16384 and w*h <= 1e8: stride and size fit easily. */
    size_t stride = (size_t)width * 3;
    uint8_t *p = malloc(stride * (size_t)height);
    if (!p)
        return bfio_fail(err, "out of memory for a %dx%d image", width, height);
    out->pixels = p;
    out->width = width;
    out->height = height;
    out->stride = stride;
    return 0;
}

static int decode_jpeg(const uint8_t *data, size_t size, unsigned flags, bfio_image *out,
                       bfio_err *err)
{
    tjhandle tj = tjInitDecompress();
    if (!tj)
        return bfio_fail(err, "cannot start the JPEG decoder: %s", tjGetErrorStr2(NULL));
    int w = 0, h = 0;
    bfio_image img;
    bfio_jpeg_meta m;
    bfio_jpeg_meta_read(data, size, &m);
    if (jpeg_info(tj, data, size, &m, &w, &h, err) != 0 || bfio_image_alloc(&img, w, h, err) != 0) {
        tjDestroy(tj);
        return -1;
    }
    /* STOPONWARNING: a truncated file ("Premature end of JPEG file") or
     * corrupt data ("Corrupt JPEG data: ...") is a warning to libjpeg, which
     * would otherwise return a partly grey picture as success.
     * LIMITSCANS: refuses progressive files with absurd scan counts, a
     * known CPU denial of service. */
    int tjflags = TJFLAG_STOPONWARNING | TJFLAG_LIMITSCANS;
    int rc = tjDecompress2(tj, data, (unsigned long)size, img.pixels, w, (int)img.stride, h,
                           TJPF_RGB, tjflags);
    /* Without STOPONWARNING a warning returns 0 on some versions; check both. */
    if (rc != 0 || tjGetErrorCode(tj) == TJERR_WARNING) {
        const char *msg = tjGetErrorStr2(tj);
        bfio_fail(err, "JPEG is truncated or corrupt: %s", msg && *msg ? msg : "decode failed");
        bfio_image_free(&img);
        tjDestroy(tj);
        return -1;
    }
    tjDestroy(tj);
    /* The displayed frame, as OpenCV's imread gives it (orient.h). */
    if (!(flags & BFIO_IMAGE_NO_EXIF) && bfio_image_orient(&img, m.orientation, err) != 0) {
        bfio_image_free(&img);
        return -1;
    }
    *out = img;
    return 0;
}

static int is_empty_idat(const uint8_t *chunk)
{
    return be32(chunk) == 0 && memcmp(chunk + 4, "IDAT", 4) == 0;
}

/* stb_image 2.27 (Debian 12's) computes `idata + 0` with idata NULL when a
 * PNG's first IDAT chunk is empty: undefined behaviour, caught by clang's
 * UBSan (found by fuzz_image; fuzz/regressions/image/). An empty IDAT
 * carries no data, so dropping every one changes nothing about the image.
 * Returns a copy without them (the caller frees it), or NULL when there is
 * none (*nomem = 0) or memory ran out (*nomem = 1). */
static uint8_t *png_drop_empty_idat(const uint8_t *d, size_t n, size_t *out_n, int *nomem)
{
    *nomem = 0;
    int found = 0;
    for (size_t pos = 8; pos + 12 <= n;) {
        if (is_empty_idat(d + pos)) {
            found = 1;
            break;
        }
        uint32_t len = be32(d + pos);
        if (len > n - pos - 12)
            break; /* runs past the end: stb reports the truncation */
        pos += 12 + (size_t)len;
    }
    if (!found)
        return NULL;
    uint8_t *copy = malloc(n);
    if (!copy) {
        *nomem = 1;
        return NULL;
    }
    memcpy(copy, d, 8);
    size_t pos = 8, o = 8;
    while (pos + 12 <= n) {
        uint32_t len = be32(d + pos);
        size_t chunk = len > n - pos - 12 ? n - pos : 12 + (size_t)len;
        if (!is_empty_idat(d + pos)) {
            memcpy(copy + o, d + pos, chunk);
            o += chunk;
        }
        pos += chunk;
    }
    memcpy(copy + o, d + pos, n - pos);
    *out_n = o + (n - pos);
    return copy;
}

/* Checks a PNG's chunk structure before stb_image sees it, for two
 * allocations stb 2.27 makes from claims it has not checked yet (found by
 * fuzz_image, fuzz/regressions/image/):
 *  - an IDAT chunk's length: stb grows its buffer to the claimed length
 *    before reading, so a 100-byte file claiming a 2 GB chunk allocates 2 GB.
 *    Every chunk must fit in the bytes present.
 *  - the image size: stb allocates the whole inflated size up front. Deflate
 *    expands at most 1032:1, so IDAT chunks holding fewer than
 *    rows * (1 + row bytes) / 1032 bytes cannot be a whole image: truncated.
 * Chunks after IEND are ignored, as stb does. */
static int png_check(const uint8_t *d, size_t n, int w, int h, bfio_err *err)
{
    unsigned long long idat = 0;
    size_t pos = 8;
    /* stb acts on a chunk once its length and type (8 bytes) are there. */
    while (pos + 8 <= n) {
        uint32_t len = be32(d + pos);
        if (n - pos < 12 || len > n - pos - 12)
            return bfio_fail(err, "PNG is corrupt or truncated: a %.4s chunk of %u bytes, "
                             "%zu bytes left", (const char *)d + pos + 4, len, n - pos - 8);
        if (memcmp(d + pos + 4, "IDAT", 4) == 0)
            idat += len;
        if (memcmp(d + pos + 4, "IEND", 4) == 0)
            break;
        pos += 12 + (size_t)len;
    }
    /* IHDR (checked by bfio_image_info): bit depth at 24, colour type at 25. */
    static const int channels[7] = {1, 0, 3, 1, 2, 0, 4};
    int depth = d[24], type = d[25];
    int bits = type <= 6 && channels[type] ? channels[type] * depth : 1;
    if (bits < 1)
        bits = 1;
    /* w, h <= 16384, bits <= 64: no overflow. */
    unsigned long long row = ((unsigned long long)w * (unsigned long long)bits + 7) / 8;
    unsigned long long raw = (unsigned long long)h * (1 + row);
    if (idat * 1032 + 1032 < raw)
        return bfio_fail(err, "PNG is corrupt or truncated: %dx%d needs %llu bytes of pixels, its "
                         "%llu compressed bytes can hold at most %llu", w, h, raw, idat,
                         idat * 1032 + 1032);
    return 0;
}

static int decode_stb(const uint8_t *data, size_t size, bfio_format f, int w, int h,
                      bfio_image *out, bfio_err *err)
{
    if (f == BFIO_FORMAT_PNG && png_check(data, size, w, h, err) != 0)
        return -1;
    if (size > INT_MAX)
        return bfio_fail(err, "%s file too large", bfio_format_name(f));
    uint8_t *cleaned = NULL;
    if (f == BFIO_FORMAT_PNG) {
        int nomem;
        cleaned = png_drop_empty_idat(data, size, &size, &nomem);
        if (nomem)
            return bfio_fail(err, "out of memory");
        if (cleaned)
            data = cleaned;
    }
    int sw = 0, sh = 0, comp = 0;
    stbi_uc *p = stbi_load_from_memory(data, (int)size, &sw, &sh, &comp, 3);
    free(cleaned);
    if (!p)
        return bfio_fail(err, "%s is corrupt or truncated: %s", bfio_format_name(f),
                         stbi_failure_reason());
    if (sw != w || sh != h) { /* cannot happen for a sane file; never trust it */
        stbi_image_free(p);
        return bfio_fail(err, "%s header size %dx%d disagrees with the decoded %dx%d",
                         bfio_format_name(f), w, h, sw, sh);
    }
    /* stb allocates with malloc (STBI_MALLOC default), so free() releases it. */
    out->pixels = p;
    out->width = sw;
    out->height = sh;
    out->stride = (size_t)sw * 3;
    return 0;
}

int bfio_image_decode(const uint8_t *data, size_t size, bfio_image *out, bfio_err *err)
{
    return bfio_image_decode_ex(data, size, 0, out, err);
}

int bfio_image_decode_ex(const uint8_t *data, size_t size, unsigned flags, bfio_image *out,
                         bfio_err *err)
{
    bfio_format f;
    int w, h;
    if (bfio_image_info_ex(data, size, flags, &f, &w, &h, err) != 0)
        return -1;
    if (f == BFIO_FORMAT_JPEG)
        return decode_jpeg(data, size, flags, out, err);
    return decode_stb(data, size, f, w, h, out, err);
}

int bfio_image_load(const char *path, bfio_image *out, bfio_err *err)
{
    return bfio_image_load_ex(path, 0, out, err);
}

int bfio_image_load_ex(const char *path, unsigned flags, bfio_image *out, bfio_err *err)
{
    uint8_t *data = NULL;
    size_t size = 0;
    if (bfio_read_file(path, BFIO_MAX_FILE_BYTES, &data, &size, err) != 0)
        return -1;
    int rc = bfio_image_decode_ex(data, size, flags, out, err);
    free(data);
    return rc;
}

void bfio_image_free(bfio_image *img)
{
    if (!img)
        return;
    free(img->pixels);
    img->pixels = NULL;
    img->width = img->height = 0;
    img->stride = 0;
}

int bfio_jpeg_encode(const uint8_t *rgb, int width, int height, size_t stride, int quality,
                     uint8_t **out_jpeg, size_t *out_size, bfio_err *err)
{
    if (!rgb || check_dims(width, height, err) != 0)
        return rgb ? -1 : bfio_fail(err, "no pixels");
    if (stride < (size_t)width * 3 || stride > INT_MAX)
        return bfio_fail(err, "bad row stride %zu for width %d", stride, width);
    if (quality < 1 || quality > 100)
        return bfio_fail(err, "JPEG quality %d is not in 1..100", quality);
    tjhandle tj = tjInitCompress();
    if (!tj)
        return bfio_fail(err, "cannot start the JPEG encoder: %s", tjGetErrorStr2(NULL));
    unsigned char *buf = NULL;
    unsigned long n = 0;
    int rc = tjCompress2(tj, rgb, width, (int)stride, height, TJPF_RGB, &buf, &n, TJSAMP_420,
                         quality, TJFLAG_ACCURATEDCT);
    if (rc != 0) {
        bfio_fail(err, "JPEG encoding failed: %s", tjGetErrorStr2(tj));
        tjFree(buf);
        tjDestroy(tj);
        return -1;
    }
    tjDestroy(tj);
    *out_jpeg = buf;
    *out_size = n;
    return 0;
}

void bfio_jpeg_free(uint8_t *jpeg)
{
    tjFree(jpeg);
}

int bfio_jpeg_save(const char *path, const bfio_image *img, int quality, bfio_err *err)
{
    uint8_t *jpeg = NULL;
    size_t n = 0;
    if (bfio_jpeg_encode(img->pixels, img->width, img->height, img->stride, quality, &jpeg, &n,
                         err) != 0)
        return -1;
    int rc = bfio_write_file_atomic(path, jpeg, n, err);
    bfio_jpeg_free(jpeg);
    return rc;
}
