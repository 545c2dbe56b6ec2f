/* kalman.c - see kalman.h. The matrices are small and fixed (8x8, 4x4), so
 * F and H are applied by their structure instead of by general products:
 * F adds each velocity to its position, H takes the first four components. */
#include "kalman.h"

#include <math.h>
#include <string.h>

#define STD_WEIGHT_POSITION (1.0 / 20.0)
#define STD_WEIGHT_VELOCITY (1.0 / 160.0)

void bt_kalman_initiate(bt_kalman *kf, const double meas[BT_KF_NDIM])
{
    memset(kf, 0, sizeof *kf);
    for (int i = 0; i < BT_KF_NDIM; i++)
        kf->mean[i] = meas[i];
    double h = meas[3];
    double std[BT_KF_NSTATE] = {
        2 * STD_WEIGHT_POSITION * h, 2 * STD_WEIGHT_POSITION * h, 1e-2, 2 * STD_WEIGHT_POSITION * h,
        10 * STD_WEIGHT_VELOCITY * h, 10 * STD_WEIGHT_VELOCITY * h, 1e-5, 10 * STD_WEIGHT_VELOCITY * h,
    };
    for (int i = 0; i < BT_KF_NSTATE; i++)
        kf->cov[i][i] = std[i] * std[i];
}

void bt_kalman_predict(bt_kalman *kf)
{
    /* Q is taken from the height before the step, as ByteTrack does. */
    double h = kf->mean[3];
    double std[BT_KF_NSTATE] = {
        STD_WEIGHT_POSITION * h, STD_WEIGHT_POSITION * h, 1e-2, STD_WEIGHT_POSITION * h,
        STD_WEIGHT_VELOCITY * h, STD_WEIGHT_VELOCITY * h, 1e-5, STD_WEIGHT_VELOCITY * h,
    };
    for (int i = 0; i < BT_KF_NDIM; i++)
        kf->mean[i] += kf->mean[i + BT_KF_NDIM];
    /* F = [I I; 0 I]: rows i < 4 of F P are P[i] + P[i+4]; then the same on columns. */
    double fp[BT_KF_NSTATE][BT_KF_NSTATE];
    for (int i = 0; i < BT_KF_NSTATE; i++)
        for (int j = 0; j < BT_KF_NSTATE; j++)
            fp[i][j] = kf->cov[i][j] + (i < BT_KF_NDIM ? kf->cov[i + BT_KF_NDIM][j] : 0.0);
    for (int i = 0; i < BT_KF_NSTATE; i++)
        for (int j = 0; j < BT_KF_NSTATE; j++)
            kf->cov[i][j] = fp[i][j] + (j < BT_KF_NDIM ? fp[i][j + BT_KF_NDIM] : 0.0);
    for (int i = 0; i < BT_KF_NSTATE; i++)
        kf->cov[i][i] += std[i] * std[i];
}

void bt_kalman_project(const bt_kalman *kf, double mean[BT_KF_NDIM], double cov[BT_KF_NDIM][BT_KF_NDIM])
{
    double h = kf->mean[3];
    double std[BT_KF_NDIM] = {STD_WEIGHT_POSITION * h, STD_WEIGHT_POSITION * h, 1e-1,
                              STD_WEIGHT_POSITION * h};
    for (int i = 0; i < BT_KF_NDIM; i++) {
        mean[i] = kf->mean[i];
        for (int j = 0; j < BT_KF_NDIM; j++)
            cov[i][j] = kf->cov[i][j] + (i == j ? std[i] * std[i] : 0.0);
    }
}

/* S = L L' in place (lower triangle); -1 when S is not positive definite. */
static int cholesky4(double s[BT_KF_NDIM][BT_KF_NDIM])
{
    for (int j = 0; j < BT_KF_NDIM; j++) {
        double d = s[j][j];
        for (int k = 0; k < j; k++)
            d -= s[j][k] * s[j][k];
        if (!(d > 0.0)) /* also catches NaN */
            return -1;
        s[j][j] = sqrt(d);
        for (int i = j + 1; i < BT_KF_NDIM; i++) {
            double v = s[i][j];
            for (int k = 0; k < j; k++)
                v -= s[i][k] * s[j][k];
            s[i][j] = v / s[j][j];
        }
    }
    return 0;
}

int bt_kalman_update(bt_kalman *kf, const double meas[BT_KF_NDIM])
{
    double pm[BT_KF_NDIM], s[BT_KF_NDIM][BT_KF_NDIM], l[BT_KF_NDIM][BT_KF_NDIM];
    bt_kalman_project(kf, pm, s);
    memcpy(l, s, sizeof l);
    if (cholesky4(l) != 0)
        return -1;
    /* K = P H' S^-1, i.e. S K' = H P (S symmetric): solve for each of the 8
     * columns of K' with the Cholesky factor, forward then backward. */
    double k[BT_KF_NSTATE][BT_KF_NDIM];
    for (int c = 0; c < BT_KF_NSTATE; c++) {
        double y[BT_KF_NDIM];
        for (int i = 0; i < BT_KF_NDIM; i++) {
            double v = kf->cov[i][c]; /* (H P)[i][c] */
            for (int m = 0; m < i; m++)
                v -= l[i][m] * y[m];
            y[i] = v / l[i][i];
        }
        for (int i = BT_KF_NDIM - 1; i >= 0; i--) {
            double v = y[i];
            for (int m = i + 1; m < BT_KF_NDIM; m++)
                v -= l[m][i] * k[c][m];
            k[c][i] = v / l[i][i];
        }
    }
    double innov[BT_KF_NDIM];
    for (int i = 0; i < BT_KF_NDIM; i++)
        innov[i] = meas[i] - pm[i];
    for (int r = 0; r < BT_KF_NSTATE; r++)
        for (int i = 0; i < BT_KF_NDIM; i++)
            kf->mean[r] += k[r][i] * innov[i];
    /* P -= K S K' */
    double ks[BT_KF_NSTATE][BT_KF_NDIM];
    for (int r = 0; r < BT_KF_NSTATE; r++)
        for (int j = 0; j < BT_KF_NDIM; j++) {
            double v = 0;
            for (int i = 0; i < BT_KF_NDIM; i++)
                v += k[r][i] * s[i][j];
            ks[r][j] = v;
        }
    for (int r = 0; r < BT_KF_NSTATE; r++)
        for (int c = 0; c < BT_KF_NSTATE; c++) {
            double v = 0;
            for (int j = 0; j < BT_KF_NDIM; j++)
                v += ks[r][j] * k[c][j];
            kf->cov[r][c] -= v;
        }
    return 0;
}
