/* track_opts.c - see track_opts.h. */
#include "track_opts.h"

#include <stdio.h>

int bf_track_option(const bf_args *a, int id, const char *v, bt_config *cfg, int *bad)
{
    switch (id) {
    /* Scores and the cost 1 - IoU x score all lie in 0..1: a value outside
     * would make a stage take everything or nothing, so it is a typo. */
    case BF_OPT_TRACK_HIGH: *bad = bf_args_float(a, v, 0.0, 1.0, &cfg->track_high) != 0; return 1;
    case BF_OPT_TRACK_LOW: *bad = bf_args_float(a, v, 0.0, 1.0, &cfg->track_low) != 0; return 1;
    case BF_OPT_NEW_TRACK: *bad = bf_args_float(a, v, 0.0, 1.0, &cfg->new_track) != 0; return 1;
    case BF_OPT_MATCH: *bad = bf_args_float(a, v, 0.0, 1.0, &cfg->match) != 0; return 1;
    /* Frames of the detector's sequence; a million is hours of video. */
    case BF_OPT_TRACK_BUFFER: *bad = bf_args_int(a, v, 0, 1000000, &cfg->buffer) != 0; return 1;
    default: return 0;
    }
}

void bf_track_options_help(FILE *f, int column)
{
    static const char *const lines[][2] = {
        {"--track-high X", "tracking: boxes scoring >= X are matched first (default 0.5)"},
        {"--track-low X", "tracking: boxes scoring X..track-high only extend tracks (0.1)"},
        {"--new-track X", "tracking: a new track needs a box scoring >= X (default 0.6)"},
        {"--track-buffer N", "tracking: a lost track is kept N detected frames (default 30)"},
        {"--match X", "tracking: cost limit 1 - IoU x score of a match (default 0.8)"},
        {"", "(each of these five implies --track; docs/video.md)"},
    };
    int width = column - 6;
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
        fprintf(f, "      %-*s %s\n", width - 1, lines[i][0], lines[i][1]); /* a longer name pushes it */
}

int bf_track_options_check(const bf_args *a, const bt_config *cfg)
{
    /* The second stage takes track_low < score < track_high: reversed, it
     * would be empty and the user's intent unclear (bt_create refuses it). */
    if (cfg->track_low > cfg->track_high) {
        fprintf(stderr, "bitfalcon %s: --track-low %g is above --track-high %g\n", a->cmd,
                (double)cfg->track_low, (double)cfg->track_high);
        return -1;
    }
    return 0;
}
