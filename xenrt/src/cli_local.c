/* cli_local.c: subcommands that work on the local database directly:
 * `xenrt db migrate|version` (operators upgrading or inspecting a database
 * without starting the daemon) and the shared config loader. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "db.h"

int cli_config(struct xenrt_config *cfg, const char *config_path, const char *db_path)
{
	char err[512];
	if (config_load(cfg, config_path, err, sizeof err) < 0) {
		fprintf(stderr, "xenrt: %s\n", err);
		return -1;
	}
	if (db_path) {
		if (strlen(db_path) >= sizeof cfg->db_path || !db_path[0]) {
			fprintf(stderr, "xenrt: --db: path empty or too long\n");
			return -1;
		}
		snprintf(cfg->db_path, sizeof cfg->db_path, "%s", db_path);
	}
	return 0;
}

int cli_db(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "db", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config_path = NULL, *db_path = NULL;
	int o;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o == 'c')
			config_path = optarg;
		else if (o == 'd')
			db_path = optarg;
		else
			return XENRT_EXIT_USAGE;
	}
	if (optind != argc - 1 || (strcmp(argv[optind], "migrate") && strcmp(argv[optind], "version"))) {
		fprintf(stderr, "usage: xenrt db migrate|version [--config F] [--db F]\n");
		return XENRT_EXIT_USAGE;
	}
	struct xenrt_config cfg;
	if (cli_config(&cfg, config_path, db_path) < 0)
		return XENRT_EXIT_ERROR;
	sqlite3 *db;
	char err[512];
	if (db_open(cfg.db_path, &db, err, sizeof err) != SQLITE_OK) {
		fprintf(stderr, "xenrt: %s\n", err);
		return XENRT_EXIT_ERROR;
	}
	db_close(db);
	if (strcmp(argv[optind], "version") == 0)
		printf("%d\n", db_schema_version());
	else
		printf("%s: schema at version %d\n", cfg.db_path, db_schema_version());
	return XENRT_EXIT_OK;
}
