/* assign.c - see assign.h. */
#include "assign.h"

#include <float.h>
#include <stdint.h>
#include <stdlib.h>

static int grow(bt_assign_work *w, size_t nd, size_t ni)
{
    if (nd > w->cap) {
        double *p = realloc(w->buf, nd * sizeof *p);
        if (!p)
            return -1;
        w->buf = p;
        w->cap = nd;
    }
    if (ni > w->icap) {
        int *p = realloc(w->ibuf, ni * sizeof *p);
        if (!p)
            return -1;
        w->ibuf = p;
        w->icap = ni;
    }
    return 0;
}

int bt_assign_reserve(bt_assign_work *w, int rows, int cols)
{
    if (rows < 0 || cols < 0 || rows > 100000 || cols > 100000)
        return -1;
    size_t n = (size_t)rows + (size_t)cols;
    return grow(w, 3 * (n + 1), 3 * (n + 1));
}

void bt_assign_work_free(bt_assign_work *w)
{
    free(w->buf);
    free(w->ibuf);
    w->buf = NULL;
    w->ibuf = NULL;
    w->cap = w->icap = 0;
}

int bt_assign(const float *cost, int rows, int cols, double limit, int *row_to_col, int *col_to_row,
              bt_assign_work *w)
{
    for (int r = 0; r < rows && row_to_col; r++)
        row_to_col[r] = -1;
    for (int c = 0; c < cols && col_to_row; c++)
        col_to_row[c] = -1;
    if (rows <= 0 || cols <= 0)
        return 0;
    /* The extended matrix, as lap builds it: [C, l/2; l/2, 0] with the
     * top-right block rows x rows and the bottom-left cols x cols. A real
     * row i may take its "dummy" column (cols + anything) at l/2, a real
     * column likewise a dummy row; dummies pair with each other for free. */
    /* u, v, minv (n + 1 doubles each); p, way, used (n + 1 ints each). */
    if (bt_assign_reserve(w, rows, cols) != 0)
        return -1;
    size_t n = (size_t)rows + (size_t)cols;
    double *u = w->buf, *v = u + n + 1, *minv = v + n + 1;
    int *p = w->ibuf, *way = p + n + 1, *used = way + n + 1;
    double half = limit / 2;
    for (size_t i = 0; i <= n; i++) {
        u[i] = v[i] = 0;
        p[i] = way[i] = 0;
    }
    /* The e-maxx formulation (1-based; p[j]: the row matched to column j,
     * 0 = none): rows are added one at a time, each by the shortest
     * augmenting path in reduced costs, which keeps the optimum. */
    for (size_t i = 1; i <= n; i++) {
        p[0] = (int)i;
        size_t j0 = 0;
        for (size_t j = 0; j <= n; j++) {
            minv[j] = DBL_MAX;
            used[j] = 0;
        }
        do {
            used[j0] = 1;
            size_t i0 = (size_t)p[j0], j1 = 0;
            double delta = DBL_MAX;
            for (size_t j = 1; j <= n; j++) {
                if (used[j])
                    continue;
                size_t r = i0 - 1, c = j - 1;
                double a = r < (size_t)rows ? (c < (size_t)cols ? (double)cost[r * (size_t)cols + c] : half)
                                            : (c < (size_t)cols ? half : 0.0);
                double cur = a - u[i0] - v[j];
                if (cur < minv[j]) {
                    minv[j] = cur;
                    way[j] = (int)j0;
                }
                if (minv[j] < delta) {
                    delta = minv[j];
                    j1 = j;
                }
            }
            for (size_t j = 0; j <= n; j++) {
                if (used[j]) {
                    u[p[j]] += delta;
                    v[j] -= delta;
                } else {
                    minv[j] -= delta;
                }
            }
            j0 = j1;
        } while (p[j0] != 0);
        do {
            size_t j1 = (size_t)way[j0];
            p[j0] = p[j1];
            j0 = j1;
        } while (j0);
    }
    for (size_t j = 1; j <= (size_t)cols; j++) {
        size_t r = (size_t)p[j] - 1;
        /* A pair over the limit is never optimal (unmatching both costs
         * the limit); one at the limit exactly may be, and is kept. */
        if (r < (size_t)rows && (double)cost[r * (size_t)cols + j - 1] <= limit) {
            if (row_to_col)
                row_to_col[r] = (int)(j - 1);
            if (col_to_row)
                col_to_row[j - 1] = (int)r;
        }
    }
    return 0;
}
