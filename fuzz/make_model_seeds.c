/*
 * make_model_seeds.c - writes the model fuzzer's seed corpus from the engine
 * tests' model builder (tests/engine/model_builder.h): a minimal graph (one
 * conv, one head), and the builder's two test graphs. Build and run:
 *   cc -Itests/engine fuzz/make_model_seeds.c tests/engine/model_builder.c \
 *      tests/engine/test_util.c -lm -o /tmp/mms && /tmp/mms fuzz/corpus/model
 */
#include <stdio.h>

#include "model_builder.h"

static int save(mb_model *mb, const char *dir, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int rc = mb_write(mb, path);
    mb_free(mb);
    return rc;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : ".";
    mb_model *tiny = mb_create(2, 1, 32, 1);
    mb_head(tiny, mb_conv(tiny, 0, 3, 3, 2, 1, 4, 1));
    int rc = save(tiny, dir, "tiny.bfm");
    rc |= save(mb_build_test_graph(0, 42), dir, "yolo-like.bfm");
    rc |= save(mb_build_test_graph(1, 3), dir, "odd.bfm");
    return rc ? 1 : 0;
}
