/* artifact.h: the content-addressed artifact store.
 *
 * Build outputs (hypervisor image, test guests, later dom0 kernel/initramfs)
 * are stored once under artifact_dir/<sha256 hex> and recorded in the
 * artifacts table; flight_artifacts maps a flight's roles to them.  Hosts
 * fetch them by hash, so a test job boots exactly what its build produced,
 * and an unchanged revision is never stored twice.
 */
#ifndef XENRT_ARTIFACT_H
#define XENRT_ARTIFACT_H

#include <sqlite3.h>
#include <stddef.h>

#define ARTIFACT_HEX_LEN 64

/* True if s is exactly 64 lowercase hex digits: the only names the store
 * accepts, so no path can ever be smuggled through one. */
int artifact_name_valid(const char *s);

/* Copies `src` into the store (temp file, fsync, rename: a crash leaves
 * either no file or the whole file) and records, in one transaction, the
 * artifact and that `flight_id` uses it as `role`: the row never exists
 * unused, so `xenrt gc` cannot take it between the two.  Holds the store's
 * lock (shared) meanwhile.  Returns 0 with the hash in hex, or -1 with a
 * message. */
int artifact_store(sqlite3 *db, const char *artifact_dir, const char *src, long long flight_id,
		   const char *role, char hex[ARTIFACT_HEX_LEN + 1], char *err, size_t errlen);

/* The store's lock (artifact_dir/.lock, flock): stores hold it shared from
 * writing a file to committing its rows, garbage collection exclusive from
 * choosing what to delete to unlinking it, so a file being stored again is
 * never unlinked under its new row.  Returns the fd to pass to
 * artifact_unlock, or -1 with a message. */
int artifact_lock(const char *artifact_dir, int exclusive, char *err, size_t errlen);
void artifact_unlock(int fd);

/* Looks up the artifact of `role` for a flight; 0 found, 1 none, -1 error. */
int artifact_lookup(sqlite3 *db, long long flight_id, const char *role,
		    char hex[ARTIFACT_HEX_LEN + 1], char *err, size_t errlen);

/* artifact_dir/<hex>, or -1 if hex is invalid or the path does not fit. */
int artifact_path(const char *artifact_dir, const char *hex, char *out, size_t outlen);

#endif
