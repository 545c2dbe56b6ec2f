/* The reference letterbox row passes (plain C, the oracle) and the selector,
 * which lives here because every architecture builds the -ref.c files. */
#include "u8-letterbox/u8-letterbox.h"

#include <stdbool.h>
#include <string.h>

#include "cpu.h"

void bf_u8_letterbox_horizontal_ref(const uint8_t *src, const int32_t *x0, const int32_t *x1, const int32_t *ax,
                                    size_t x_begin, size_t n, int bgr, uint32_t *h)
{
    const int c0 = bgr ? 2 : 0, c2 = bgr ? 0 : 2; /* source byte of R and B */
    for (size_t x = x_begin; x < n; x++) {
        const uint32_t wx1 = (uint32_t)ax[x], wx0 = 2048u - wx1;
        const uint8_t *a = src + x0[x], *b = src + x1[x];
        h[3 * x] = a[c0] * wx0 + b[c0] * wx1;
        h[3 * x + 1] = a[1] * wx0 + b[1] * wx1;
        h[3 * x + 2] = a[c2] * wx0 + b[c2] * wx1;
    }
}

static void ref_horizontal(const uint8_t *src, size_t src_bytes, const int32_t *x0, const int32_t *x1,
                           const int32_t *ax, size_t n, int bgr, uint32_t *h)
{
    (void)src_bytes;
    bf_u8_letterbox_horizontal_ref(src, x0, x1, ax, 0, n, bgr, h);
}

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

const bf_u8_letterbox_config bf_u8_letterbox_ref = {
    .isa = "ref",
    .horizontal = ref_horizontal,
    .blend = ref_blend,
};

typedef struct entry {
    const char *isa;
    const bf_u8_letterbox_config *config;
    bool (*can_run)(const bf_cpu_flags *);
} entry;

#define BF_U8_LETTERBOX(arch, name, config, check, feature) BF_ON_##arch({#name, &config, check}, )
static const entry table[] = {
#include "u8-letterbox/u8-letterbox.inc"
    {NULL, NULL, NULL},
};
#undef BF_U8_LETTERBOX

const bf_u8_letterbox_config *bf_u8_letterbox_select(const char *gemm_isa)
{
    const bf_cpu_flags *f = bf_cpu_detect();
    for (size_t i = 0; table[i].isa != NULL; i++)
        if (gemm_isa == NULL || strcmp(gemm_isa, table[i].isa) == 0) {
            if (table[i].can_run(f))
                return table[i].config;
            if (gemm_isa != NULL)
                break;
        }
    return &bf_u8_letterbox_ref;
}
