/*
 * main.c - the `bitfalcon` program: a table of subcommands.
 *
 *     bitfalcon detect -m models/bitfalcon-v8n.bfm --draw photos/
 *     bitfalcon eval --images val/images --labels val/labels
 *
 * Each command parses its own options (apps/cmd_*.c). Adding one is one
 * line in `commands` below plus its declaration in commands.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bitfalcon.h"
#include "commands.h"

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"detect", bf_cmd_detect, "detect objects in images and folders of images"},
    {"eval", bf_cmd_eval, "COCO mAP of the model (or of a detections file) on labeled images"},
    {"camera", bf_cmd_camera, "live detection on a V4L2 camera, in a window or as JSON lines"},
    {"bench", bf_cmd_bench, "latency end to end and per layer, against the int8 peak"},
};

#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: bitfalcon COMMAND [OPTIONS] [ARGS]\n"
            "       bitfalcon --help | --version\n"
            "\n"
            "BitFalcon: a real-time object detector (YOLOv8n with ternary weights).\n"
            "\n"
            "Commands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f,
            "\n"
            "Run 'bitfalcon COMMAND --help' for a command's options.\n"
            "\n"
            "Exit status:\n"
            "  0  success\n"
            "  1  some inputs failed (each reported on stderr as 'bitfalcon: PATH: CAUSE');\n"
            "     the results for all other inputs were written\n"
            "  2  usage error, or the model could not be loaded\n");
}

static const command *find(const char *name)
{
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

/* A program started with stdin, stdout or stderr closed (`2>&-`) would hand
 * out that descriptor number to the next file it opens, and every message
 * for stderr would then land inside that file (an output JSON, say). Opening
 * /dev/null on each closed one first keeps 0-2 what they are meant to be. */
static int reserve_std_fds(void)
{
    for (int fd = 0; fd <= 2; fd++) {
        if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
            continue;
        int nfd = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
        if (nfd < 0)
            return -1;
        if (nfd != fd) { /* a lower one was open: cannot happen, but never keep a stray fd */
            close(nfd);
            return -1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (reserve_std_fds() != 0)
        return BF_EXIT_USAGE; /* no /dev/null: nowhere safe to say so */
    if (argc < 2) {
        usage(stderr);
        return BF_EXIT_USAGE;
    }
    const char *arg = argv[1];
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
        usage(stdout);
        return BF_EXIT_OK;
    }
    if (strcmp(arg, "--version") == 0 || strcmp(arg, "-V") == 0) {
        printf("bitfalcon %d.%d.%d\n", BITFALCON_VERSION_MAJOR, BITFALCON_VERSION_MINOR,
               BITFALCON_VERSION_PATCH);
        return BF_EXIT_OK;
    }
    if (strcmp(arg, "help") == 0) { /* "bitfalcon help detect" = "bitfalcon detect --help" */
        if (argc < 3) {
            usage(stdout);
            return BF_EXIT_OK;
        }
        const command *c = find(argv[2]);
        if (!c) {
            fprintf(stderr, "bitfalcon: unknown command '%s'\n", argv[2]);
            return BF_EXIT_USAGE;
        }
        static char help_flag[] = "--help";
        char *sub[] = {argv[2], help_flag, NULL};
        return c->run(2, sub);
    }
    const command *c = find(arg);
    if (!c) {
        fprintf(stderr, "bitfalcon: unknown command '%s' (see 'bitfalcon --help')\n", arg);
        return BF_EXIT_USAGE;
    }
    return c->run(argc - 1, argv + 1);
}
