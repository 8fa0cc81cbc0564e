/* embedrt: the host toolchain. Dispatches to one subcommand per file. */
#include "cli.h"

#include "embedrt/version.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const ert_cli_cmd commands[] = {
    {"convert", "convert an ONNX model into a blob (fold, fuse, plan memory)", ert_cmd_convert},
    {"inspect", "show what a blob holds: graphs, shapes, ops, MACs, arena, sections, provenance", ert_cmd_inspect},
    {"run", "run a blob once on .npy inputs, write the outputs as .npy", ert_cmd_run},
    {"bench", "time a blob: median/p90/p99 latency and GFLOP/s, one JSON line", ert_cmd_bench},
    {"embed", "embed an image with one role of a family blob (the blob's preprocessing)", ert_cmd_embed},
    {"reward", "a family's reward from images or videos, one JSON line per result", ert_cmd_reward},
    {"client", "talk to a running embedrtd: goals, resets, demos, grasps, model swaps, events as JSON", ert_cmd_client},
    {"peak", "measure this machine's cblas_sgemm GFLOP/s (the yardstick for bench)", ert_cmd_peak},
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *f)
{
    fputs("usage: embedrt <command> [options]\n"
          "       embedrt --help | --version\n"
          "\n"
          "Host toolchain of embedrt, the embedded robotics representation runtime.\n"
          "\n"
          "commands:\n",
          f);
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fputs("\n`embedrt <command> --help` describes a command.\n", f);
}

int ert_cli_parse_int(const char *opt, const char *val, long lo, long hi, long *out)
{
    if (!val) {
        fprintf(stderr, "embedrt: %s needs a value\n", opt);
        return 0;
    }
    char *end;
    errno = 0;
    long v = strtol(val, &end, 10);
    if (errno || end == val || *end || v < lo || v > hi) {
        fprintf(stderr, "embedrt: %s: '%s' is not an integer in [%ld, %ld]\n", opt, val, lo, hi);
        return 0;
    }
    *out = v;
    return 1;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        ert_version_print(stdout, "embedrt");
        return 0;
    }
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "embedrt: unknown command '%s' (see embedrt --help)\n", argv[1]);
    return 2;
}
