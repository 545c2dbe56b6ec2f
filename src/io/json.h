/*
 * json.h - just enough JSON for detections files and summaries.
 *
 * Writing: values are appended to a bfio_sb. Strings are escaped per RFC 8259
 * (quote, backslash, control characters). A byte that is not part of valid
 * UTF-8 (a Linux file name can hold any bytes) is written as the escape
 * \udcXX, XX the byte (80..ff): Python's surrogateescape (PEP 383), the form
 * os.fsdecode gives such a name and json.dumps writes. Valid UTF-8 never
 * produces a lone U+DC80..U+DCFF, so the escape is exact both ways: the
 * output is ASCII-safe JSON that Python's json.load reads back to a str that
 * open() and os.fsencode take as the original bytes (U+FFFD, before, lost
 * them). Parsers that refuse lone surrogates (Rust's serde_json) see only
 * these names as errors; jq shows them as U+FFFD. Non-finite numbers are
 * written as null, since JSON has no NaN or Infinity.
 *
 * Reading: bfio_json_parse builds a small tree from a complete document. It
 * distrusts its input: nesting is capped at BFIO_JSON_MAX_DEPTH (64) arrays
 * and objects, strings must be valid (escapes, surrogate pairs, no raw control
 * characters; a lone \udc80..\udcff is the byte it escapes, other lone
 * surrogates are errors), numbers follow the JSON grammar, and trailing
 * garbage is an error. A UTF-8 byte order mark is skipped. Errors name the
 * line and column.
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
