/*
 * test_files.c - atomic writes, the directory walk (order, hidden files,
 * symlink cycles, broken links), path helpers, the JSON writer and reader,
 * the detections file, and YOLO label files.
 */
#include "tmpdir.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <sys/stat.h>

#include "check.h"
#include "detfile.h"
#include "files.h"
#include "json.h"
#include "labels.h"

/* Counts entries of dir whose name contains ".tmp-" (leftover temporaries). */
static int count_temps(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    if (!d)
        return -1;
    struct dirent *e;
    while ((e = readdir(d)))
        n += strstr(e->d_name, ".tmp-") != NULL;
    closedir(d);
    return n;
}

static char *slurp(const char *path)
{
    uint8_t *data;
    size_t n;
    bfio_err err;
    return bfio_read_file(path, 1 << 20, &data, &n, &err) == 0 ? (char *)data : NULL;
}

static void test_atomic_write(void)
{
    char path[512], dir[512];
    bfio_err err;
    CHECK(bfio_mkdirs(tmp_file(dir, sizeof dir, "out/a/b"), &err) == 0);
    CHECK(bfio_mkdirs(dir, &err) == 0); /* exists already: fine */
    tmp_file(path, sizeof path, "out/a/b/file.txt");
    CHECK(bfio_write_file_atomic(path, "first", 5, &err) == 0);
    CHECK(bfio_write_file_atomic(path, "second", 6, &err) == 0); /* replaces */
    char *s = slurp(path);
    CHECK(s && strcmp(s, "second") == 0);
    free(s);
    struct stat st;
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0644);
    CHECK(count_temps(dir) == 0);

    /* Failures: a missing folder, and a destination that is a folder (refused
     * before anything is written): an error, and no temporary left. */
    CHECK(bfio_write_file_atomic(tmp_file(path, sizeof path, "nope/x.txt"), "x", 1, &err) == -1);
    CHECK(strchr(err.msg, '\n') == NULL && err.msg[0]);
    CHECK(bfio_write_file_atomic(dir, "x", 1, &err) == -1);
    CHECK(strstr(err.msg, "is a folder") != NULL);
    CHECK(count_temps(tmp_file(path, sizeof path, "out/a")) == 0);

    /* mkdirs through a file fails with a reason. */
    CHECK(bfio_mkdirs(tmp_file(path, sizeof path, "out/a/b/file.txt/sub"), &err) == -1);
    CHECK(bfio_mkdirs_for_file(tmp_file(path, sizeof path, "out/c/d/e.jpg"), &err) == 0);
    CHECK(stat(tmp_file(path, sizeof path, "out/c/d"), &st) == 0 && S_ISDIR(st.st_mode));

    /* read_file: the size limit applies before reading. */
    uint8_t *data;
    size_t n;
    tmp_file(path, sizeof path, "out/a/b/file.txt");
    CHECK(bfio_read_file(path, 3, &data, &n, &err) == -1 && strstr(err.msg, "limit"));
    CHECK(bfio_read_file(path, 6, &data, &n, &err) == 0 && n == 6 && data[6] == 0);
    free(data);
}

static void touch(const char *rel)
{
    char path[512];
    CHECK(write_bytes(tmp_file(path, sizeof path, rel), "x", 1) == 0);
}

typedef struct errors {
    int n;
    char paths[8][512];
} errors;

static void on_error(void *ctx, const char *path, const char *cause)
{
    errors *e = ctx;
    if (e->n < 8)
        snprintf(e->paths[e->n], sizeof e->paths[0], "%s: %s", path, cause);
    e->n++;
}

