/* submit.h: flights the farm submits itself (a schedule firing, a
 * bisection probing a revision), through the same validation of suites and
 * the same writes as POST /api/flights (api_submit.c). */
#ifndef XENRT_SUBMIT_H
#define XENRT_SUBMIT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <sqlite3.h>

#include "config.h"

struct flight_request {
	const char *kind, *repo, *ref, *submitter;
	const char *const *suites;
	size_t nsuites;
	int64_t baseline;                  /* 0: the tracked branch's, or none */
	json_t *runvars;                   /* borrowed, may be NULL */
	int64_t schedule_id, bisection_id; /* where it came from, 0: neither */
};

/* Writes the flight, its build job and a job per suite, inside the
 * caller's transaction.  0 with *flight, or -1 with a message (an unknown
 * suite or baseline, a database error). */
int submit_flight(sqlite3 *db, const struct xenrt_config *cfg, const struct flight_request *req,
		  int64_t *flight, char *err, size_t errlen);

#endif
