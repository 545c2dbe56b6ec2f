/*
 * commands.h - the subcommands of the `bitfalcon` program.
 *
 * Each command is `int bf_cmd_NAME(int argc, char **argv)` with argv[0] the
 * command's own name ("detect") and returns the process exit status. Adding
 * a command: declare it here and add its one line to the table in main.c.
 */
#ifndef BF_APPS_COMMANDS_H
#define BF_APPS_COMMANDS_H

/* Exit statuses shared by every command (documented in `bitfalcon --help`). */
#define BF_EXIT_OK 0          /* everything succeeded */
#define BF_EXIT_SOME_FAILED 1 /* some inputs failed; the others' results were written */
#define BF_EXIT_USAGE 2       /* bad command line, or the model could not be loaded */

int bf_cmd_detect(int argc, char **argv);
int bf_cmd_eval(int argc, char **argv);
int bf_cmd_camera(int argc, char **argv);
int bf_cmd_bench(int argc, char **argv);

#endif /* BF_APPS_COMMANDS_H */