static void test_walk(void)
{
    char p1[512], p2[1100];
    CHECK(mkdir(tmp_file(p1, sizeof p1, "w"), 0755) == 0);
    CHECK(mkdir(tmp_file(p1, sizeof p1, "w/sub"), 0755) == 0);
    CHECK(mkdir(tmp_file(p1, sizeof p1, "w/sub/deeper"), 0755) == 0);
    CHECK(mkdir(tmp_file(p1, sizeof p1, "w/.hiddendir"), 0755) == 0);
    touch("w/b.jpg");
    touch("w/a.png");
    touch("w/B.JPEG");
    touch("w/notes.txt");
    touch("w/.hidden.jpg");
    touch("w/.hiddendir/x.jpg");
    touch("w/sub/c.JPG");
    touch("w/sub/deeper/d.bmp");
    touch("w/sub/deeper/e.jpeg");
    /* links: back to the root (a cycle), to its own parent folder (a cycle),
     * a broken one, one to a file (followed), one to a sibling folder (followed) */
    CHECK(symlink("..", tmp_file(p1, sizeof p1, "w/sub/up")) == 0);
    CHECK(symlink(".", tmp_file(p1, sizeof p1, "w/sub/deeper/self")) == 0);
    CHECK(symlink("missing.jpg", tmp_file(p1, sizeof p1, "w/broken.jpg")) == 0);
    CHECK(symlink("sub/c.JPG", tmp_file(p1, sizeof p1, "w/filelink.jpg")) == 0);
    CHECK(symlink("sub/deeper", tmp_file(p1, sizeof p1, "w/zlink")) == 0);

    bfio_walk_list list = {0};
    errors e = {0};
    bfio_err err;
    tmp_file(p1, sizeof p1, "w");
    int rc = bfio_walk_images(p1, &list, on_error, &e, &err);
    CHECK(rc == 1 && e.n == 1);
    CHECK(strstr(e.paths[0], "w/broken.jpg: broken symbolic link") != NULL);
    /* Sorted by byte value per folder, depth first: "B.JPEG" < "a.png" < ... */
    const char *want[] = {"B.JPEG", "a.png", "b.jpg", "filelink.jpg", "sub/c.JPG",
                          "sub/deeper/d.bmp", "sub/deeper/e.jpeg", "zlink/d.bmp", "zlink/e.jpeg"};
    size_t nw = sizeof want / sizeof want[0];
    CHECK(list.count == nw);
    for (size_t i = 0; i < list.count && i < nw; i++) {
        const char *rel = list.items[i].path + list.items[i].rel;
        if (strcmp(rel, want[i]) != 0) {
            fprintf(stderr, "  walk[%zu] = %s, expected %s\n", i, rel, want[i]);
            CHECK(!"walk order");
        }
        snprintf(p2, sizeof p2, "%s/%s", p1, want[i]);
        CHECK(strcmp(list.items[i].path, p2) == 0);
    }
    bfio_walk_list_free(&list);

    /* A root with a trailing slash gives the same relative paths. */
    snprintf(p2, sizeof p2, "%s/", p1);
    e.n = 0;
    CHECK(bfio_walk_images(p2, &list, on_error, &e, &err) == 1);
    CHECK(list.count == nw && strcmp(list.items[0].path + list.items[0].rel, "B.JPEG") == 0);
    bfio_walk_list_free(&list);

    /* Unreadable folder (only meaningful when not root). */
    if (geteuid() != 0) {
        CHECK(chmod(tmp_file(p2, sizeof p2, "w/sub/deeper"), 0) == 0);
        e.n = 0;
        CHECK(bfio_walk_images(p1, &list, on_error, &e, &err) >= 2); /* broken link + folder */
        bfio_walk_list_free(&list);
        chmod(p2, 0755);
    }

    /* Roots that are not folders. */
    CHECK(bfio_walk_images(tmp_file(p2, sizeof p2, "w/b.jpg"), &list, NULL, NULL, &err) == -1);
    CHECK(strstr(err.msg, "not a folder") != NULL);
    CHECK(bfio_walk_images(tmp_file(p2, sizeof p2, "nothing"), &list, NULL, NULL, &err) == -1);
    CHECK(list.count == 0);
}

