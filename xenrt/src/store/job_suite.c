/* job_suite.c: a job's suite from its stored text (see job_suite.h). */
#include "job_suite.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int job_suite(sqlite3 *db, const struct xenrt_config *cfg, long long job_id, const char *name,
	      struct suite **out, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	char *text = NULL;

	*out = NULL;
	if (job_id && sqlite3_prepare_v2(db, "SELECT suite_text FROM jobs WHERE id = ?1", -1, &st,
					 NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, job_id);
		if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
			text = strdup((const char *)sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
	}
	if (!text)
		return suite_load(cfg->suites_dir, name, out, err, errlen);
	char origin[128];
	snprintf(origin, sizeof(origin), "%s.suite (as submitted with job %lld)", name, job_id);
	int rc = suite_parse(text, origin, name, out, err, errlen);
	free(text);
	return rc;
}
