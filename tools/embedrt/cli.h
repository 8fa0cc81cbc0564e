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

/* Parses a positive integer option value; prints the error and returns 0 on failure. */
int ert_cli_parse_int(const char *opt, const char *val, long lo, long hi, long *out);

#endif