static void test_paths(void)
{
    char *s;
    CHECK((s = bfio_path_join("a", "b.jpg")) && strcmp(s, "a/b.jpg") == 0);
    free(s);
    CHECK((s = bfio_path_join("a/", "b.jpg")) && strcmp(s, "a/b.jpg") == 0);
    free(s);
    CHECK((s = bfio_path_join("", "b.jpg")) && strcmp(s, "b.jpg") == 0);
    free(s);
    CHECK(strcmp(bfio_path_basename("x/y/z.png"), "z.png") == 0);
    CHECK(strcmp(bfio_path_basename("z.png"), "z.png") == 0);
    CHECK((s = bfio_path_stem("dir.d/a.b.jpg")) && strcmp(s, "a.b") == 0);
    free(s);
    CHECK((s = bfio_path_stem("dir.d/noext")) && strcmp(s, "noext") == 0);
    free(s);
    CHECK((s = bfio_path_stem(".hidden")) && strcmp(s, ".hidden") == 0);
    free(s);
    CHECK((s = bfio_path_replace_ext("d.x/a.png", ".jpg")) && strcmp(s, "d.x/a.jpg") == 0);
    free(s);
    CHECK((s = bfio_path_replace_ext("d.x/a", ".txt")) && strcmp(s, "d.x/a.txt") == 0);
    free(s);
    CHECK((s = bfio_path_replace_ext("sub/a.JPEG", "")) && strcmp(s, "sub/a") == 0);
    free(s);
    CHECK(bfio_path_is_image_name("a.JpEg") && bfio_path_is_image_name("x/y.bmp"));
    CHECK(!bfio_path_is_image_name("a.jpg.txt") && !bfio_path_is_image_name(".jpg") &&
          !bfio_path_is_image_name("jpg"));
}

static void test_json_writer(void)
{
    bfio_sb sb;
    bfio_sb_init(&sb);
    bfio_sb_putc(&sb, '[');
    bfio_json_put_string(&sb, "quote\" backslash\\ newline\n tab\t ctl\x01 caf\xc3\xa9 bad\xff\xfe end");
    bfio_sb_puts(&sb, ", ");
    bfio_json_put_number(&sb, 0.5, 6);
    bfio_sb_puts(&sb, ", ");
    bfio_json_put_number(&sb, NAN, 6);
    bfio_sb_puts(&sb, ", ");
    bfio_json_put_number(&sb, -0.0, 6);
    bfio_sb_puts(&sb, ", ");
    bfio_json_put_number(&sb, 1e-7, 6);
    bfio_sb_putc(&sb, ']');
    CHECK(!sb.failed);
    CHECK(strcmp(sb.data, "[\"quote\\\" backslash\\\\ newline\\n tab\\t ctl\\u0001 caf\xc3\xa9 bad"
                          "\\udcff\\udcfe end\", 0.5, null, 0, 1e-07]") == 0);
    /* and our reader takes it back, the bytes that were not UTF-8 included
     * (surrogateescape, json.h) */
    bfio_err err;
    bfio_json *j = bfio_json_parse(sb.data, sb.len, &err);
    CHECK(j && j->type == BFIO_JSON_ARRAY && j->len == 5);
    if (j) {
        CHECK(strcmp(j->items[0].string,
                     "quote\" backslash\\ newline\n tab\t ctl\x01 caf\xc3\xa9 bad\xff\xfe end") == 0);
        CHECK(j->items[1].number == 0.5 && j->items[2].type == BFIO_JSON_NULL);
    }
    bfio_json_free(j);
    bfio_sb_free(&sb);

    /* A long printf goes through the slow path. */
    bfio_sb_init(&sb);
    bfio_sb_printf(&sb, "%0600d", 7);
    CHECK(sb.len == 600 && sb.data[599] == '7' && sb.data[600] == 0);
    bfio_sb_free(&sb);
}

