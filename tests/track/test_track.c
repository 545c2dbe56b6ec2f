/*
 * test_track.c - the tracker's parts (src/track/): the Kalman filter against
 * hand-worked values and ByteTrack's numpy filter (kalman_ref.py), the
 * assignment against brute force, ByteTrack on scripted detections.
 *
 *   test_track kalman | assign | tracker
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "assign.h"
#include "bytetrack.h"
#include "kalman.h"

static int close_to(double got, double want, double rel)
{
    return fabs(got - want) <= rel * fmax(1.0, fabs(want));
}

/* --- Kalman ---------------------------------------------------------------- */

/* Printed by `python3 kalman_ref.py` (numpy, ByteTrack's KalmanFilterXYAH). */
static const double REF_PRED1_MEAN[8] = {100, 50, 0.5, 80, 0, 0, 0, 0};
static const double REF_PRED1_COV[64] = {105, 0, 0, 0, 25, 0, 0, 0, 0, 105, 0, 0, 0, 25, 0, 0, 0, 0, 0.00020000010000000002, 0, 0, 0, 1.0000000000000002e-10, 0, 0, 0, 0, 105, 0, 0, 0, 25, 25, 0, 0, 0, 25.25, 0, 0, 0, 0, 25, 0, 0, 0, 25.25, 0, 0, 0, 0, 1.0000000000000002e-10, 0, 0, 0, 2.0000000000000003e-10, 0, 0, 0, 0, 25, 0, 0, 0, 25.25};
static const double REF_PROJ1_MEAN[4] = {100, 50, 0.5, 80};
static const double REF_PROJ1_COV[16] = {121, 0, 0, 0, 0, 121, 0, 0, 0, 0, 0.010200000100000002, 0, 0, 0, 0, 121};
static const double REF_UPD1_MEAN[8] = {103.47107438016529, 51.735537190082646, 0.50039215705497886, 81.735537190082638, 0.82644628099173556, 0.41322314049586778, 1.9607842945021166e-10, 0.41322314049586778};
static const double REF_UPD1_COV[64] = {13.884297520661164, 0, 0, 0, 3.3057851239669418, 0, 0, 0, 0, 13.884297520661164, 0, 0, 0, 3.3057851239669418, 0, 0, 0, 0, 0.00019607852748942622, 0, 0, 0, 9.8039214725105753e-11, 0, 0, 0, 0, 13.884297520661164, 0, 0, 0, 3.3057851239669418, 3.3057851239669418, 0, 0, 0, 20.084710743801651, 0, 0, 0, 0, 3.3057851239669418, 0, 0, 0, 20.084710743801651, 0, 0, 0, 0, 9.8039214725105753e-11, 0, 0, 0, 1.9999999901960789e-10, 0, 0, 0, 0, 3.3057851239669418, 0, 0, 0, 20.084710743801651};
static const double REF_END_MEAN[8] = {123.21542445026614, 61.039423866736925, 0.50061443713123854, 86.860277147016475, 3.3542046794942371, 1.5850886204730552, 3.768175437305264e-10, 0.90368730772836003};
static const double REF_END_COV[64] = {89.312009160578654, 0, 0, 0, 16.371934475158682, 0, 0, 0, 0, 89.312009160578654, 0, 0, 0, 16.371934475158682, 0, 0, 0, 0, 0.00065174077445469584, 0, 0, 0, 2.0237707099651062e-09, 0, 0, 0, 0, 89.312009160578654, 0, 0, 0, 16.371934475158682, 16.371934475158682, 0, 0, 0, 6.841556949861137, 0, 0, 0, 0, 16.371934475158682, 0, 0, 0, 6.841556949861137, 0, 0, 0, 0, 2.0237707099651062e-09, 0, 0, 0, 6.9999986756886748e-10, 0, 0, 0, 0, 16.371934475158682, 0, 0, 0, 6.841556949861137};

static void check_state(const char *what, const bt_kalman *kf, const double *mean, const double *cov)
{
    for (int i = 0; i < 8; i++)
        CHECK(close_to(kf->mean[i], mean[i], 1e-9), "%s mean[%d] = %.17g, numpy %.17g", what, i,
              kf->mean[i], mean[i]);
    for (int i = 0; i < 8; i++)
        for (int j = 0; j < 8; j++)
            CHECK(close_to(kf->cov[i][j], cov[i * 8 + j], 1e-9), "%s cov[%d][%d] = %.17g, numpy %.17g",
                  what, i, j, kf->cov[i][j], cov[i * 8 + j]);
}

