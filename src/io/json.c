/* json.c - see json.h. */
#include "json.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- writing */

/* Length of a valid UTF-8 sequence at s (1..4), or 0 if invalid. Overlong
 * forms, surrogates and code points above U+10FFFF are invalid (RFC 3629). */
static int utf8_len(const unsigned char *s)
{
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        return (s[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        unsigned lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
        return s[1] >= lo && s[1] <= hi && (s[2] & 0xC0) == 0x80 ? 3 : 0;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        unsigned lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
        return s[1] >= lo && s[1] <= hi && (s[2] & 0xC0) == 0x80 && (s[3] & 0xC0) == 0x80 ? 4 : 0;
    }
    return 0;
}

void bfio_json_put_string(bfio_sb *sb, const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    bfio_sb_putc(sb, '"');
    while (*s) {
        unsigned c = *s;
        if (c == '"' || c == '\\') {
            bfio_sb_putc(sb, '\\');
            bfio_sb_putc(sb, (char)c);
            s++;
        } else if (c < 0x20) {
            switch (c) {
            case '\n': bfio_sb_puts(sb, "\\n"); break;
            case '\r': bfio_sb_puts(sb, "\\r"); break;
            case '\t': bfio_sb_puts(sb, "\\t"); break;
            case '\b': bfio_sb_puts(sb, "\\b"); break;
            case '\f': bfio_sb_puts(sb, "\\f"); break;
            default: bfio_sb_printf(sb, "\\u%04x", c); break;
            }
            s++;
        } else {
            /* utf8_len stops at the NUL terminator: a NUL is never a continuation byte. */
            int n = utf8_len(s);
            if (n == 0) {
                /* Not UTF-8: the byte as a lone low surrogate, U+DC80..U+DCFF
                 * (PEP 383 surrogateescape). Valid UTF-8 never yields one, so
                 * the escape is undone exactly: by our reader, and by Python's
                 * json.load + os.fsencode (open() takes the string as it is). */
                bfio_sb_printf(sb, "\\u%04x", 0xDC00u + c);
                s++;
            } else {
                bfio_sb_append(sb, (const char *)s, (size_t)n);
                s += n;
            }
        }
    }
    bfio_sb_putc(sb, '"');
}

void bfio_json_put_number(bfio_sb *sb, double v, int digits)
{
    if (!isfinite(v)) {
        bfio_sb_puts(sb, "null");
        return;
    }
    if (v == 0)
        v = 0; /* no "-0" */
    /* %g never produces a form JSON rejects for finite values in the C locale
     * ("1e-05", "0.5", "12"), and the program never calls setlocale. */
    bfio_sb_printf(sb, "%.*g", digits, v);
}

/* ---------------------------------------------------------------- reading */

typedef struct parser {
    const char *s;
    size_t n;
    size_t i;
    int depth;
    bfio_err *err;
    int failed;
} parser;

void bfio_json_position(const char *text, size_t len, size_t offset, int *line, int *column)
{
    int l = 1, c = 1;
    for (size_t i = 0; i < offset && i < len; i++) {
        if (text[i] == '\n') {
            l++;
            c = 1;
        } else {
            c++;
        }
    }
    *line = l;
    *column = c;
}

static void fail_at(parser *p, size_t at, const char *what)
{
    if (p->failed)
        return;
    p->failed = 1;
    int line, col;
    bfio_json_position(p->s, p->n, at, &line, &col);
    bfio_fail(p->err, "JSON error at line %d, column %d: %s", line, col, what);
}

static void skip_ws(parser *p)
{
    while (p->i < p->n) {
        char c = p->s[p->i];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        p->i++;
    }
}

static int parse_value(parser *p, bfio_json *out);

static void free_value(bfio_json *v)
{
    if (v->type == BFIO_JSON_STRING) {
        free(v->string);
    } else if (v->type == BFIO_JSON_ARRAY || v->type == BFIO_JSON_OBJECT) {
        for (size_t i = 0; i < v->len; i++) {
            free_value(&v->items[i]);
            if (v->keys)
                free(v->keys[i]);
        }
        free(v->items);
        free(v->keys);
    }
    v->type = BFIO_JSON_NULL;
}

static int hex4(parser *p, unsigned *out)
{
    if (p->n - p->i < 4) {
        fail_at(p, p->i, "truncated \\u escape");
        return -1;
    }
    unsigned v = 0;
    for (int k = 0; k < 4; k++) {
        char c = p->s[p->i + (size_t)k];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else {
            fail_at(p, p->i + (size_t)k, "bad hex digit in \\u escape");
            return -1;
        }
    }
    p->i += 4;
    *out = v;
    return 0;
}

static void put_utf8(bfio_sb *sb, unsigned cp)
{
    char b[4];
    if (cp < 0x80) {
        b[0] = (char)cp;
        bfio_sb_append(sb, b, 1);
    } else if (cp < 0x800) {
        b[0] = (char)(0xC0 | cp >> 6);
        b[1] = (char)(0x80 | (cp & 0x3F));
        bfio_sb_append(sb, b, 2);
    } else if (cp < 0x10000) {
        b[0] = (char)(0xE0 | cp >> 12);
        b[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        b[2] = (char)(0x80 | (cp & 0x3F));
        bfio_sb_append(sb, b, 3);
    } else {
        b[0] = (char)(0xF0 | cp >> 18);
        b[1] = (char)(0x80 | (cp >> 12 & 0x3F));
        b[2] = (char)(0x80 | (cp >> 6 & 0x3F));
        b[3] = (char)(0x80 | (cp & 0x3F));
        bfio_sb_append(sb, b, 4);
    }
}

/* Parses a string starting at the opening quote into a malloc'ed buffer. */
static int parse_string(parser *p, char **out, size_t *out_len)
{
    size_t start = p->i;
    p->i++; /* the opening quote */
    bfio_sb sb;
    bfio_sb_init(&sb);
    bfio_sb_append(&sb, "", 0); /* an empty string still gets a buffer */
    for (;;) {
        if (p->i >= p->n) {
            fail_at(p, start, "unterminated string");
            break;
        }
        unsigned char c = (unsigned char)p->s[p->i];
        if (c == '"') {
            p->i++;
            if (sb.failed) {
                fail_at(p, start, "out of memory");
                break;
            }
            *out = sb.data;
            *out_len = sb.len;
            return 0;
        }
        if (c < 0x20) {
            fail_at(p, p->i, "control character in string");
            break;
        }
        if (c != '\\') {
            /* Raw bytes must be valid UTF-8; check with the bytes that remain. */
            unsigned char tmp[4] = {0, 0, 0, 0};
            size_t left = p->n - p->i;
            memcpy(tmp, p->s + p->i, left < 4 ? left : 4);
            int len = utf8_len(tmp);
            if (len == 0) {
                fail_at(p, p->i, "invalid UTF-8 in string");
                break;
            }
            bfio_sb_append(&sb, p->s + p->i, (size_t)len);
            p->i += (size_t)len;
            continue;
        }
        p->i++;
        if (p->i >= p->n) {
            fail_at(p, start, "unterminated string");
            break;
        }
        char e = p->s[p->i++];
        unsigned cp;
        switch (e) {
        case '"': bfio_sb_putc(&sb, '"'); continue;
        case '\\': bfio_sb_putc(&sb, '\\'); continue;
        case '/': bfio_sb_putc(&sb, '/'); continue;
        case 'b': bfio_sb_putc(&sb, '\b'); continue;
        case 'f': bfio_sb_putc(&sb, '\f'); continue;
        case 'n': bfio_sb_putc(&sb, '\n'); continue;
        case 'r': bfio_sb_putc(&sb, '\r'); continue;
        case 't': bfio_sb_putc(&sb, '\t'); continue;
        case 'u':
            if (hex4(p, &cp) != 0)
                break;
            if (cp >= 0xD800 && cp <= 0xDBFF) { /* high surrogate: a low one must follow */
                unsigned lo;
                if (p->n - p->i < 2 || p->s[p->i] != '\\' || p->s[p->i + 1] != 'u') {
                    fail_at(p, p->i, "unpaired surrogate in \\u escape");
                    break;
                }
                p->i += 2;
                if (hex4(p, &lo) != 0)
                    break;
                if (lo < 0xDC00 || lo > 0xDFFF) {
                    fail_at(p, p->i - 6, "unpaired surrogate in \\u escape");
                    break;
                }
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else if (cp >= 0xDC80 && cp <= 0xDCFF) {
                /* A lone U+DC80..U+DCFF is a byte that was not UTF-8 (the
                 * writer's surrogateescape): that byte again. */
                bfio_sb_putc(&sb, (char)(cp - 0xDC00));
                continue;
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                fail_at(p, p->i - 6, "unpaired surrogate in \\u escape");
                break;
            }
            put_utf8(&sb, cp);
            continue;
        default:
            fail_at(p, p->i - 2, "bad escape in string");
            break;
        }
        break; /* an error in the switch */
    }
    bfio_sb_free(&sb);
    return -1;
}

/* The end of the run of decimal digits at i (i itself when there is none). */
static size_t skip_digits(const parser *p, size_t i)
{
    while (i < p->n && p->s[i] >= '0' && p->s[i] <= '9')
        i++;
    return i;
}

static int parse_number(parser *p, bfio_json *out)
{
    /* Check the JSON grammar first: strtod alone accepts hex, inf, nan, "+1", ".5". */
    size_t i = p->i, start = p->i;
    if (i < p->n && p->s[i] == '-')
        i++;
    if (i < p->n && p->s[i] == '0') {
        i++;
    } else if (i < p->n && p->s[i] >= '1' && p->s[i] <= '9') {
        i = skip_digits(p, i);
    } else {
        fail_at(p, start, "invalid number");
        return -1;
    }
    if (i < p->n && p->s[i] == '.') {
        const size_t first = i + 1; /* a fraction needs a digit */
        if ((i = skip_digits(p, first)) == first) {
            fail_at(p, start, "invalid number");
            return -1;
        }
    }
    if (i < p->n && (p->s[i] == 'e' || p->s[i] == 'E')) {
        i++;
        if (i < p->n && (p->s[i] == '+' || p->s[i] == '-'))
            i++;
        const size_t first = i; /* so does an exponent */
        if ((i = skip_digits(p, first)) == first) {
            fail_at(p, start, "invalid number");
            return -1;
        }
    }
    /* Copy the token: the text need not be NUL-terminated after it. */
    char buf[64];
    size_t len = i - start;
    if (len >= sizeof buf) {
        fail_at(p, start, "number too long");
        return -1;
    }
    memcpy(buf, p->s + start, len);
    buf[len] = '\0';
    double v = strtod(buf, NULL);
    if (!isfinite(v)) {
        fail_at(p, start, "number out of range");
        return -1;
    }
    out->type = BFIO_JSON_NUMBER;
    out->number = v;
    p->i = i;
    return 0;
}

static int literal(parser *p, const char *word, bfio_json_type type, bfio_json *out)
{
    size_t len = strlen(word);
    if (p->n - p->i < len || memcmp(p->s + p->i, word, len) != 0) {
        fail_at(p, p->i, "unexpected character");
        return -1;
    }
    p->i += len;
    out->type = type;
    return 0;
}

/* Arrays and objects: items grow by doubling; keys only for objects. */
static int parse_container(parser *p, bfio_json *out, int object)
{
    char close = object ? '}' : ']';
    size_t start = p->i;
    if (++p->depth > BFIO_JSON_MAX_DEPTH) {
        _Static_assert(BFIO_JSON_MAX_DEPTH == 64, "the message below says 64");
        fail_at(p, start, "nesting too deep (more than 64 arrays and objects inside each other)");
        return -1;
    }
    p->i++;
    out->type = object ? BFIO_JSON_OBJECT : BFIO_JSON_ARRAY;
    out->items = NULL;
    out->keys = NULL;
    out->len = 0;
    size_t cap = 0;
    skip_ws(p);
    if (p->i < p->n && p->s[p->i] == close) {
        p->i++;
        p->depth--;
        return 0;
    }
    for (;;) {
        if (out->len == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            /* checked: ncap * sizeof must not wrap (bfio_json is the larger element) */
            bfio_json *items = ncap <= SIZE_MAX / sizeof *items
                                   ? realloc(out->items, ncap * sizeof *items) : NULL;
            if (items)
                out->items = items;
            char **keys = NULL;
            if (items && object) {
                keys = realloc(out->keys, ncap * sizeof *keys);
                if (keys)
                    out->keys = keys;
            }
            if (!items || (object && !keys)) {
                fail_at(p, p->i, "out of memory");
                goto fail;
            }
            cap = ncap;
        }
        skip_ws(p);
        char *key = NULL;
        if (object) {
            size_t klen;
            if (p->i >= p->n || p->s[p->i] != '"') {
                fail_at(p, p->i, "expected a string key");
                goto fail;
            }
            if (parse_string(p, &key, &klen) != 0)
                goto fail;
            skip_ws(p);
            if (p->i >= p->n || p->s[p->i] != ':') {
                free(key);
                fail_at(p, p->i, "expected ':' after key");
                goto fail;
            }
            p->i++;
        }
        bfio_json *v = &out->items[out->len];
        memset(v, 0, sizeof *v);
        if (parse_value(p, v) != 0) {
            free(key);
            goto fail;
        }
        if (object)
            out->keys[out->len] = key;
        out->len++;
        skip_ws(p);
        if (p->i < p->n && p->s[p->i] == ',') {
            p->i++;
            continue;
        }
        if (p->i < p->n && p->s[p->i] == close) {
            p->i++;
            p->depth--;
            return 0;
        }
        fail_at(p, p->i, object ? "expected ',' or '}'" : "expected ',' or ']'");
        goto fail;
    }
fail:
    free_value(out);
    return -1;
}

static int parse_value(parser *p, bfio_json *out)
{
    skip_ws(p);
    out->offset = p->i;
    if (p->i >= p->n) {
        fail_at(p, p->i, "unexpected end of input");
        return -1;
    }
    char c = p->s[p->i];
    switch (c) {
    case '{': return parse_container(p, out, 1);
    case '[': return parse_container(p, out, 0);
    case '"':
        if (parse_string(p, &out->string, &out->len) != 0)
            return -1;
        out->type = BFIO_JSON_STRING;
        return 0;
    case 't': return literal(p, "true", BFIO_JSON_TRUE, out);
    case 'f': return literal(p, "false", BFIO_JSON_FALSE, out);
    case 'n': return literal(p, "null", BFIO_JSON_NULL, out);
    default:
        if (c == '-' || (c >= '0' && c <= '9'))
            return parse_number(p, out);
        fail_at(p, p->i, "unexpected character");
        return -1;
    }
}

bfio_json *bfio_json_parse(const char *text, size_t len, bfio_err *err)
{
    bfio_json *root = calloc(1, sizeof *root);
    if (!root) {
        bfio_fail(err, "out of memory");
        return NULL;
    }
    parser p = {.s = text, .n = len, .err = err};
    /* A UTF-8 byte order mark is tolerated (some Windows tools write one). */
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        p.i = 3;
    if (parse_value(&p, root) != 0) {
        free(root);
        return NULL;
    }
    skip_ws(&p);
    if (p.i != p.n) {
        fail_at(&p, p.i, "unexpected data after the JSON value");
        bfio_json_free(root);
        return NULL;
    }
    return root;
}

void bfio_json_free(bfio_json *root)
{
    if (!root)
        return;
    free_value(root);
    free(root);
}

const bfio_json *bfio_json_get(const bfio_json *object, const char *key)
{
    if (!object || object->type != BFIO_JSON_OBJECT)
        return NULL;
    for (size_t i = object->len; i-- > 0;)
        if (strcmp(object->keys[i], key) == 0)
            return &object->items[i];
    return NULL;
}

const char *bfio_json_type_name(bfio_json_type type)
{
    switch (type) {
    case BFIO_JSON_NULL: return "null";
    case BFIO_JSON_FALSE:
    case BFIO_JSON_TRUE: return "a boolean";
    case BFIO_JSON_NUMBER: return "a number";
    case BFIO_JSON_STRING: return "a string";
    case BFIO_JSON_ARRAY: return "an array";
    case BFIO_JSON_OBJECT: return "an object";
    }
    return "?";
}