static void test_json_reader(void)
{
    bfio_err err;
    const char *good = "\xEF\xBB\xBF { \"a\" : [1, -2.5e3, true, false, null, \"x\\u00e9\\ud83d\\ude00\"],"
                       " \"b\": {}, \"a\": 3 } ";
    bfio_json *j = bfio_json_parse(good, strlen(good), &err);
    CHECK(j && j->type == BFIO_JSON_OBJECT && j->len == 3);
    if (j) {
        const bfio_json *a = bfio_json_get(j, "a"); /* the last "a" wins */
        CHECK(a && a->type == BFIO_JSON_NUMBER && a->number == 3);
        const bfio_json *arr = &j->items[0];
        CHECK(arr->len == 6 && arr->items[1].number == -2500);
        CHECK(strcmp(arr->items[5].string, "x\xc3\xa9\xf0\x9f\x98\x80") == 0);
        CHECK(bfio_json_get(j, "zz") == NULL && bfio_json_get(arr, "a") == NULL);
    }
    bfio_json_free(j);

    static const char *bad[] = {
        "", "   ", "[", "[1,", "[1,]", "{\"a\" 1}", "{\"a\":}", "{1:2}", "[1 2]", "[01]", "[1.]",
        "[.5]", "[+1]", "[-]", "[1e]", "[1e+]", "[1.e5]", "[NaN]", "[Infinity]", "[1e999]", "[\"abc]", "[\"a\\x\"]",
        "[\"\\u12\"]", "[\"\\ud800\"]", "[\"\\udc00 \"]", "[\"\\udc7f\"]", "[\"\\udd00\"]", "[\"tab\there\"]", "[\"\xff\"]",
        "[\"\xc0\xaf\"]", "[tru]", "nul", "[] []", "[]x", "{\"a\":1,}", "\"\\",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err.msg[0] = 0;
        bfio_json *b = bfio_json_parse(bad[i], strlen(bad[i]), &err);
        if (b || !strstr(err.msg, "line")) {
            fprintf(stderr, "  bad JSON #%zu '%s' accepted or no position: %s\n", i, bad[i], err.msg);
            CHECK(!"bad JSON rejected");
        }
        bfio_json_free(b);
    }
    /* Nesting is capped (no stack overflow on hostile input). */
    char deep[2000];
    memset(deep, '[', sizeof deep);
    CHECK(bfio_json_parse(deep, sizeof deep, &err) == NULL && strstr(err.msg, "nesting"));
    /* Not NUL-terminated: the parser must stop at len. */
    char nonul[3] = {'1', '2', '3'};
    j = bfio_json_parse(nonul, 2, &err);
    CHECK(j && j->number == 12);
    bfio_json_free(j);
    /* Error position. */
    j = bfio_json_parse("[\n  1,\n  x]", 11, &err);
    CHECK(!j && strstr(err.msg, "line 3, column 3"));
}

