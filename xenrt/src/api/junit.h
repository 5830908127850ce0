/* junit.h: a flight as JUnit XML, the report format Jenkins and GitLab
 * read, for `GET /api/flights/<id>/junit.xml` and `xenrt show --junit`.
 *
 * One <testsuites> per flight, one <testsuite> per job, one <testcase> per
 * step of the job's latest attempt (earlier attempts were the farm's, and
 * the verdict ignores them too).  A failed step is a <failure>, a broken
 * one (the farm failed, not the code) an <error>, a skipped or blocked one
 * <skipped>; a job that ended without steps (blocked, cancelled) gets one
 * testcase named after the job saying so.  Times are seconds; the job's
 * runvars are its <properties>.  Rendered from the read model's flight
 * (model_flight), so the report and the API can never disagree.
 */
#ifndef XENRT_JUNIT_H
#define XENRT_JUNIT_H

#include <stddef.h>

#include <jansson.h>

/* The JUnit XML text of `flight` (as model_flight returns it), malloc'd
 * and NUL-terminated, its length in *len; NULL when out of memory. */
char *junit_render(json_t *flight, size_t *len);

#endif
