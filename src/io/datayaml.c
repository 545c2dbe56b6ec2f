/* datayaml.c - see datayaml.h. A line-based reader of the subset, not a YAML parser. */
#include "datayaml.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "files.h"

static char *dupn(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = 0;
    }
    return p;
}

/* Trims spaces and a trailing comment (a '#' at the start or after a space, outside quotes). */
static void strip(const char **b, const char **e)
{
    const char *s = *b, *t = *e;
    char q = 0;
    for (const char *p = s; p < t; p++) {
        if (q) {
            if (*p == q)
                q = 0;
        } else if (*p == '"' || *p == '\'') {
            if (p == s || p[-1] == ' ' || p[-1] == '\t' || p[-1] == '[' || p[-1] == '{' || p[-1] == ',' ||
                p[-1] == ':')
                q = *p;
        } else if (*p == '#' && (p == s || p[-1] == ' ' || p[-1] == '\t')) {
            t = p;
            break;
        }
    }
    while (s < t && (*s == ' ' || *s == '\t'))
        s++;
    while (t > s && (t[-1] == ' ' || t[-1] == '\t' || t[-1] == '\r'))
        t--;
    *b = s;
    *e = t;
}

/* A scalar: quotes removed ('' and \" \\ unescaped); NULL on a bad quote or no memory. */
static char *scalar(const char *b, const char *e, int *bad)
{
    *bad = 0;
    if (e > b && (*b == '"' || *b == '\'')) {
        char q = *b;
        if (e - b < 2 || e[-1] != q) {
            *bad = 1;
            return NULL;
        }
        char *o = malloc((size_t)(e - b));
        if (!o)
            return NULL;
        size_t n = 0;
        for (const char *p = b + 1; p < e - 1; p++) {
            if (q == '\'' && *p == '\'' && p + 1 < e - 1 && p[1] == '\'')
                p++;
            else if (q == '"' && *p == '\\' && p + 1 < e - 1)
                p++;
            o[n++] = *p;
        }
        o[n] = 0;
        return o;
    }
    return dupn(b, (size_t)(e - b));
}

static int valid_name(const char *s)
{
    if (!*s)
        return 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return 0;
    return 1;
}

typedef struct names_acc {
    char *v[BFIO_DATA_MAX_NAMES];
    int n;      /* highest id + 1 */
    int count;  /* entries */
} names_acc;

static int put_name(names_acc *a, long id, char *name, const char *path, int line, bfio_err *err)
{
    if (!name)
        return bfio_fail(err, "%s: line %d: out of memory", path, line);
    if (id < 0 || id >= BFIO_DATA_MAX_NAMES) {
        free(name);
        return bfio_fail(err, "%s: line %d: class id %ld outside 0..%d", path, line, id, BFIO_DATA_MAX_NAMES - 1);
    }
    if (!valid_name(name)) {
        free(name);
        return bfio_fail(err, "%s: line %d: empty or unprintable class name", path, line);
    }
    if (a->v[id]) {
        free(name);
        return bfio_fail(err, "%s: line %d: class id %ld given twice", path, line, id);
    }
    a->v[id] = name;
    a->count++;
    if (id + 1 > a->n)
        a->n = (int)id + 1;
    return 0;
}

/* "ID: NAME" (dict entry) or "NAME" (list entry, id = a->count). */
static int entry(names_acc *a, const char *b, const char *e, int dict, const char *path, int line, bfio_err *err)
{
    strip(&b, &e);
    long id = a->count;
    if (dict) {
        const char *c = memchr(b, ':', (size_t)(e - b));
        if (!c)
            return bfio_fail(err, "%s: line %d: expected 'id: name'", path, line);
        char *endp;
        char num[24];
        size_t k = (size_t)(c - b);
        while (k && (b[k - 1] == ' ' || b[k - 1] == '\t'))
            k--;
        if (k == 0 || k >= sizeof num)
            return bfio_fail(err, "%s: line %d: bad class id", path, line);
        memcpy(num, b, k);
        num[k] = 0;
        errno = 0;
        id = strtol(num, &endp, 10);
        if (*endp || errno)
            return bfio_fail(err, "%s: line %d: bad class id '%s'", path, line, num);
        b = c + 1;
        strip(&b, &e);
    }
    int bad;
    char *s = scalar(b, e, &bad);
    if (bad)
        return bfio_fail(err, "%s: line %d: unterminated quote", path, line);
    return put_name(a, id, s, path, line, err);
}

