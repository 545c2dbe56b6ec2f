/* The reference letterbox blend (plain C, the oracle) and the selector,
 * which lives here because every architecture builds the -ref.c files. */
#include "u32-blend/u32-blend.h"

#include <stdbool.h>
#include <string.h>

#include "cpu.h"

static void ref_blend(const uint32_t *h0, const uint32_t *h1, uint32_t wy0, uint32_t wy1, size_t count, int8_t *d)
{
    if (wy1 == 0) {
        for (size_t i = 0; i < count; i++)
            d[i] = (int8_t)(int)(((h0[i] + 1024u) >> 11) - 128u);
        return;
    }
    for (size_t i = 0; i < count; i++)
        d[i] = (int8_t)(int)(((h0[i] * wy0 + h1[i] * wy1 + (1u << 21)) >> 22) - 128u);
}

const bf_u32_blend_config bf_u32_blend_ref = {
    .isa = "ref",
    .blend = ref_blend,
};

typedef struct entry {
    const char *isa;
    const bf_u32_blend_config *config;
    bool (*can_run)(const bf_cpu_flags *);
} entry;

#define BF_U32_BLEND(arch, name, config, check, feature) BF_ON_##arch({#name, &config, check}, )
static const entry table[] = {
#include "u32-blend/u32-blend.inc"
    {NULL, NULL, NULL},
};
#undef BF_U32_BLEND

const bf_u32_blend_config *bf_u32_blend_select(const char *gemm_isa)
{
    const bf_cpu_flags *f = bf_cpu_detect();
    for (size_t i = 0; table[i].isa != NULL; i++)
        if (gemm_isa == NULL || strcmp(gemm_isa, table[i].isa) == 0) {
            if (table[i].can_run(f))
                return table[i].config;
            if (gemm_isa != NULL)
                break;
        }
    return &bf_u32_blend_ref;
}
