/*
 * report.h - what the commands print on stderr: failures and progress.
 *
 * A failure is one line, "bitfalcon: PATH: CAUSE", so scripts can grep it.
 * Progress ("[12/340] photos/cat.jpg") is drawn on one rewritten line, and
 * only when stderr is a terminal: a log file or a pipe gets failures only.
 */
#ifndef BF_APPS_REPORT_H
#define BF_APPS_REPORT_H

#include <stddef.h>

#if defined(__GNUC__)
#define BF_REPORT_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define BF_REPORT_PRINTF(f, a)
#endif

/* "bitfalcon: PATH: CAUSE" (clears a progress line first). */
void bf_report_failure(const char *path, const char *fmt, ...) BF_REPORT_PRINTF(2, 3);
/* Like bf_report_failure with a ready message, which may already start with
 * "PATH: " (the engine's model errors do); the path is then not repeated. */
void bf_report_path_message(const char *path, const char *message);
/* "bitfalcon: MESSAGE" */
void bf_report_message(const char *fmt, ...) BF_REPORT_PRINTF(1, 2);

/* Progress, shown only if stderr is a terminal. */
void bf_report_progress(size_t done, size_t total, const char *path);
void bf_report_progress_end(void);
int bf_report_is_tty(void);

#endif /* BF_APPS_REPORT_H */
