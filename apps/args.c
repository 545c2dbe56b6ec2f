/* args.c - see args.h. */
#include "args.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void bf_args_init(bf_args *a, int argc, char **argv)
{
    a->argc = argc;
    a->argv = argv;
    a->i = 1; /* argv[0] is the command name */
    a->only_positional = 0;
    a->cmd = argc > 0 ? argv[0] : "?";
    a->opt_text = "";
}

int bf_args_next(bf_args *a, const bf_opt *opts, const char **value)
{
    if (a->i >= a->argc)
        return BF_ARG_END;
    const char *arg = a->argv[a->i++];
    if (a->only_positional || arg[0] != '-' || arg[1] == '\0') {
        *value = arg;
        return BF_ARG_POSITIONAL;
    }
    if (strcmp(arg, "--") == 0) {
        a->only_positional = 1;
        return bf_args_next(a, opts, value);
    }
    a->opt_text = arg;
    const bf_opt *o = NULL;
    const char *inline_value = NULL;
    if (arg[1] == '-') {
        const char *name = arg + 2;
        const char *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        for (const bf_opt *p = opts; p->name; p++)
            if (strlen(p->name) == len && strncmp(p->name, name, len) == 0)
                o = p;
        if (o && eq)
            inline_value = eq + 1;
    } else {
        for (const bf_opt *p = opts; p->name; p++)
            if (p->short_name && p->short_name == arg[1])
                o = p;
        if (o && arg[2] != '\0') {
            if (!o->has_value)
                o = NULL; /* "-xy" bundles are not supported */
            else
                inline_value = arg + 2;
        }
    }
    if (!o) {
        fprintf(stderr, "bitfalcon %s: unknown option '%s' (see 'bitfalcon %s --help')\n", a->cmd,
                arg, a->cmd);
        return BF_ARG_ERROR;
    }
    if (!o->has_value) {
        if (inline_value) {
            fprintf(stderr, "bitfalcon %s: option '--%s' takes no value\n", a->cmd, o->name);
            return BF_ARG_ERROR;
        }
        *value = NULL;
        return o->id;
    }
    if (!inline_value) {
        if (a->i >= a->argc) {
            fprintf(stderr, "bitfalcon %s: option '%s' needs a value\n", a->cmd, arg);
            return BF_ARG_ERROR;
        }
        inline_value = a->argv[a->i++];
    }
    *value = inline_value;
    return o->id;
}

int bf_args_int(const bf_args *a, const char *s, long min, long max, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end != '\0' || errno == ERANGE || v < min || v > max) {
        fprintf(stderr, "bitfalcon %s: %s: '%s' is not an integer in %ld..%ld\n", a->cmd,
                a->opt_text, s, min, max);
        return -1;
    }
    *out = (int)v;
    return 0;
}

int bf_args_float(const bf_args *a, const char *s, double min, double max, float *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || errno == ERANGE || !isfinite(v) || v < min || v > max) {
        fprintf(stderr, "bitfalcon %s: %s: '%s' is not a number in %g..%g\n", a->cmd, a->opt_text,
                s, min, max);
        return -1;
    }
    *out = (float)v;
    return 0;
}
