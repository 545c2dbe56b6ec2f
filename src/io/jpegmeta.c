/* jpegmeta.c - see jpegmeta.h. */
#include "jpegmeta.h"

#include <string.h>

/* TIFF values in the byte order the EXIF block declares ("II" little, "MM" big). */
static unsigned rd16(const uint8_t *p, int big)
{
    return big ? (unsigned)p[0] << 8 | p[1] : (unsigned)p[1] << 8 | p[0];
}

static uint32_t rd32(const uint8_t *p, int big)
{
    return big ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]
               : (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

int bfio_exif_orientation(const uint8_t *payload, size_t n)
{
    /* "Exif\0\0", then a TIFF file: byte order (2), 42 (2), offset of IFD0 (4). */
    if (n < 6 + 8 || memcmp(payload, "Exif\0\0", 6) != 0)
        return 0;
    const uint8_t *t = payload + 6;
    size_t tn = n - 6;
    int big;
    if (t[0] == 'I' && t[1] == 'I')
        big = 0;
    else if (t[0] == 'M' && t[1] == 'M')
        big = 1;
    else
        return 0;
    if (rd16(t + 2, big) != 42)
        return 0;
    uint32_t ifd = rd32(t + 4, big);
    /* Every offset is checked against the bytes left, never added to first. */
    if (ifd > tn || tn - ifd < 2)
        return 0;
    unsigned count = rd16(t + ifd, big);
    size_t pos = (size_t)ifd + 2;
    for (unsigned i = 0; i < count; i++, pos += 12) {
        if (tn - pos < 12)
            return 0; /* the directory runs past the segment */
        const uint8_t *e = t + pos;
        if (rd16(e, big) != 0x0112)
            continue;
        /* type SHORT (3), count 1: the value sits in the first two bytes of the
         * value field, in the file's byte order. */
        if (rd16(e + 2, big) != 3 || rd32(e + 4, big) != 1)
            return 0;
        unsigned v = rd16(e + 8, big);
        return v >= 1 && v <= 8 ? (int)v : 0;
    }
    return 0;
}

const char *bfio_jpeg_unsupported_sof(int sof)
{
    switch (sof) {
    case 0xC0: case 0xC1: case 0xC2: /* baseline, extended sequential, progressive */
    case 0xC9: case 0xCA:            /* the same with arithmetic coding */
        return NULL;
    case 0xC3: return "lossless";
    case 0xCB: return "lossless (arithmetic-coded)";
    case 0xC5: case 0xC6: case 0xC7:
    case 0xCD: case 0xCE: case 0xCF: return "hierarchical";
    default: return "unknown";
    }
}

static int is_sof(int m)
{
    return m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC; /* DHT, JPG, DAC */
}

void bfio_jpeg_meta_read(const uint8_t *d, size_t n, bfio_jpeg_meta *out)
{
    out->orientation = 1;
    out->sof = 0;
    out->precision = 0;
    if (n < 4 || d[0] != 0xFF || d[1] != 0xD8)
        return;
    int have_orientation = 0;
    size_t pos = 2;
    while (n - pos >= 4) {
        if (d[pos] != 0xFF)
            return; /* not at a marker: corrupt; the decoder will say so */
        int m = d[pos + 1];
        if (m == 0xFF) { /* fill byte */
            pos++;
            continue;
        }
        if (m == 0xDA || m == 0xD9) /* SOS: the pixels start; EOI */
            return;
        if ((m >= 0xD0 && m <= 0xD7) || m == 0x01 || m == 0xD8) { /* no length */
            pos += 2;
            continue;
        }
        size_t len = (size_t)d[pos + 2] << 8 | d[pos + 3];
        if (len < 2 || len > n - pos - 2)
            return; /* truncated segment */
        const uint8_t *p = d + pos + 4;
        size_t pn = len - 2;
        if (m == 0xE1 && !have_orientation) {
            /* The first EXIF segment counts, as in libexif and OpenCV. */
            int o = bfio_exif_orientation(p, pn);
            if (pn >= 6 && memcmp(p, "Exif\0\0", 6) == 0) {
                have_orientation = 1;
                out->orientation = o ? o : 1;
            }
        } else if (is_sof(m) && !out->sof && pn >= 1) {
            out->sof = m;
            out->precision = p[0];
        }
        pos += 2 + len;
    }
}
