/* cli_serve.c: `xenrt serve`: the daemon's life cycle.
 *
 * Order matters: the database is migrated and the host table synced before
 * the executor starts (its crash recovery reads hosts and jobs), and the HTTP
 * server stops before the executor so no request kicks a stopped executor.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "db.h"
#include "executor.h"
#include "http.h"
#include "steward.h"
#include "webhook.h"

static void kick(void *ex)
{
	executor_kick(ex);
}

int cli_serve(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "db", required_argument, NULL, 'd' },
		{ "port", required_argument, NULL, 'p' },
		{ "no-executor", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config_path = NULL, *db_path = NULL;
	long port = -1;
	bool executor = true;
	int o;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		char *end;
		switch (o) {
		case 'c':
			config_path = optarg;
			break;
		case 'd':
			db_path = optarg;
			break;
		case 'n':
			executor = false;
			break;
		case 'p':
			errno = 0;
			port = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || port < 0 || port > 65535) {
				fprintf(stderr, "xenrt serve: --port: expected integer 0..65535\n");
				return XENRT_EXIT_USAGE;
			}
			break;
		default:
			return XENRT_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr,
			"usage: xenrt serve [--config F] [--port N] [--db F] [--no-executor]\n");
		return XENRT_EXIT_USAGE;
	}
	struct xenrt_config cfg;
	if (cli_config(&cfg, config_path, db_path) < 0)
		return XENRT_EXIT_ERROR;
	if (port >= 0)
		config_set_port(&cfg, (int)port);
	if (cli_prepare_dirs(&cfg) < 0)
		return XENRT_EXIT_ERROR;
	/* A peer closing a socket or pipe is an error to handle, not a reason
	 * for the daemon to die. */
	signal(SIGPIPE, SIG_IGN);

	/* Signals are taken synchronously by sigwait, so no handler races. */
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);

	sqlite3 *db;
	char err[512];
	if (db_open(cfg.db_path, &db, err, sizeof err) != SQLITE_OK) {
		fprintf(stderr, "xenrt serve: %s\n", err);
		return XENRT_EXIT_ERROR;
	}
	if (db_sync_hosts(db, &cfg, err, sizeof err) != SQLITE_OK) {
		fprintf(stderr, "xenrt serve: %s\n", err);
		db_close(db);
		return XENRT_EXIT_ERROR;
	}
	/* The executor and the HTTP threads open their own connections. */
	db_close(db);

	/* --no-executor serves the API and pages only: a read-only mirror, the
	 * benchmarks. */
	struct executor *ex = NULL;
	if (executor) {
		ex = executor_start(&cfg, err, sizeof err);
		if (!ex) {
			fprintf(stderr, "xenrt serve: executor: %s\n", err);
			return XENRT_EXIT_ERROR;
		}
	}
	/* The automation (schedules, tested refs, bisection, webhooks) runs
	 * with the executor: without one nothing would run what it starts. */
	struct webhook_sender *ws = NULL;
	struct steward *sw = NULL;
	if (ex) {
		ws = webhook_start(&cfg, err, sizeof err);
		sw = ws ? steward_start(&cfg, ws, kick, ex, err, sizeof err) : NULL;
		if (!sw) {
			fprintf(stderr, "xenrt serve: automation: %s\n", err);
			webhook_stop(ws);
			executor_stop(ex);
			return XENRT_EXIT_ERROR;
		}
	}
	struct http_server *http = http_start(&cfg, ex ? kick : NULL, ex, err, sizeof err);
	if (!http) {
		fprintf(stderr, "xenrt serve: %s\n", err);
		steward_stop(sw);
		webhook_stop(ws);
		executor_stop(ex);
		return XENRT_EXIT_ERROR;
	}
	fprintf(stderr,
		"xenrt serve: database %s (schema %d), %zu hosts, %s, status page "
		"http://%s:%d/\n",
		cfg.db_path, db_schema_version(), cfg.nhosts,
		ex ? "executor running" : "no executor", cfg.http_addr, http_port(http));

	int sig;
	sigwait(&stop, &sig);
	fprintf(stderr, "xenrt serve: %s, shutting down\n", strsignal(sig));
	http_stop(http);
	steward_stop(sw);
	webhook_stop(ws);
	if (ex)
		executor_stop(ex);
	fprintf(stderr, "xenrt serve: stopped\n");
	return XENRT_EXIT_OK;
}
