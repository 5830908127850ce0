/* job_suite.h: the suite a job runs, as it was when the job was submitted
 * (jobs.suite_text, migration 0009), so editing a suite file never changes
 * a flight already queued.  Jobs without stored text (submitted before
 * that migration; health checks, job 0) read the file. */
#ifndef XENRT_JOB_SUITE_H
#define XENRT_JOB_SUITE_H

#include <sqlite3.h>

#include "config.h"
#include "suite.h"

/* Parses job `job_id`'s stored suite (`name` for messages and the file
 * fallback).  0 with *out (suite_free it), or -1 with a message. */
int job_suite(sqlite3 *db, const struct xenrt_config *cfg, long long job_id, const char *name,
	      struct suite **out, char *err, size_t errlen);

#endif
