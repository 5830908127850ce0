/* provision_internal.h: shared between the script renderer, the executor's
 * health checks and artifact garbage collection (which must keep it), all
 * of which must agree on what a check boots. */
#ifndef XENRT_PROVISION_INTERNAL_H
#define XENRT_PROVISION_INTERNAL_H

#include <sqlite3.h>
#include <stddef.h>

/* The hypervisor of the newest passed build: 0, 1 (none yet) or -1. */
int provision_health_artifact(sqlite3 *db, char hex[65], char *err, size_t errlen);

#endif