static void test_kalman(void)
{
    bt_kalman kf;
    const double m0[4] = {100, 50, 0.5, 80};
    bt_kalman_initiate(&kf, m0);
    /* By hand, h = 80: position std 2 * 80 / 20 = 8 (var 64), velocity std
     * 10 * 80 / 160 = 5 (var 25), aspect 1e-2 and 1e-5. */
    CHECK(kf.cov[0][0] == 64 && kf.cov[1][1] == 64 && kf.cov[3][3] == 64, "initiate position var %g",
          kf.cov[0][0]);
    CHECK(kf.cov[4][4] == 25 && kf.cov[7][7] == 25, "initiate velocity var %g", kf.cov[4][4]);
    CHECK(close_to(kf.cov[2][2], 1e-4, 1e-12) && close_to(kf.cov[6][6], 1e-10, 1e-12), "aspect vars");
    CHECK(kf.cov[0][4] == 0 && kf.mean[4] == 0 && kf.mean[0] == 100, "initiate: no velocity");
    bt_kalman_predict(&kf);
    /* F P F' + Q: 64 + 25 + (80/20)^2 = 105; cross 25; velocity 25 + (80/160)^2 = 25.25. */
    CHECK(close_to(kf.cov[0][0], 105, 1e-12) && close_to(kf.cov[0][4], 25, 1e-12) &&
              close_to(kf.cov[4][0], 25, 1e-12) && close_to(kf.cov[4][4], 25.25, 1e-12),
          "predict by hand: %g %g %g", kf.cov[0][0], kf.cov[0][4], kf.cov[4][4]);
    check_state("predict 1", &kf, REF_PRED1_MEAN, REF_PRED1_COV);
    double pm[4], ps[4][4];
    bt_kalman_project(&kf, pm, ps);
    /* 105 + 16 = 121 */
    CHECK(close_to(ps[0][0], 121, 1e-12), "project by hand %g", ps[0][0]);
    for (int i = 0; i < 4; i++) {
        CHECK(close_to(pm[i], REF_PROJ1_MEAN[i], 1e-12), "project mean[%d]", i);
        for (int j = 0; j < 4; j++)
            CHECK(close_to(ps[i][j], REF_PROJ1_COV[i * 4 + j], 1e-12), "project cov[%d][%d]", i, j);
    }
    const double m1[4] = {104, 52, 0.52, 82};
    CHECK(bt_kalman_update(&kf, m1) == 0, "update failed");
    /* x gain 105 / 121: 100 + 4 * 105 / 121 */
    CHECK(close_to(kf.mean[0], 100 + 420.0 / 121, 1e-12), "update x by hand %.17g", kf.mean[0]);
    CHECK(close_to(kf.mean[4], 4 * 25.0 / 121, 1e-12), "update vx by hand %.17g", kf.mean[4]);
    check_state("update 1", &kf, REF_UPD1_MEAN, REF_UPD1_COV);
    const double ms[3][4] = {{108.5, 54.0, 0.51, 83.0}, {113.0, 56.5, 0.5, 84.5}, {117.0, 58.0, 0.5, 85.0}};
    for (int k = 0; k < 3; k++) {
        bt_kalman_predict(&kf);
        CHECK(bt_kalman_update(&kf, ms[k]) == 0, "update %d failed", k + 2);
    }
    bt_kalman_predict(&kf);
    bt_kalman_predict(&kf);
    check_state("end", &kf, REF_END_MEAN, REF_END_COV);
    /* A NaN measurement: refused, state unchanged. */
    bt_kalman before = kf;
    const double bad[4] = {NAN, 1, 1, NAN};
    kf.cov[0][0] = NAN;
    CHECK(bt_kalman_update(&kf, bad) == -1, "a NaN covariance was accepted");
    kf.cov[0][0] = before.cov[0][0];
    CHECK(memcmp(&kf, &before, sizeof kf) == 0, "a refused update changed the state");
}

/* --- assignment ---------------------------------------------------------- */

