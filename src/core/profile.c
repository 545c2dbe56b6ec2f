/* profile.c - the parts of the profiling API (include/bitfalcon_profile.h)
 * that are not the detector's: the CPU as the dispatch sees it, the kernel
 * paths of this build, layer op names and the int8 peak loop. The detector's
 * own (stages, layers, timing) are in detector.c. */
#include "bitfalcon_profile.h"
#include "common.h"
#include "cpu.h"
#include "dispatch.h"
#include "model.h"
#include "peak.h"

BF_API const char *bf_isa_available(void)
{
    return bf_t2i8_gemm_available();
}

BF_API char *bf_cpu_features(char *buf, size_t size)
{
    if (buf == NULL || size == 0)
        return buf;
    return bf_cpu_describe(bf_cpu_detect(), buf, size > 0xffffffffu ? 0xffffffffu : (unsigned)size);
}

BF_API const char *bf_layer_op_name(int op)
{
    return op < 0 ? "op?" : bf_op_name((uint32_t)op);
}

BF_API int bf_measure_peak(double min_seconds, bf_peak *out)
{
    bf_peak_loop l;
    const int applies = bf_peak_pick(&l);
    if (out != NULL) {
        out->loop = l.name;
        out->why = l.why;
        out->gops = applies ? bf_peak_measure(&l, min_seconds) : 0.0;
    }
    return applies && out != NULL && out->gops > 0 ? 1 : 0;
}

/* bf_layer_info.op carries the model's op codes as they are. */
_Static_assert((int)BF_LAYER_CONV == (int)BF_OP_CONV && (int)BF_LAYER_ADD == (int)BF_OP_ADD &&
                   (int)BF_LAYER_CONCAT == (int)BF_OP_CONCAT && (int)BF_LAYER_SLICE == (int)BF_OP_SLICE &&
                   (int)BF_LAYER_MAXPOOL == (int)BF_OP_MAXPOOL && (int)BF_LAYER_UPSAMPLE == (int)BF_OP_UPSAMPLE,
               "bf_layer_op and the model's bf_op differ");
