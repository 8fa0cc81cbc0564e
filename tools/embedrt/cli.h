/* Subcommands of the `embedrt` host CLI: one file each, registered in main.c.
 * Each returns the process exit status: 0 success, 1 failure, 2 usage error. */
#ifndef ERT_CLI_H
#define ERT_CLI_H

typedef struct ert_cli_cmd {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv); /* argv[0] is the subcommand name */
} ert_cli_cmd;

int ert_cmd_peak(int argc, char **argv);
int ert_cmd_convert(int argc, char **argv);
int ert_cmd_inspect(int argc, char **argv);
int ert_cmd_run(int argc, char **argv);
int ert_cmd_bench(int argc, char **argv);
int ert_cmd_embed(int argc, char **argv);
int ert_cmd_reward(int argc, char **argv);
int ert_cmd_client(int argc, char **argv);

/* Parses a positive integer option value; prints the error and returns 0 on failure. */
int ert_cli_parse_int(const char *opt, const char *val, long lo, long hi, long *out);

#include <stdio.h>

/* Writes s as a JSON string literal (quotes and escapes included). */
void ert_cli_json_str(FILE *f, const char *s);

/* Loads a blob into a runnable model with the given threads (0 = all cores); prints
 * the error as "embedrt <cmd>: <message>" and returns NULL on failure. */
struct ert_model;
struct ert_blob;
struct ert_model *ert_cli_load_model(const char *cmd, const char *path, int threads, struct ert_blob **blob);

#endif
