/* select.h - the path choice every kernel family's selector shares
 * (dispatch.c for t2i8, b1-gemm/b1-gemm-select.c for the popcount family):
 * a table expanded from the family's enumerator (<family>.inc), widest
 * first and ending with the reference, and one rule to pick from it. */
#ifndef BF_SELECT_H
#define BF_SELECT_H

#include <stdbool.h>
#include <stddef.h>

#include "cpu.h"
#include "t2i8-gemm/t2i8-gemm.h"

typedef struct bf_kernel_entry {
    const char *isa;
    const bf_t2i8_gemm_config *config;
    bool (*can_run)(const bf_cpu_flags *);
} bf_kernel_entry;

/* The reference's predicate: every CPU. */
bool bf_cpu_can_any(const bf_cpu_flags *f);

/* isa NULL = auto: the first entry this CPU runs (the table ends with the
 * reference). Otherwise exactly the named entry, or NULL with a one-line
 * reason in err: the CPU lacks what it needs, the name belongs to another
 * architecture (`all`: every name the enumerator knows), or it is unknown.
 * `family` names the family and `source` is "" or " (from BITFALCON_ISA)"
 * in those messages. */
const bf_t2i8_gemm_config *bf_kernel_select(const char *family, const bf_kernel_entry *table, size_t n,
                                            const char *const *all, size_t n_all, const char *isa,
                                            const char *source, char *err, size_t err_size);

#endif /* BF_SELECT_H */
