/*
 * kalman.h - the constant-velocity Kalman filter of ByteTrack (its
 * KalmanFilterXYAH, as in Ultralytics' trackers/utils/kalman_filter.py).
 *
 * State (8): box centre x, y, aspect a = w / h, height h, and their
 * velocities. Measurement (4): x, y, a, h. The process and measurement noise
 * scale with the box height (std_weight_position 1/20, std_weight_velocity
 * 1/160), so a large box may move more pixels per frame than a small one.
 * Pure functions on caller-owned arrays; no state, no allocation.
 */
#ifndef BF_TRACK_KALMAN_H
#define BF_TRACK_KALMAN_H

#define BT_KF_NDIM 4
#define BT_KF_NSTATE 8

typedef struct bt_kalman {
    double mean[BT_KF_NSTATE];
    double cov[BT_KF_NSTATE][BT_KF_NSTATE];
} bt_kalman;

/* A new track from one measurement {x, y, a, h}: velocities 0, the
 * uncertainty from the height. */
void bt_kalman_initiate(bt_kalman *kf, const double meas[BT_KF_NDIM]);

/* One frame ahead: mean = F mean, cov = F cov F' + Q(h). */
void bt_kalman_predict(bt_kalman *kf);

/* The measurement space view: H mean and H cov H' + R(h). */
void bt_kalman_project(const bt_kalman *kf, double mean[BT_KF_NDIM],
                       double cov[BT_KF_NDIM][BT_KF_NDIM]);

/* Corrects with a measurement {x, y, a, h}. 0, or -1 when the innovation
 * covariance is not positive definite (a NaN or a degenerate state: the
 * state is then left unchanged). */
int bt_kalman_update(bt_kalman *kf, const double meas[BT_KF_NDIM]);

#endif /* BF_TRACK_KALMAN_H */
