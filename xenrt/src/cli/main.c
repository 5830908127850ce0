/* main.c: the xenrt command: dispatches to one subcommand. */
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "cli.h"

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *help;
} commands[] = {
	{ "serve", cli_serve, "serve [--config F] [--port N] [--db F]   run the daemon" },
	{ "submit", cli_submit,
	  "submit --repo PATH|URL --ref REF --suite S [--suite S2] "
	  "[--patch FILE] [--kind K] [--baseline ID] [--runvar N=V] [--wait]" },
	{ "list", cli_list, "list [--limit N] [--before ID] [--kind K]   recent flights" },
	{ "show", cli_show,
	  "show FLIGHT [--junit]           a flight's jobs and steps (or JUnit XML)" },
	{ "cancel", cli_cancel, "cancel FLIGHT" },
	{ "hosts", cli_hosts, "hosts                           the host pool" },
	{ "token", cli_token,
	  "token create|list|revoke|check [NAME]   API tokens (local database)" },
	{ "schedule", cli_schedule,
	  "schedule add NAME --repo R --ref REF --suite S (--at HH:MM | "
	  "--every S) | list | remove NAME   recurring flights (local database)" },
	{ "db", cli_db, "db migrate|version              the local database" },
	{ "gc", cli_gc,
	  "gc [--keep-flights N] [--dry-run]   remove artifacts no recent or unfinished "
	  "flight uses" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: xenrt COMMAND [ARGS]\n");
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(f, "  xenrt %s\n", commands[i].help);
	fprintf(f, "remote commands take --url URL (default $XENRT_URL or http://127.0.0.1:8080);\n"
		   "local ones take --config FILE and --db FILE.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return XENRT_EXIT_USAGE;
	}
	if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return XENRT_EXIT_OK;
	}
	/* Once, before any thread exists, as libcurl requires. */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "xenrt: libcurl initialisation failed\n");
		return XENRT_EXIT_ERROR;
	}
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "xenrt: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return XENRT_EXIT_USAGE;
}
