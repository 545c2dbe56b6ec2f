/*
 * json.h - just enough JSON for detections files and summaries.
 *
 * Writing: values are appended to a bfio_sb. Strings are escaped per RFC 8259
 * (quote, backslash, control characters); bytes that are not valid UTF-8 (a
 * Linux file name can hold any bytes) become U+FFFD so the output is always
 * valid JSON that Python's json.load accepts. Non-finite numbers are written
 * as null, since JSON has no NaN or Infinity.
 *
 * Reading: bfio_json_parse builds a small tree from a complete document. It
 * distrusts its input: nesting is capped (BFIO_JSON_MAX_DEPTH), strings must be
 * valid (escapes, surrogate pairs, no raw control characters), numbers follow
 * the JSON grammar, and trailing garbage is an error. Errors name the line and
 * column.
 */
#ifndef BFIO_JSON_H
#define BFIO_JSON_H

#include <stddef.h>

#include "err.h"
#include "strbuf.h"

#define BFIO_JSON_MAX_DEPTH 64

/* --- writing --- */
void bfio_json_put_string(bfio_sb *sb, const char *s);
/* A number with up to `digits` significant digits (%.*g), or null if not finite. */
void bfio_json_put_number(bfio_sb *sb, double v, int digits);

/* --- reading --- */
typedef enum bfio_json_type {
    BFIO_JSON_NULL,
    BFIO_JSON_FALSE,
    BFIO_JSON_TRUE,
    BFIO_JSON_NUMBER,
    BFIO_JSON_STRING,
    BFIO_JSON_ARRAY,
    BFIO_JSON_OBJECT
} bfio_json_type;

typedef struct bfio_json bfio_json;
struct bfio_json {
    bfio_json_type type;
    double number;    /* NUMBER */
    char *string;     /* STRING: NUL-terminated UTF-8 (may contain NUL via \u0000; see len) */
    size_t len;       /* STRING: bytes; ARRAY/OBJECT: number of items */
    bfio_json *items; /* ARRAY/OBJECT: the values */
    char **keys;      /* OBJECT: the keys, parallel to items */
    size_t offset;    /* where the value starts in the text, for error messages */
};

/* Parses text[0..len). Returns NULL on failure (err says where and why). */
bfio_json *bfio_json_parse(const char *text, size_t len, bfio_err *err);
void bfio_json_free(bfio_json *root);

/* The value of key in an object (the last one if repeated), or NULL. */
const bfio_json *bfio_json_get(const bfio_json *object, const char *key);

/* "line L, column C" of a byte offset, for messages about a parsed value. */
void bfio_json_position(const char *text, size_t len, size_t offset, int *line, int *column);

const char *bfio_json_type_name(bfio_json_type type);

#endif /* BFIO_JSON_H */
