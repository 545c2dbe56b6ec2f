/*
 * assign.h - optimal (minimum-cost) assignment between the rows (tracks) and
 * columns (detections) of a cost matrix, with a cost limit.
 *
 * The semantics are those of lap.lapjv(cost, extend_cost=True,
 * cost_limit=limit), which Ultralytics' matching.linear_assignment calls:
 * leaving a row or a column unmatched costs limit / 2, so the result
 * minimises  sum(cost of the pairs) + limit / 2 * (unmatched rows + columns),
 * and no pair costs more than limit (unmatching both is cheaper). Solved
 * exactly by the Hungarian method (shortest augmenting paths with
 * potentials, O(N^3), N = rows + cols) on that extended square matrix.
 * Debian has no C library for it, hence this file.
 */
#ifndef BF_TRACK_ASSIGN_H
#define BF_TRACK_ASSIGN_H

#include <stddef.h>

/* Scratch memory, reused between calls (grows as needed). */
typedef struct bt_assign_work {
    double *buf;
    size_t cap; /* doubles */
    int *ibuf;
    size_t icap; /* ints */
} bt_assign_work;

/* cost: rows x cols, row-major (cost[r * cols + c]); finite values.
 * row_to_col[r]: the matched column or -1; col_to_row[c] likewise (either
 * may be NULL). rows or cols may be 0. Returns 0, or -1 when out of memory
 * (or a size overflows), leaving the outputs all -1. */
int bt_assign(const float *cost, int rows, int cols, double limit, int *row_to_col, int *col_to_row,
              bt_assign_work *work);

/* Grows work for a rows x cols problem now, so that bt_assign of that size
 * or smaller cannot fail later. 0 or -1. */
int bt_assign_reserve(bt_assign_work *work, int rows, int cols);

void bt_assign_work_free(bt_assign_work *work);

#endif /* BF_TRACK_ASSIGN_H */
