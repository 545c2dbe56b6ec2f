/*
 * bf_t2i8_gemm_select / bf_b1_gemm_select semantics.
 *
 *   kernels_test_dispatch                 the contract checks below
 *   kernels_test_dispatch auto ISA        "auto" must pick ISA (used with
 *                                         BITFALCON_CPU_DISABLE to walk the ladder)
 *   kernels_test_dispatch lacks ISA       naming ISA must fail with "lacks"
 *   kernels_test_dispatch env-error       auto must fail, naming $BITFALCON_ISA
 *
 * Contract: auto picks the first path of the ladder this CPU runs; an
 * explicit name never falls back; BITFALCON_ISA replaces auto only; unknown
 * names, names of another architecture and paths the CPU lacks are NULL plus
 * a one-line reason naming the path.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cpu.h"
#include "b1-gemm/b1-gemm.h"
#include "dispatch.h"

typedef struct entry {
    const char *name;
    const bf_t2i8_gemm_config *config;
    bool (*can_run)(const bf_cpu_flags *);
} entry;

#define BF_T2I8_GEMM(arch, name, config, check, feature, max_terms) BF_ON_##arch({#name, &config, check}, )
static const entry ladder[] = {
#include "t2i8-gemm/t2i8-gemm.inc"
    {"ref", &bf_t2i8_gemm_ref, NULL},
};
#undef BF_T2I8_GEMM
#define N_LADDER (sizeof ladder / sizeof ladder[0])

/* Every path name of the other architectures: "not built here". */
#define BF_T2I8_GEMM(arch, name, ...) BF_OFF_##arch(#name, )
static const char *const foreign_names[] = {
#include "t2i8-gemm/t2i8-gemm.inc"
    NULL};
#undef BF_T2I8_GEMM

static const bf_t2i8_gemm_config *expected_auto(void)
{
    const bf_cpu_flags *f = bf_cpu_detect();
    for (size_t i = 0; i < N_LADDER; i++)
        if (ladder[i].can_run == NULL || ladder[i].can_run(f))
            return ladder[i].config;
    return NULL;
}

static int contract(void)
{
    char err[256];
    unsetenv("BITFALCON_ISA");
    const bf_t2i8_gemm_config *best = expected_auto();
    CHECK(bf_t2i8_gemm_select(NULL, err, sizeof err) == best, "auto (NULL) is not %s", best->isa);
    CHECK(bf_t2i8_gemm_select("", err, sizeof err) == best, "auto (\"\") is not %s", best->isa);
    CHECK(bf_t2i8_gemm_select("auto", err, sizeof err) == best, "auto is not %s", best->isa);
    fprintf(stderr, "auto: %s (build has: %s)\n", best->isa, bf_t2i8_gemm_available());

    /* every runnable path by name, and the error for each one the CPU lacks */
    const bf_cpu_flags *f = bf_cpu_detect();
    for (size_t i = 0; i < N_LADDER; i++) {
        err[0] = '\0';
        const bf_t2i8_gemm_config *c = bf_t2i8_gemm_select(ladder[i].name, err, sizeof err);
        if (ladder[i].can_run == NULL || ladder[i].can_run(f)) {
            CHECK(c == ladder[i].config, "'%s' by name gave %s", ladder[i].name, c ? c->isa : err);
        } else {
            CHECK(c == NULL, "'%s' selected on a CPU that lacks it", ladder[i].name);
            CHECK(strstr(err, ladder[i].name) && strstr(err, "lacks"), "unclear error for '%s': %s", ladder[i].name,
                  err);
            fprintf(stderr, "lacking: %s\n", err);
        }
    }

    err[0] = '\0';
    CHECK(bf_t2i8_gemm_select("bogus", err, sizeof err) == NULL, "'bogus' selected");
    CHECK(strstr(err, "bogus") && strstr(err, "unknown"), "unclear error for 'bogus': %s", err);
    fprintf(stderr, "bogus: %s\n", err);

    for (size_t i = 0; foreign_names[i] != NULL; i++) {
        const char *foreign = foreign_names[i];
        err[0] = '\0';
        CHECK(bf_t2i8_gemm_select(foreign, err, sizeof err) == NULL, "'%s' selected on this architecture", foreign);
        CHECK(strstr(err, foreign) && strstr(err, "not built"), "unclear error for '%s': %s", foreign, err);
        fprintf(stderr, "foreign: %s\n", err);
    }
    const char *foreign = foreign_names[0] != NULL ? foreign_names[0] : "bogus";

    CHECK(bf_t2i8_gemm_select("AVX2", err, sizeof err) == NULL, "names are case-sensitive");
    CHECK(bf_t2i8_gemm_select("bogus", NULL, 0) == NULL, "NULL err buffer");
    CHECK(bf_t2i8_gemm_select("bogus", err, 1) == NULL && err[0] == '\0', "1-byte err buffer");

    /* BITFALCON_ISA replaces auto, not an explicit name */
    setenv("BITFALCON_ISA", "ref", 1);
    CHECK(bf_t2i8_gemm_select(NULL, err, sizeof err) == &bf_t2i8_gemm_ref, "BITFALCON_ISA=ref ignored");
    CHECK(bf_t2i8_gemm_select("auto", err, sizeof err) == &bf_t2i8_gemm_ref, "BITFALCON_ISA=ref ignored (auto)");
    setenv("BITFALCON_ISA", "auto", 1);
    CHECK(bf_t2i8_gemm_select(NULL, err, sizeof err) == best, "BITFALCON_ISA=auto is not auto");
    setenv("BITFALCON_ISA", "bogus", 1);
    err[0] = '\0';
    CHECK(bf_t2i8_gemm_select(NULL, err, sizeof err) == NULL, "BITFALCON_ISA=bogus fell back");
    CHECK(strstr(err, "bogus") && strstr(err, "BITFALCON_ISA"), "unclear error for BITFALCON_ISA=bogus: %s", err);
    fprintf(stderr, "BITFALCON_ISA=bogus: %s\n", err);
    CHECK(bf_t2i8_gemm_select("ref", err, sizeof err) == &bf_t2i8_gemm_ref, "explicit name lost to BITFALCON_ISA");
    setenv("BITFALCON_ISA", foreign, 1);
    CHECK(bf_t2i8_gemm_select(NULL, err, sizeof err) == NULL, "BITFALCON_ISA=%s fell back", foreign);
    fprintf(stderr, "BITFALCON_ISA=%s: %s\n", foreign, err);
    unsetenv("BITFALCON_ISA");

    /* the bit-serial family */
    const bf_t2i8_gemm_config *b = bf_b1_gemm_select(NULL, err, sizeof err);
    CHECK(b != NULL, "b1 auto failed: %s", err);
    if (b != NULL)
        fprintf(stderr, "b1 auto: %s\n", b->isa);
    CHECK(bf_b1_gemm_select("ref", err, sizeof err) == &bf_b1_gemm_ref, "b1 ref by name");
    CHECK(bf_b1_gemm_select("bogus", err, sizeof err) == NULL && strstr(err, "bogus"), "b1 bogus: %s", err);

    /* every selectable config is complete */
    for (size_t i = 0; i < N_LADDER; i++) {
        const bf_t2i8_gemm_config *c = ladder[i].config;
        CHECK(c->isa && c->packed_size && c->pack && c->gemm && c->mr >= 1, "incomplete config %s", ladder[i].name);
        CHECK(c->max_terms >= 1 && c->max_terms <= BF_T2I8_MAX_TERMS && (c->max_terms == 1 || c->pack_terms),
              "config %s: max_terms %d without pack_terms", ladder[i].name, c->max_terms);
    }
    return check_failures ? 1 : 0;
}

