/* cli.h: the xenrt subcommands.  Each takes argv starting at its own name
 * and returns the process exit status (see the EXIT_* codes below). */
#ifndef XENRT_CLI_H
#define XENRT_CLI_H

#include <stddef.h>

#include "config.h"

/* Exit codes shared by every subcommand, documented in xenrt/README.md. */
enum {
	XENRT_EXIT_OK = 0,
	XENRT_EXIT_FAILED = 1, /* the flight's verdict was not pass (submit --wait) */
	XENRT_EXIT_USAGE = 2,  /* bad command line */
	XENRT_EXIT_ERROR = 3,  /* request rejected, daemon unreachable, I/O error */
};

int cli_serve(int argc, char **argv);
int cli_db(int argc, char **argv);
int cli_token(int argc, char **argv);
int cli_submit(int argc, char **argv);
int cli_list(int argc, char **argv);
int cli_show(int argc, char **argv);
int cli_cancel(int argc, char **argv);
int cli_hosts(int argc, char **argv);
int cli_gc(int argc, char **argv);
int cli_schedule(int argc, char **argv);

/* Loads the config file (NULL: defaults) and applies --db; prints the error
 * and returns -1 on failure. */
int cli_config(struct xenrt_config *cfg, const char *config_path, const char *db_path);

/* Creates the state directory and the database's directory if missing, so
 * the embedded defaults work in a fresh checkout.  Prints why on failure. */
int cli_prepare_dirs(const struct xenrt_config *cfg);

/* The API token: $XENRT_TOKEN, else the first line of <state_dir>/token.
 * Prints why on failure and returns -1. */
int cli_read_token(const struct xenrt_config *cfg, char *out, size_t len);

#endif
