/* report.c - see report.h. */
#include "report.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int tty = -1;          /* unknown until first asked */
static int progress_shown = 0;

int bf_report_is_tty(void)
{
    if (tty < 0)
        tty = isatty(STDERR_FILENO) ? 1 : 0;
    return tty;
}

static void clear_progress(void)
{
    if (progress_shown) {
        fputs("\r\033[K", stderr);
        progress_shown = 0;
    }
}

void bf_report_failure(const char *path, const char *fmt, ...)
{
    clear_progress();
    fprintf(stderr, "bitfalcon: %s: ", path);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void bf_report_path_message(const char *path, const char *message)
{
    size_t n = strlen(path);
    if (strncmp(message, path, n) == 0 && message[n] == ':')
        bf_report_message("%s", message);
    else
        bf_report_failure(path, "%s", message);
}

void bf_report_message(const char *fmt, ...)
{
    clear_progress();
    fputs("bitfalcon: ", stderr);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void bf_report_progress(size_t done, size_t total, const char *path)
{
    if (!bf_report_is_tty())
        return;
    /* Keep the line short enough not to wrap on an 80-column terminal. */
    size_t len = strlen(path);
    const char *shown = len > 50 ? path + len - 50 : path;
    fprintf(stderr, "\r\033[K[%zu/%zu] %s%s", done, total, len > 50 ? "..." : "", shown);
    fflush(stderr);
    progress_shown = 1;
}

void bf_report_progress_end(void)
{
    clear_progress();
}