int main(int argc, char **argv)
{
    char err[256] = "";
    char cpu[256];
    fprintf(stderr, "cpu: %s\n", bf_cpu_describe(bf_cpu_detect(), cpu, sizeof cpu));
    if (argc == 2 && strcmp(argv[1], "env-error") == 0) {
        const char *env = getenv("BITFALCON_ISA");
        const bf_t2i8_gemm_config *c = bf_t2i8_gemm_select(NULL, err, sizeof err);
        fprintf(stderr, "BITFALCON_ISA=%s: %s\n", env ? env : "(unset)", c ? c->isa : err);
        return c == NULL && env != NULL && strstr(err, env) && strstr(err, "BITFALCON_ISA") ? 0 : 1;
    }
    if (argc == 3 && strcmp(argv[1], "auto") == 0) {
        const bf_t2i8_gemm_config *c = bf_t2i8_gemm_select(NULL, err, sizeof err);
        fprintf(stderr, "auto: %s (BITFALCON_CPU_DISABLE=%s)\n", c ? c->isa : err,
                getenv("BITFALCON_CPU_DISABLE") ? getenv("BITFALCON_CPU_DISABLE") : "");
        if (c != NULL && strcmp(c->isa, argv[2]) == 0)
            return 0;
        /* the expected rung may be beyond this CPU (say, no AVX2): skip */
        for (size_t i = 0; i < N_LADDER; i++)
            if (strcmp(ladder[i].name, argv[2]) == 0 && ladder[i].can_run != NULL &&
                !ladder[i].can_run(bf_cpu_detect()))
                return 77;
        return 1;
    }
    if (argc == 3 && strcmp(argv[1], "lacks") == 0) {
        const bf_t2i8_gemm_config *c = bf_t2i8_gemm_select(argv[2], err, sizeof err);
        fprintf(stderr, "%s: %s\n", argv[2], c ? c->isa : err);
        return c == NULL && strstr(err, "lacks") && strstr(err, argv[2]) ? 0 : 1;
    }
    if (argc != 1) {
        fprintf(stderr, "usage: %s [auto ISA | lacks ISA | env-error]\n", argv[0]);
        return 2;
    }
    return contract();
}
