#!/usr/bin/env python3
"""Reference values for test_track.c's Kalman test: ByteTrack's
KalmanFilterXYAH (yolox/tracker/kalman_filter.py, also Ultralytics'
trackers/utils/kalman_filter.py) written out in numpy, run on the scripted
sequence below, printed as C arrays. scipy's cho_factor/cho_solve is replaced
by numpy.linalg.solve (the same K = P H' S^-1). Run: python3 kalman_ref.py
"""
import numpy as np

NDIM, DT = 4, 1.0
F = np.eye(2 * NDIM)
for i in range(NDIM):
    F[i, NDIM + i] = DT
H = np.eye(NDIM, 2 * NDIM)
WP, WV = 1.0 / 20, 1.0 / 160


def initiate(m):
    mean = np.r_[m, np.zeros_like(m)]
    std = [2 * WP * m[3], 2 * WP * m[3], 1e-2, 2 * WP * m[3],
           10 * WV * m[3], 10 * WV * m[3], 1e-5, 10 * WV * m[3]]
    return mean, np.diag(np.square(std))


def predict(mean, cov):
    std_pos = [WP * mean[3], WP * mean[3], 1e-2, WP * mean[3]]
    std_vel = [WV * mean[3], WV * mean[3], 1e-5, WV * mean[3]]
    q = np.diag(np.square(np.r_[std_pos, std_vel]))
    return F @ mean, np.linalg.multi_dot((F, cov, F.T)) + q


def project(mean, cov):
    std = [WP * mean[3], WP * mean[3], 1e-1, WP * mean[3]]
    return H @ mean, np.linalg.multi_dot((H, cov, H.T)) + np.diag(np.square(std))


def update(mean, cov, m):
    pm, s = project(mean, cov)
    k = np.linalg.solve(s, (cov @ H.T).T).T
    new_mean = mean + (np.asarray(m) - pm) @ k.T
    return new_mean, cov - np.linalg.multi_dot((k, s, k.T))


def carr(name, a):
    vals = ", ".join("%.17g" % v for v in np.ravel(a))
    print("static const double %s[%d] = {%s};" % (name, np.size(a), vals))


mean, cov = initiate(np.array([100.0, 50.0, 0.5, 80.0]))
mean, cov = predict(mean, cov)
carr("REF_PRED1_MEAN", mean)
carr("REF_PRED1_COV", cov)
pm, ps = project(mean, cov)
carr("REF_PROJ1_MEAN", pm)
carr("REF_PROJ1_COV", ps)
mean, cov = update(mean, cov, [104.0, 52.0, 0.52, 82.0])
carr("REF_UPD1_MEAN", mean)
carr("REF_UPD1_COV", cov)
for m in ([108.5, 54.0, 0.51, 83.0], [113.0, 56.5, 0.5, 84.5], [117.0, 58.0, 0.5, 85.0]):
    mean, cov = predict(mean, cov)
    mean, cov = update(mean, cov, m)
mean, cov = predict(mean, cov)
mean, cov = predict(mean, cov)
carr("REF_END_MEAN", mean)
carr("REF_END_COV", cov)
