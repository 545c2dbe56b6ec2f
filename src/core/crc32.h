/*
 * crc32.h - zlib's CRC-32 (reflected polynomial 0xEDB88320), the checksum that
 * closes every .bfm file (docs/model-format.md: the last 4 bytes hold the
 * CRC-32 of everything before them).
 */
#ifndef BF_CRC32_H
#define BF_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* Continues a running CRC: start with crc = 0; bf_crc32(0, data, n) equals
 * zlib's crc32(0, data, n). `data` may be NULL when n == 0. */
uint32_t bf_crc32(uint32_t crc, const void *data, size_t n);

#endif /* BF_CRC32_H */