/* The best of every partial matching: each row takes a free column or none. */
static double brute(const float *c, int rows, int cols, double limit, int r, unsigned used, int matched)
{
    if (r == rows) {
        int free_cols = cols - matched;
        return limit / 2 * free_cols;
    }
    double best = limit / 2 + brute(c, rows, cols, limit, r + 1, used, matched); /* row r unmatched */
    for (int j = 0; j < cols; j++) {
        if (used & (1u << j))
            continue;
        double v = c[r * cols + j] + brute(c, rows, cols, limit, r + 1, used | (1u << j), matched + 1);
        if (v < best)
            best = v;
    }
    return best;
}

static void test_assign(void)
{
    bt_assign_work w = {0};
    /* By hand: [[0.1, 0.9], [0.2, 0.3]] limit 0.8: 0-0 and 1-1 (0.4 total);
     * limit 0.25: only 0-0 (0.3 + 2 * 0.125 beats 0.1 + 0.2 + ... ) */
    const float hand[4] = {0.1f, 0.9f, 0.2f, 0.3f};
    int rc[2], cr[2];
    CHECK(bt_assign(hand, 2, 2, 0.8, rc, cr, &w) == 0 && rc[0] == 0 && rc[1] == 1 && cr[0] == 0 && cr[1] == 1,
          "hand 0.8: %d %d", rc[0], rc[1]);
    CHECK(bt_assign(hand, 2, 2, 0.25, rc, cr, &w) == 0 && rc[0] == 0 && rc[1] == -1 && cr[1] == -1,
          "hand 0.25: %d %d", rc[0], rc[1]);
    /* The greedy choice (row 0 takes its cheapest, 0.1) is not the optimum here. */
    const float trap[4] = {0.1f, 0.2f, 0.15f, 0.9f};
    CHECK(bt_assign(trap, 2, 2, 10, rc, cr, &w) == 0 && rc[0] == 1 && rc[1] == 0, "trap: %d %d", rc[0], rc[1]);
    CHECK(bt_assign(hand, 0, 2, 0.8, NULL, cr, &w) == 0 && cr[0] == -1 && cr[1] == -1, "0 rows");

    unsigned seed = 13;
    int cases = 0;
    for (int it = 0; it < 3000; it++) {
        seed = seed * 1103515245u + 12345u;
        int rows = (int)((seed >> 16) % 7), cols = (int)((seed >> 8) % 7);
        const double limits[4] = {0.3, 0.5, 0.8, 1e6};
        double limit = limits[(seed >> 4) % 4];
        float c[49];
        for (int i = 0; i < rows * cols; i++) {
            seed = seed * 1103515245u + 12345u;
            /* coarse values make ties, which the optimum must survive */
            c[i] = (it % 3 == 0) ? (float)((seed >> 16) % 5) / 4.0f : (float)((seed >> 8) % 100000) / 80000.0f;
        }
        int r2c[7], c2r[7];
        CHECK(bt_assign(c, rows, cols, limit, r2c, c2r, &w) == 0, "assign failed");
        double got = 0;
        int matched = 0;
        for (int r = 0; r < rows; r++) {
            if (r2c[r] < 0) {
                got += limit / 2;
                continue;
            }
            CHECK(r2c[r] < cols && c2r[r2c[r]] == r, "case %d: row %d -> %d not mirrored", it, r, r2c[r]);
            CHECK(c[r * cols + r2c[r]] <= limit, "case %d: a pair over the limit", it);
            got += c[r * cols + r2c[r]];
            matched++;
        }
        for (int j = 0; j < cols; j++)
            if (c2r[j] < 0)
                got += limit / 2;
        int col_matched = 0;
        for (int j = 0; j < cols; j++)
            col_matched += c2r[j] >= 0;
        CHECK(col_matched == matched, "case %d: %d rows and %d columns matched", it, matched, col_matched);
        double want = brute(c, rows, cols, limit, 0, 0, 0);
        CHECK(fabs(got - want) < 1e-6, "case %d (%dx%d, limit %g): cost %.9g, brute force %.9g", it, rows,
              cols, limit, got, want);
        cases++;
    }
    printf("assign: %d random cases equal brute force\n", cases);
    bt_assign_work_free(&w);
}

/* --- the tracker ----------------------------------------------------------- */

static bt_box box(float cx, float cy, float w, float h, float score)
{
    bt_box b = {cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2, score, 0};
    return b;
}

static bt_tracker *tracker(void)
{
    bt_config c;
    bt_config_default(&c);
    bt_tracker *t = NULL;
    CHECK(bt_create(&c, &t) == BT_OK, "bt_create");
    if (!t)
        exit(1);
    return t;
}

