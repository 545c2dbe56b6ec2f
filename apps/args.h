/*
 * args.h - a small command-line option parser for the subcommands.
 *
 * Accepts "--name value", "--name=value", "-x value", "-xvalue", flags
 * without values, options anywhere among the positional arguments, and "--"
 * to end options (so a file named "-a.jpg" can be given). Errors are printed
 * as one line "bitfalcon CMD: ..." on stderr; the caller then exits with
 * BF_EXIT_USAGE.
 */
#ifndef BF_APPS_ARGS_H
#define BF_APPS_ARGS_H

typedef struct bf_opt {
    const char *name; /* long name without "--" */
    char short_name;  /* 0 for none */
    int has_value;
    int id;           /* returned by bf_args_next */
} bf_opt;

enum { BF_ARG_END = -1, BF_ARG_ERROR = -2, BF_ARG_POSITIONAL = -3 };

typedef struct bf_args {
    int argc;
    char **argv;
    int i;
    int only_positional;
    const char *cmd; /* for messages */
    const char *opt_text; /* the option as written, for value errors */
} bf_args;

void bf_args_init(bf_args *a, int argc, char **argv);
/* The next option's id, BF_ARG_POSITIONAL (*value = the argument), BF_ARG_END
 * or BF_ARG_ERROR. `opts` ends with an entry whose name is NULL. */
int bf_args_next(bf_args *a, const bf_opt *opts, const char **value);

/* Strict number parsing: the whole string, within [min, max]. On failure
 * prints "bitfalcon CMD: OPTION: ..." and returns -1. */
int bf_args_int(const bf_args *a, const char *s, long min, long max, int *out);
int bf_args_float(const bf_args *a, const char *s, double min, double max, float *out);

#endif /* BF_APPS_ARGS_H */
