/* artifact_gc.h: `xenrt gc`: frees the artifact store of what no flight
 * needs any more.
 *
 * Every build stores its images by SHA-256 and nothing ever removed them, so
 * the store grew with every revision built.  An artifact is kept while a
 * flight among the newest `keep_flights` links it, while an unfinished
 * (queued or running) flight links it, and while it is what a health check
 * would boot (the newest passed build's hypervisor); everything else goes:
 * its flight_artifacts and artifacts rows in one transaction, then its file.
 * Safe beside a running daemon: the rows are chosen and deleted inside a
 * write transaction, and the store's exclusive lock (artifact.h) is held
 * until the files are gone, so a build storing the same content again
 * waits and writes a fresh file under a fresh row.
 */
#ifndef XENRT_ARTIFACT_GC_H
#define XENRT_ARTIFACT_GC_H

#include <sqlite3.h>
#include <stddef.h>

#include "artifact.h"

struct gc_report {
	long long files; /* artifacts removed (or, dry run, that would be) */
	long long bytes; /* their size on disk */
	long long kept;  /* artifacts still in use */
};

/* Called for each artifact removed (or that a dry run would remove); bytes
 * is its size on disk, -1 if its file was already missing. */
typedef void (*gc_each_fn)(void *arg, const char hex[ARTIFACT_HEX_LEN + 1], long long bytes);

/* Collects garbage (dry_run: only reports it, changes nothing).  Returns 0
 * with *out filled, or -1 with a message; on an error after the rows were
 * deleted, the files not yet unlinked stay as unreferenced files. */
int artifact_gc(sqlite3 *db, const char *artifact_dir, long long keep_flights, int dry_run,
		gc_each_fn each, void *arg, struct gc_report *out, char *err, size_t errlen);

#endif
