/*
 * test_regressions.c - fixes for what the fuzzers found, checked for their
 * effect on valid files (the crashing inputs themselves are replayed by
 * hostile.fuzz_replay_* from fuzz/regressions/).
 *
 *  1. fuzz_image: stb_image 2.27 does `NULL + 0` (undefined behaviour) when a
 *     PNG's first IDAT chunk is empty; image.c drops empty IDAT chunks before
 *     stb sees the file. Here: a valid PNG with empty IDAT chunks inserted
 *     (before, between and after the data) decodes to exactly the same
 *     pixels as the original.
 *  2. fuzz_image: stb_image 2.27 allocates what a PNG claims before checking
 *     it: an IDAT chunk's length (2 GB from a 100-byte file), the whole
 *     inflated image. image.c refuses a chunk longer than the bytes left
 *     (also one whose header ends the file, which stb acts on) and
 *     IDAT data too small to inflate to the image (deflate: at most 1032:1).
 *     Here: both refused with a cause, before any large allocation.
 *   usage: hostile_test_regressions PNG (a valid PNG whose data is in one or more IDATs)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "files.h"
#include "image.h"

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static const uint8_t empty_idat[12] = {0, 0, 0, 0, 'I', 'D', 'A', 'T', 0x35, 0xAF, 0x06, 0x1E};

/* The PNG with an empty IDAT before and after every IDAT chunk. */
static uint8_t *with_empty_idats(const uint8_t *d, size_t n, size_t *out_n)
{
    uint8_t *o = malloc(n * 3 + 1024);
    size_t pos = 8, k = 8;
    memcpy(o, d, 8);
    while (pos + 12 <= n) {
        size_t chunk = 12 + (size_t)be32(d + pos);
        int idat = memcmp(d + pos + 4, "IDAT", 4) == 0;
        if (idat) {
            memcpy(o + k, empty_idat, 12);
            k += 12;
        }
        memcpy(o + k, d + pos, chunk);
        k += chunk;
        if (idat) {
            memcpy(o + k, empty_idat, 12);
            k += 12;
        }
        pos += chunk;
    }
    *out_n = k;
    return o;
}

/* 1 when msg contains each of the three facts (a failed check prints the message). */
static int mentions(const char *msg, const char *a, const char *b, const char *c)
{
    int ok = strstr(msg, a) && strstr(msg, b) && strstr(msg, c);
    if (!ok)
        fprintf(stderr, "expected '%s', '%s' and '%s' in: %s\n", a, b, c, msg);
    return ok;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: hostile_test_regressions PNG\n");
        return 2;
    }
    uint8_t *png;
    size_t n;
    bfio_err err;
    if (bfio_read_file(argv[1], 1 << 24, &png, &n, &err) != 0) {
        fprintf(stderr, "%s: %s\n", argv[1], err.msg);
        return 1;
    }
    size_t m;
    uint8_t *odd = with_empty_idats(png, n, &m);
    CHECK(m > n + 20);
    bfio_image a, b;
    CHECK(bfio_image_decode(png, n, &a, &err) == 0);
    int rc = bfio_image_decode(odd, m, &b, &err);
    CHECK(rc == 0);
    if (rc != 0)
        fprintf(stderr, "with empty IDAT chunks: %s\n", err.msg);
    else {
        CHECK(a.width == b.width && a.height == b.height && a.stride == b.stride);
        CHECK(memcmp(a.pixels, b.pixels, a.stride * (size_t)a.height) == 0);
        bfio_image_free(&b);
    }
    bfio_image_free(&a);

    /* 2a. a chunk claiming more bytes than the file has */
    uint8_t *big = malloc(n);
    memcpy(big, png, n);
    for (size_t pos = 8; pos + 12 <= n; pos += 12 + (size_t)be32(png + pos))
        if (memcmp(png + pos + 4, "IDAT", 4) == 0) {
            big[pos] = 0x7F; /* 2 GB */
            break;
        }
    /* The failure must be this one, not any error: the message names the chunk and the
     * facts (its claimed length, the bytes left), whatever the wording around them. */
    char want_len[32], want_left[32];
    for (size_t pos = 8; pos + 12 <= n; pos += 12 + (size_t)be32(png + pos))
        if (memcmp(png + pos + 4, "IDAT", 4) == 0) {
            snprintf(want_len, sizeof want_len, "%u", (unsigned)be32(big + pos));
            snprintf(want_left, sizeof want_left, "%zu", n - pos - 8);
            CHECK(bfio_image_decode(big, n, &b, &err) == -1);
            CHECK(mentions(err.msg, "IDAT", want_len, want_left));
            /* ... and a file that ends just after an IDAT chunk's length and type */
            snprintf(want_left, sizeof want_left, "%d", 2);
            CHECK(bfio_image_decode(big, pos + 10, &b, &err) == -1);
            CHECK(mentions(err.msg, "IDAT", want_len, want_left));
            break;
        }
    free(big);
    /* 2b. a 16000 x 6000 RGBA header over 40 bytes of IDAT: 384 MB of pixels
     * cannot come out of 40 compressed bytes */
    static const uint8_t hdr[] = {0x89, 'P', 'N', 'G', 13, 10, 26, 10, 0, 0, 0, 13, 'I', 'H', 'D',
                                  'R', 0, 0, 0x3E, 0x80, 0, 0, 0x17, 0x70, 8, 6, 0, 0, 0, 1, 2, 3, 4};
    uint8_t tiny[sizeof hdr + 12 + 40 + 12];
    memcpy(tiny, hdr, sizeof hdr);
    uint8_t *c = tiny + sizeof hdr;
    memcpy(c, "\0\0\0\x28IDAT", 8);
    memset(c + 8, 0x78, 44);
    memcpy(c + 52, "\0\0\0\0IEND\xae\x42\x60\x82", 12);
    CHECK(bfio_image_decode(tiny, sizeof tiny, &b, &err) == -1);
    /* 6000 rows of (1 filter byte + 16000 x 4) bytes, against 40 compressed bytes */
    CHECK(mentions(err.msg, "16000x6000", "384006000", "40"));
    /* 3. an IHDR chunk that claims 5 bytes, in a 25-byte file: the bit depth and colour
     * type (bytes 24 and 25) were read one byte past the end (found by fuzz_image;
     * fuzz/regressions/image/png-ihdr-5-bytes.png). The spec fixes IHDR at 13 bytes. */
    static const uint8_t short_ihdr[] = {0x89, 'P', 'N', 'G', 13, 10, 26, 10, 0, 0, 0, 5, 'I',
                                         'H', 'D', 'R', 0, 0, 4, 0, 0, 0, 0, 0x60, 0x82};
    int sw = 0, sh = 0;
    bfio_format sf;
    CHECK(bfio_image_info(short_ihdr, sizeof short_ihdr, &sf, &sw, &sh, &err) == -1);
    CHECK(mentions(err.msg, "IHDR", "5 bytes", "13"));
    CHECK(bfio_image_decode(short_ihdr, sizeof short_ihdr, &b, &err) == -1);
    CHECK(mentions(err.msg, "IHDR", "5 bytes", "13"));
    free(odd);
    free(png);
    return check_finish("test_regressions");
}