static void test_detfile(void)
{
    bfio_detfile_writer w;
    bfio_detfile_begin(&w);
    bfio_detfile_end(&w);
    CHECK(strcmp(w.sb.data, "[]\n") == 0);
    bfio_detfile_writer_free(&w);

    bfio_detfile_begin(&w);
    bfio_detfile_add(&w, "dir/a \"b\".jpg", 15, "cat", 0.875f, 10.5f, 20, 110.5f, 70);
    bfio_detfile_add(&w, "x.png", 0, NULL, 0.25f, 0, 0, 1, 1);
    bfio_detfile_end(&w);
    bfio_det_file df;
    bfio_err err;
    CHECK(bfio_detfile_parse(w.sb.data, w.sb.len, &df, &err) == 0);
    CHECK(df.count == 2);
    if (df.count == 2) {
        CHECK(strcmp(df.items[0].file, "dir/a \"b\".jpg") == 0 && df.items[0].class_id == 15);
        CHECK(df.items[0].score == 0.875f && df.items[0].x == 10.5f && df.items[0].y == 20 &&
              df.items[0].w == 100 && df.items[0].h == 50);
        CHECK(df.items[1].class_id == 0 && df.items[1].w == 1);
    }
    bfio_detfile_free(&df);
    bfio_detfile_writer_free(&w);

    static const struct {
        const char *text, *why;
    } bad[] = {
        {"{}", "JSON array"},
        {"[1]", "not an object"},
        {"[{\"class\": 1, \"score\": 1, \"bbox\": [0,0,1,1]}]", "\"file\""},
        {"[{\"file\": \"\", \"class\": 1, \"score\": 1, \"bbox\": [0,0,1,1]}]", "\"file\""},
        {"[{\"file\": \"a\", \"class\": 1.5, \"score\": 1, \"bbox\": [0,0,1,1]}]", "\"class\""},
        {"[{\"file\": \"a\", \"class\": -1, \"score\": 1, \"bbox\": [0,0,1,1]}]", "\"class\""},
        {"[{\"file\": \"a\", \"class\": \"1\", \"score\": 1, \"bbox\": [0,0,1,1]}]", "\"class\""},
        {"[{\"file\": \"a\", \"class\": 1, \"bbox\": [0,0,1,1]}]", "\"score\""},
        {"[{\"file\": \"a\", \"class\": 1, \"score\": 1, \"bbox\": [0,0,1]}]", "\"bbox\""},
        {"[{\"file\": \"a\", \"class\": 1, \"score\": 1, \"bbox\": [0,0,-1,1]}]", "negative"},
        {"[{\"file\": \"a\", \"class\": 1, \"score\": 1.5, \"bbox\": [0,0,1,1]}]", "\"score\" is above 1"},
        {"[{\"file\": \"a\", \"class\": 1, \"score\": -0.01, \"bbox\": [0,0,1,1]}]", "\"score\" is negative"},
        {"[{\"file\": \"a\", \"class\": 1, \"score\": 87, \"bbox\": [0,0,1,1]}]", "(line 1, column 37)"},
        {"[{\"file\": \"a\", \"class\": 1, \"score\": 1, \"bbox\": [0,0,\"1\",1]}]", "\"bbox\""},
        {"[{\"file\": \"a\\u0000b\", \"class\": 1, \"score\": 1, \"bbox\": [0,0,1,1]}]", "\"file\""},
        {"[{\"file\": \"a\", \"class\": 1, \"score\": 1, \"bbox\": [0,0,1,1]},\n {\"file\": 2}]",
         "detection 2 (line 2"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err.msg[0] = 0;
        int rc = bfio_detfile_parse(bad[i].text, strlen(bad[i].text), &df, &err);
        if (rc == 0 || !strstr(err.msg, bad[i].why)) {
            fprintf(stderr, "  bad detections #%zu: rc %d, '%s' (want '%s')\n", i, rc, err.msg, bad[i].why);
            CHECK(!"bad detections rejected");
            if (rc == 0)
                bfio_detfile_free(&df);
        }
    }
}

/* Random damage to a valid detections file: never a crash or a leak (the
 * sanitizer build and valgrind watch this), and the result is either a clean
 * parse or an error with a reason. */
static void test_detfile_fuzz(void)
{
    const char *seed = "[\n  {\"file\": \"a/b.jpg\", \"class\": 3, \"name\": \"car\", \"score\": 0.5,"
                       " \"bbox\": [1.5, 2, 30, 40]},\n  {\"file\": \"c\\u00e9.png\", \"class\": 0,"
                       " \"score\": 1e-3, \"bbox\": [0, 0, 0, 0]}\n]\n";
    size_t n = strlen(seed);
    char buf[512];
    uint32_t rng = 12345;
    int parsed = 0, failed = 0;
    for (int iter = 0; iter < 20000; iter++) {
        memcpy(buf, seed, n);
        size_t len = n;
        int edits = 1 + (int)((rng = rng * 1103515245 + 12345) >> 16) % 4;
        for (int k = 0; k < edits; k++) {
            rng = rng * 1103515245 + 12345;
            size_t pos = (rng >> 8) % len;
            switch ((rng >> 4) % 4) {
            case 0: buf[pos] = (char)(rng >> 20); break;       /* replace a byte */
            case 1: len = pos + 1; break;                       /* truncate */
            case 2: buf[pos] = "[]{}\",:\\0e-"[(rng >> 20) % 12]; break; /* structural */
            case 3: if (len < sizeof buf - 1) { memmove(buf + pos + 1, buf + pos, len - pos); len++; } break;
            }
        }
        bfio_det_file df;
        bfio_err err;
        err.msg[0] = 0;
        if (bfio_detfile_parse(buf, len, &df, &err) == 0) {
            parsed++;
            bfio_detfile_free(&df);
        } else {
            failed++;
            CHECK(err.msg[0] != 0);
        }
    }
    CHECK(parsed > 0 && failed > 0);
}

static void test_labels(void)
{
    bfio_box *b;
    size_t n;
    bfio_err err;
    /* 5 columns, 6 (with a confidence), a polygon, blank lines, CRLF, tabs. */
    const char *text = "0 0.5 0.5 0.25 0.5\r\n\n15\t0.25 0.75 0.5 0.5 0.9\n"
                       "2 0.1 0.2 0.3 0.2 0.3 0.6\n   \n";
    CHECK(bfio_labels_parse(text, strlen(text), 400, 200, 80, &b, &n, &err) == 0);
    CHECK(n == 3);
    if (n == 3) {
        CHECK(b[0].class_id == 0 && b[0].x0 == 150 && b[0].x1 == 250 && b[0].y0 == 50 && b[0].y1 == 150);
        CHECK(b[1].class_id == 15 && b[1].x0 == 0 && b[1].x1 == 200 && b[1].y0 == 100 && b[1].y1 == 200);
        /* polygon (0.1,0.2) (0.3,0.2) (0.3,0.6): box x 0.1..0.3, y 0.2..0.6 */
        CHECK(b[2].class_id == 2 && fabsf(b[2].x0 - 40) < 1e-3f && fabsf(b[2].x1 - 120) < 1e-3f &&
              fabsf(b[2].y0 - 40) < 1e-3f && fabsf(b[2].y1 - 120) < 1e-3f);
    }
    free(b);
    CHECK(bfio_labels_parse("", 0, 10, 10, 80, &b, &n, &err) == 0 && n == 0 && b == NULL);
    /* A UTF-8 byte order mark is skipped (the JSON reader skips one too);
     * edges exactly at 0 and 1 are inside the image. A sixth column (a
     * confidence) is not a coordinate. */
    const char *bom = "\xEF\xBB\xBF" "3 0.5 0.5 1 1 0.25\n";
    CHECK(bfio_labels_parse(bom, strlen(bom), 10, 20, 80, &b, &n, &err) == 0 && n == 1);
    if (n == 1)
        CHECK(b[0].class_id == 3 && b[0].x0 == 0 && b[0].x1 == 10 && b[0].y0 == 0 && b[0].y1 == 20);
    free(b);

    static const struct {
        const char *text, *why;
    } bad[] = {
        {"0 0.5 0.5 0.2\n", "line 1"},
        {"0 0.5 0.5 0.2 0.2\n80 0.5 0.5 0.2 0.2\n", "line 2: class id out of range"},
        {"1.5 0.5 0.5 0.2 0.2\n", "class id"},
        {"-1 0.5 0.5 0.2 0.2\n", "class id"},
        {"0 0.5 0.5 -0.2 0.2\n", "normalised to 0..1"},
        {"0 0.5 0.5 0.2 0.2\n0 -0.49 0.5 0.2 0.2\n", "line 2: coordinates must be normalised"},
        {"0 0.5 0.5 1.5 0.2\n", "line 1: coordinates must be normalised"},
        {"0 240 160 120 80\n", "is this file in pixels"},
        {"0 0.5 0.5 0 0.2\n", "line 1: the box has zero width or height"},
        {"0 0.5 0.5 0.2 0\n", "zero width or height"},
        {"0 0.1 0.2 0.3 0.2 1.3 0.6\n", "normalised"},
        {"0 0.1 0.2 0.3 0.2 0.5 0.2\n", "zero width or height"},
        {"\xEF\xBB\xBF\xEF\xBB\xBF" "0 0.5 0.5 0.2 0.2\n", "not a number"},
        {"0 0.5 zero 0.2 0.2\n", "not a number"},
        {"0 0.5 nan 0.2 0.2\n", "not a number"},
        {"0 0.5 0.5 0.2 0.2 0.9 0.1 0.2\n", "expected"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err.msg[0] = 0;
        b = NULL;
        int rc = bfio_labels_parse(bad[i].text, strlen(bad[i].text), 10, 10, 80, &b, &n, &err);
        if (rc == 0 || !strstr(err.msg, bad[i].why)) {
            fprintf(stderr, "  bad labels #%zu: rc %d '%s' (want '%s')\n", i, rc, err.msg, bad[i].why);
            CHECK(!"bad labels rejected");
        }
        if (rc == 0)
            free(b);
    }

    /* Missing file: no objects, flagged; a folder in its place: an error. */
    char path[512];
    int missing = 0;
    CHECK(bfio_labels_read(tmp_file(path, sizeof path, "none.txt"), 10, 10, 80, &b, &n, &missing, &err) == 0);
    CHECK(missing == 1 && n == 0);
    CHECK(bfio_labels_read(tmpdir_path, 10, 10, 80, &b, &n, &missing, &err) == -1);

    /* Writer: Ultralytics save_txt with conf, %g. */
    bfio_sb sb;
    bfio_sb_init(&sb);
    bfio_labels_put(&sb, 15, 150, 50, 250, 150, 0.875f, 400, 200);
    CHECK(sb.data && strcmp(sb.data, "15 0.5 0.5 0.25 0.5 0.875\n") == 0);
    bfio_sb_free(&sb);
}

int main(void)
{
    tmpdir_create("test_files");
    test_atomic_write();
    test_walk();
    test_paths();
    test_json_writer();
    test_json_reader();
    test_detfile();
    test_detfile_fuzz();
    test_labels();
    int rc = check_finish("test_files");
    if (rc == 0)
        tmpdir_remove();
    else
        fprintf(stderr, "files kept in %s\n", tmpdir_path);
    return rc;
}