static long long step1(bt_tracker *t, bt_box b)
{
    long long id = -2;
    CHECK(bt_update(t, &b, 1, &id) == BT_OK, "update");
    return id;
}

static void test_tracker(void)
{
    bt_config c;
    bt_config_default(&c);
    CHECK(c.track_high == 0.5f && c.track_low == 0.1f && c.new_track == 0.6f && c.match == 0.8f &&
              c.buffer == 30 && c.fuse_score == 1,
          "defaults are not bytetrack.yaml's");
    bt_tracker *t = NULL;
    bt_config bad = c;
    bad.track_low = 0.7f;
    CHECK(bt_create(&bad, &t) == BT_ERR_ARG && !t, "track_low > track_high accepted");
    bad = c;
    bad.buffer = -1;
    CHECK(bt_create(&bad, &t) == BT_ERR_ARG, "a negative buffer accepted");

    /* One object moving 4 px right and 1 down per frame, growing slowly,
     * scores wandering over 0.55..0.95: one ID, born on frame 1, for 120 frames. */
    t = tracker();
    long long first = -1;
    int same = 0;
    for (int f = 0; f < 120; f++) {
        float s = 0.75f + 0.2f * sinf((float)f * 0.7f);
        long long id = step1(t, box(60 + 4.0f * f, 80 + 1.0f * f, 40 + 0.1f * f, 90 + 0.2f * f, s));
        if (f == 0)
            first = id;
        same += id == first;
    }
    CHECK(first == 1 && same == 120, "moving object: id %lld in %d of 120 frames", first, same);
    bt_destroy(t);

    /* Birth only at new_track: 0.55 (high, but under 0.6) for 10 frames makes
     * no track; then 0.65 from frame 11 is unconfirmed on its first frame
     * (-1) and gets an ID on the second. */
    t = tracker();
    for (int f = 0; f < 10; f++)
        CHECK(step1(t, box(200, 200, 50, 50, 0.55f)) == -1, "a 0.55 box got an id (frame %d)", f + 1);
    CHECK(bt_tracks(t, NULL, 0) == 0, "a 0.55 box started a track");
    CHECK(step1(t, box(200, 200, 50, 50, 0.65f)) == -1, "a track confirmed on its first frame (not frame 1)");
    bt_track_info info[4];
    CHECK(bt_tracks(t, info, 4) == 1 && info[0].confirmed == 0 && info[0].state == BT_TRACKED,
          "the 0.65 box did not start an unconfirmed track");
    long long id2 = step1(t, box(201, 200, 50, 50, 0.65f));
    CHECK(id2 == 1, "second sighting: id %lld, wanted 1", id2);
    /* An unconfirmed track that is not seen again dies, and its ID is spent. */
    bt_box two[2] = {box(201, 200, 50, 50, 0.9f), box(500, 100, 40, 40, 0.9f)};
    long long ids[2];
    bt_update(t, two, 2, ids);
    CHECK(ids[0] == 1 && ids[1] == -1, "frame 13: ids %lld %lld", ids[0], ids[1]);
    CHECK(step1(t, box(201, 200, 50, 50, 0.9f)) == 1, "frame 14");
    CHECK(bt_tracks(t, info, 4) == 1, "the unconfirmed track was kept after a miss");
    bt_update(t, two, 2, ids);
    bt_update(t, two, 2, ids);
    CHECK(ids[0] == 1 && ids[1] == 3, "a new track after a dead one: id %lld, wanted 3", ids[1]);
    bt_destroy(t);

    /* Low-score boxes (0.1 < s < 0.5) never start a track ... */
    t = tracker();
    for (int f = 0; f < 10; f++)
        CHECK(step1(t, box(300, 300, 60, 60, 0.3f)) == -1, "a low box got an id");
    CHECK(bt_tracks(t, NULL, 0) == 0, "a low box started a track");
    bt_destroy(t);
    /* ... but extend one (stage 2): 0.9 for 5 frames, then 0.3 for 20 frames, then
     * 0.08 (under track_low: ignored, the track goes lost), then 0.9 again. */
    t = tracker();
    for (int f = 0; f < 5; f++)
        CHECK(step1(t, box(300 + 2.0f * f, 300, 60, 60, 0.9f)) == 1, "high start");
    for (int f = 5; f < 25; f++)
        CHECK(step1(t, box(300 + 2.0f * f, 300, 60, 60, 0.3f)) == 1, "a low box did not extend the track (frame %d)",
              f + 1);
    CHECK(step1(t, box(350, 300, 60, 60, 0.08f)) == -1, "a box under track_low was used");
    CHECK(bt_tracks(t, info, 4) == 1 && info[0].state == BT_LOST, "unmatched track not lost");
    CHECK(step1(t, box(354, 300, 60, 60, 0.9f)) == 1, "not recovered after one frame");
    /* A low box far from any track is not a track either. */
    bt_box pair[2] = {box(356, 300, 60, 60, 0.9f), box(40, 40, 30, 30, 0.4f)};
    bt_update(t, pair, 2, ids);
    CHECK(ids[0] == 1 && ids[1] == -1 && bt_tracks(t, NULL, 0) == 1, "low box far away: %lld %lld", ids[0], ids[1]);
    bt_destroy(t);

    /* Lost tracks are kept 30 frames: seen on frames 1-10, gone 30 frames,
     * back on frame 41: the same ID. Gone 31 frames: a new track. Moving at
     * 3 px/frame through the gap, so the prediction has to carry it. */
    for (int gap = 30; gap <= 31; gap++) {
        t = tracker();
        for (int f = 0; f < 10; f++)
            step1(t, box(100 + 3.0f * f, 200, 50, 100, 0.9f));
        for (int f = 10; f < 10 + gap; f++) {
            long long none = -2;
            CHECK(bt_update(t, NULL, 0, &none) == BT_OK, "empty frame");
            size_t nt = bt_tracks(t, info, 4);
            if (f < 10 + 30)
                CHECK(nt == 1 && info[0].state == BT_LOST && info[0].id == 1, "frame %d: lost track not kept", f + 1);
            else
                CHECK(nt == 0, "frame %d: a track lost 31 frames kept", f + 1);
        }
        int f = 10 + gap;
        long long back = step1(t, box(100 + 3.0f * f, 200, 50, 100, 0.9f));
        long long again = step1(t, box(100 + 3.0f * (f + 1), 200, 50, 100, 0.9f));
        if (gap == 30)
            CHECK(back == 1 && again == 1, "gap 30: recovered as %lld, %lld (wanted 1)", back, again);
        else
            CHECK(back == -1 && again == 2, "gap 31: %lld, %lld (wanted -1 then a new id 2)", back, again);
        bt_destroy(t);
    }

    /* Two objects crossing: A left to right, B right to left, 8 px apart in y,
     * 80 frames; while they overlap most, the detector (NMS) sees only the
     * front one (A). At most one ID switch over both. */
    t = tracker();
    long long last[2] = {-1, -1};
    int switches = 0, seen[2] = {0, 0};
    for (int f = 0; f < 80; f++) {
        float ax = 50 + 5.0f * f, bx = 450 - 5.0f * f;
        bt_box b[2] = {box(ax, 200, 40, 100, 0.85f), box(bx, 208, 40, 100, 0.8f)};
        size_t nb = fabsf(ax - bx) < 12 ? 1 : 2;
        bt_update(t, b, nb, ids);
        for (size_t k = 0; k < nb; k++) {
            if (ids[k] < 0)
                continue;
            seen[k]++;
            if (last[k] >= 0 && ids[k] != last[k])
                switches++;
            last[k] = ids[k];
        }
    }
    CHECK(switches <= 1 && seen[0] >= 75 && seen[1] >= 70, "crossing: %d switches, tracked %d and %d frames",
          switches, seen[0], seen[1]);
    printf("crossing: %d ID switches (ids now %lld, %lld)\n", switches, last[0], last[1]);
    /* Boxes with NaN or no area are ignored, not tracked. */
    bt_box junk[3] = {box(10, 10, 0, 10, 0.9f), box(NAN, 10, 10, 10, 0.9f), box(20, 20, 10, 10, NAN)};
    long long jid[3];
    CHECK(bt_update(t, junk, 3, jid) == BT_OK && jid[0] == -1 && jid[1] == -1 && jid[2] == -1, "junk boxes tracked");
    bt_destroy(t);
}

int main(int argc, char **argv)
{
    const char *what = argc > 1 ? argv[1] : "all";
    if (!strcmp(what, "kalman") || !strcmp(what, "all"))
        test_kalman();
    if (!strcmp(what, "assign") || !strcmp(what, "all"))
        test_assign();
    if (!strcmp(what, "tracker") || !strcmp(what, "all"))
        test_tracker();
    return check_finish("test_track");
}