/* A flow collection [a, b] or {0: a, 1: b} on one line. */
static int flow(names_acc *a, const char *b, const char *e, const char *path, int line, bfio_err *err)
{
    int dict = *b == '{';
    char close = dict ? '}' : ']';
    if (e - b < 2 || e[-1] != close)
        return bfio_fail(err, "%s: line %d: unterminated %s (flow collections must fit on one line)", path, line,
                         dict ? "{...}" : "[...]");
    b++;
    e--;
    const char *p = b;
    while (p <= e) {
        const char *q = p;
        char quote = 0;
        while (q < e && (quote || *q != ',')) {
            if (quote && *q == quote)
                quote = 0;
            else if (!quote && (*q == '"' || *q == '\''))
                quote = *q;
            q++;
        }
        const char *s = p, *t = q;
        strip(&s, &t);
        if (s < t) {
            if (entry(a, s, t, dict, path, line, err) != 0)
                return -1;
        } else if (q < e) {
            return bfio_fail(err, "%s: line %d: empty entry", path, line);
        }
        p = q + 1;
    }
    return 0;
}

void bfio_data_yaml_free(bfio_data_yaml *d)
{
    if (!d)
        return;
    free(d->root);
    free(d->train);
    free(d->val);
    for (int i = 0; i < d->n_names; i++)
        free(d->names[i]);
    free(d->names);
    memset(d, 0, sizeof *d);
}

static char *dir_of(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? dupn(path, (size_t)(s - path)) : dupn(".", 1);
}

/* What the line-by-line parse has seen so far. */
typedef struct yaml_state {
    const char *path; /* for messages */
    int line;
    names_acc *a;
    char *root;      /* path: as written */
    long nc;         /* nc:, -1 when absent */
    int in_names;    /* the lines below a bare "names:" */
    int names_dict;  /* those are a dict (1) or a list (0); -1 none yet */
    int seen_names;
    bfio_data_yaml *out;
} yaml_state;

/* An indented line below "names:": "- NAME" or "ID: NAME", not mixed. */
static int names_line(yaml_state *st, const char *b, const char *e, bfio_err *err)
{
    int dict = *b != '-';
    if (st->names_dict == !dict)
        return bfio_fail(err, "%s: line %d: %s entry in a names %s", st->path, st->line,
                         dict ? "dict" : "list", dict ? "list" : "dict");
    st->names_dict = dict;
    return entry(st->a, dict ? b : b + 1, e, dict, st->path, st->line, err);
}

static int parse_nc(yaml_state *st, const char *vb, const char *ve, bfio_err *err)
{
    char num[24];
    size_t k = (size_t)(ve - vb);
    char *endp;
    if (k == 0 || k >= sizeof num)
        return bfio_fail(err, "%s: line %d: bad nc", st->path, st->line);
    memcpy(num, vb, k);
    num[k] = 0;
    errno = 0;
    st->nc = strtol(num, &endp, 10);
    if (*endp || errno || st->nc < 1 || st->nc > BFIO_DATA_MAX_NAMES)
        return bfio_fail(err, "%s: line %d: nc '%s' not in 1..%d", st->path, st->line, num,
                         BFIO_DATA_MAX_NAMES);
    return 0;
}

/* path:, train: or val: (dst where its value goes). */
static int folder_key(yaml_state *st, char **dst, int is_val, const char *kb, size_t kl,
                      const char *vb, const char *ve, bfio_err *err)
{
    if (*dst)
        return bfio_fail(err, "%s: line %d: %.*s given twice", st->path, st->line, (int)kl, kb);
    if (vb == ve || *vb == '[') { /* empty, or a list of folders: only train may be one */
        if (is_val && vb != ve)
            return bfio_fail(err, "%s: line %d: val as a list is not supported", st->path, st->line);
        return 0;
    }
    int bad = 0;
    *dst = scalar(vb, ve, &bad);
    if (bad || !*dst)
        return bfio_fail(err, "%s: line %d: %s", st->path, st->line,
                         bad ? "unterminated quote" : "out of memory");
    return 0;
}

/* A top-level "key: value" line; keys other than these are skipped. */
static int top_key(yaml_state *st, const char *b, const char *e, bfio_err *err)
{
    const char *c = memchr(b, ':', (size_t)(e - b));
    if (!c)
        return bfio_fail(err, "%s: line %d: expected 'key: value'", st->path, st->line);
    const char *kb = b, *ke = c, *vb = c + 1, *ve = e;
    strip(&kb, &ke);
    strip(&vb, &ve);
    size_t kl = (size_t)(ke - kb);
#define KEY(s) (kl == sizeof(s) - 1 && !memcmp(kb, s, kl))
    if (KEY("names")) {
        if (st->seen_names++)
            return bfio_fail(err, "%s: line %d: names given twice", st->path, st->line);
        if (vb == ve)
            st->in_names = 1;
        else if (*vb == '[' || *vb == '{')
            return flow(st->a, vb, ve, st->path, st->line, err);
        else
            return bfio_fail(err, "%s: line %d: names must be a list or a dict", st->path, st->line);
        return 0;
    }
    if (KEY("path") || KEY("train") || KEY("val"))
        return folder_key(st, KEY("path") ? &st->root : KEY("train") ? &st->out->train : &st->out->val,
                          KEY("val"), kb, kl, vb, ve, err);
    if (KEY("nc"))
        return parse_nc(st, vb, ve, err);
#undef KEY
    return 0;
}

