/*
 * track_opts.h - the tracker's command-line options, shared by `detect` and
 * `camera`: --track-high, --track-low, --new-track, --track-buffer, --match
 * (Ultralytics' bytetrack.yaml names: track_high_thresh, track_low_thresh,
 * new_track_thresh, track_buffer, match_thresh; the same defaults).
 *
 * Each of them implies --track, as --mot does: a threshold for a tracker that
 * is not run would be silently ignored otherwise.
 */
#ifndef BF_APPS_TRACK_OPTS_H
#define BF_APPS_TRACK_OPTS_H

#include <stdio.h>

#include "args.h"
#include "bytetrack.h"

/* Option ids, above those of the commands (which stay below 200). */
enum { BF_OPT_TRACK_HIGH = 200, BF_OPT_TRACK_LOW, BF_OPT_NEW_TRACK, BF_OPT_TRACK_BUFFER,
       BF_OPT_MATCH };

/* The entries for a command's bf_opt table. */
#define BF_TRACK_OPT_ENTRIES                                                                      \
    {"track-high", 0, 1, BF_OPT_TRACK_HIGH}, {"track-low", 0, 1, BF_OPT_TRACK_LOW},               \
        {"new-track", 0, 1, BF_OPT_NEW_TRACK}, {"track-buffer", 0, 1, BF_OPT_TRACK_BUFFER},       \
        {"match", 0, 1, BF_OPT_MATCH}

/* Prints their lines of a command's --help, the text from column `column`
 * (as the command's other options). */
void bf_track_options_help(FILE *f, int column);

/* When id is one of the options above: parses v into cfg (the error printed
 * on failure, *bad set) and returns 1; otherwise returns 0 and touches
 * nothing. */
int bf_track_option(const bf_args *a, int id, const char *v, bt_config *cfg, int *bad);

/* After the command line: the checks between options (--track-low above
 * --track-high). 0, or -1 with the error printed. */
int bf_track_options_check(const bf_args *a, const bt_config *cfg);

#endif /* BF_APPS_TRACK_OPTS_H */