/* One line of the file. */
static int parse_line(yaml_state *st, const char *b, const char *e, bfio_err *err)
{
    int indent = 0;
    while (b + indent < e && b[indent] == ' ')
        indent++;
    if (b + indent < e && b[indent] == '\t')
        return bfio_fail(err, "%s: line %d: tab indentation", st->path, st->line);
    strip(&b, &e);
    if (b == e || (e - b == 3 && !memcmp(b, "---", 3)))
        return 0;
    if (indent > 0) /* in names, or nested under a key we skip */
        return st->in_names ? names_line(st, b, e, err) : 0;
    st->in_names = 0;
    if (*b == '-') /* a top-level list item: part of a key we skip (train: as a list) */
        return 0;
    return top_key(st, b, e, err);
}

/* After the last line: the names complete and consistent with nc, and the
 * root resolved (path: relative to the yaml's folder; absent = that folder). */
static int finish(yaml_state *st, bfio_err *err)
{
    names_acc *a = st->a;
    bfio_data_yaml *out = st->out;
    if (!st->seen_names || a->count == 0)
        return bfio_fail(err, "%s: no names", st->path);
    if (a->count != a->n)
        return bfio_fail(err, "%s: names: ids must be 0..%d, each once", st->path, a->n - 1);
    if (st->nc >= 0 && st->nc != a->n)
        return bfio_fail(err, "%s: nc %ld but %d names", st->path, st->nc, a->n);
    char *dir = dir_of(st->path);
    if (!dir)
        return bfio_fail(err, "%s: out of memory", st->path);
    if (st->root && st->root[0] == '/') {
        out->root = st->root;
        st->root = NULL;
        free(dir);
    } else if (st->root) {
        out->root = bfio_path_join(dir, st->root);
        free(dir);
    } else {
        out->root = dir;
    }
    if (!out->root || !(out->names = calloc((size_t)a->n, sizeof *out->names)))
        return bfio_fail(err, "%s: out of memory", st->path);
    out->n_names = a->n;
    for (int i = 0; i < a->n; i++) {
        out->names[i] = a->v[i];
        a->v[i] = NULL;
    }
    return 0;
}

int bfio_data_yaml_parse(const char *text, size_t len, const char *path, bfio_data_yaml *out, bfio_err *err)
{
    memset(out, 0, sizeof *out);
    yaml_state st = {path, 0, calloc(1, sizeof(names_acc)), NULL, -1, 0, -1, 0, out};
    if (!st.a)
        return bfio_fail(err, "%s: out of memory", path);
    int rc = 0;
    if (memchr(text, 0, len))
        rc = bfio_fail(err, "%s: not a text file (NUL byte)", path);
    const char *p = text, *end = text + len;
    while (rc == 0 && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        st.line++;
        rc = parse_line(&st, p, le, err);
        p = nl ? nl + 1 : end;
    }
    if (rc == 0)
        rc = finish(&st, err);
    for (int i = 0; i < BFIO_DATA_MAX_NAMES; i++)
        free(st.a->v[i]);
    free(st.a);
    free(st.root);
    if (rc != 0)
        bfio_data_yaml_free(out);
    return rc;
}

int bfio_data_yaml_read(const char *yaml_path, bfio_data_yaml *out, bfio_err *err)
{
    uint8_t *data = NULL;
    size_t size = 0;
    memset(out, 0, sizeof *out);
    if (bfio_read_file(yaml_path, (size_t)1 << 20, &data, &size, err) != 0)
        return -1;
    int rc = bfio_data_yaml_parse((const char *)data, size, yaml_path, out, err);
    free(data);
    return rc;
}

int bfio_data_yaml_val_dirs(const bfio_data_yaml *d, char **images, char **labels, bfio_err *err)
{
    *images = *labels = NULL;
    if (!d->val)
        return bfio_fail(err, "no val: split in the data yaml");
    char *im = d->val[0] == '/' ? dupn(d->val, strlen(d->val)) : bfio_path_join(d->root, d->val);
    if (!im)
        return bfio_fail(err, "out of memory");
    size_t n = strlen(im);
    while (n > 1 && im[n - 1] == '/')
        im[--n] = 0;
    /* the last "images" component -> "labels" (Ultralytics img2label_paths) */
    char *hit = NULL;
    for (char *s = strstr(im, "images"); s; s = strstr(s + 1, "images"))
        if ((s == im || s[-1] == '/') && (s[6] == '/' || s[6] == 0))
            hit = s;
    if (!hit) {
        free(im);
        return bfio_fail(err, "val: %s has no 'images' folder to put 'labels' beside", d->val);
    }
    char *lb = dupn(im, n);
    if (!lb) {
        free(im);
        return bfio_fail(err, "out of memory");
    }
    memcpy(lb + (hit - im), "labels", 6);
    *images = im;
    *labels = lb;
    return 0;
}
