/* artifact.c: content-addressed artifact store (see artifact.h). */
#include "artifact.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db.h"

int artifact_name_valid(const char *s)
{
	size_t n;

	if (!s)
		return 0;
	for (n = 0; s[n]; n++)
		if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
			return 0;
	return n == ARTIFACT_HEX_LEN;
}

int artifact_path(const char *artifact_dir, const char *hex, char *out, size_t outlen)
{
	if (!artifact_name_valid(hex))
		return -1;
	if ((size_t)snprintf(out, outlen, "%s/%s", artifact_dir, hex) >= outlen)
		return -1;
	return 0;
}

/* Copies in to out while hashing; returns bytes copied or -1. */
static long long copy_hashing(int in, int out, unsigned char md[32], char *err, size_t errlen)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	char buf[65536];
	long long total = 0;
	unsigned int mdlen = 0;
	ssize_t n;

	if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
		snprintf(err, errlen, "SHA-256 init failed");
		EVP_MD_CTX_free(ctx);
		return -1;
	}
	while ((n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "read: %s", strerror(errno));
			goto fail;
		}
		if (!EVP_DigestUpdate(ctx, buf, (size_t)n)) {
			snprintf(err, errlen, "SHA-256 update failed");
			goto fail;
		}
		for (ssize_t done = 0; done < n;) {
			ssize_t w = write(out, buf + done, (size_t)(n - done));
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				snprintf(err, errlen, "write: %s", strerror(errno));
				goto fail;
			}
			done += w;
		}
		total += n;
	}
	if (!EVP_DigestFinal_ex(ctx, md, &mdlen) || mdlen != 32) {
		snprintf(err, errlen, "SHA-256 final failed");
		goto fail;
	}
	EVP_MD_CTX_free(ctx);
	return total;
fail:
	EVP_MD_CTX_free(ctx);
	return -1;
}

static int record(sqlite3 *db, const char *hex, long long size, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(
		db,
		"INSERT OR IGNORE INTO artifacts (sha256, size, created_at) VALUES (?1, ?2, ?3)",
		-1, &st, NULL);

	if (rc == SQLITE_OK) {
		sqlite3_bind_text(st, 1, hex, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, size);
		sqlite3_bind_double(st, 3, db_now());
		rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(db);
		sqlite3_finalize(st);
	}
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "recording artifact: %s", sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

/* Writes src into the store under its hash; returns its size or -1. */
static long long store_file(const char *artifact_dir, const char *src,
			    char hex[ARTIFACT_HEX_LEN + 1], char *err, size_t errlen)
{
	char tmp[4096], final[4096];
	unsigned char md[32];
	long long size;
	int in, out;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s/.tmp-XXXXXX", artifact_dir) >= sizeof(tmp)) {
		snprintf(err, errlen, "artifact directory path too long");
		return -1;
	}
	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		snprintf(err, errlen, "%s: %s", src, strerror(errno));
		return -1;
	}
	out = mkostemp(tmp, O_CLOEXEC);
	if (out < 0) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		close(in);
		return -1;
	}
	size = copy_hashing(in, out, md, err, errlen);
	close(in);
	if (size >= 0 && (fchmod(out, 0644) || fsync(out))) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		size = -1;
	}
	if (close(out) && size >= 0) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		size = -1;
	}
	if (size < 0) {
		unlink(tmp);
		return -1;
	}
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	artifact_path(artifact_dir, hex, final, sizeof(final));
	/* Same content under the same name: replacing it is harmless, and
     * rename is atomic, so a concurrent reader sees one whole file. */
	if (rename(tmp, final)) {
		snprintf(err, errlen, "rename to %s: %s", final, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return size;
}

static int link_flight(sqlite3 *db, long long flight_id, const char *role, const char *hex,
		       char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(
		db,
		"INSERT OR REPLACE INTO flight_artifacts (flight_id, role, sha256) VALUES (?1, ?2, ?3)",
		-1, &st, NULL);

	if (rc == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, flight_id);
		sqlite3_bind_text(st, 2, role, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, hex, -1, SQLITE_STATIC);
		rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(db);
		sqlite3_finalize(st);
	}
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "linking artifact %s: %s", role, sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

int artifact_lock(const char *artifact_dir, int exclusive, char *err, size_t errlen)
{
	char path[4096];
	int fd;

	if (mkdir(artifact_dir, 0755) && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", artifact_dir, strerror(errno));
		return -1;
	}
	if ((size_t)snprintf(path, sizeof(path), "%s/.lock", artifact_dir) >= sizeof(path)) {
		snprintf(err, errlen, "artifact directory path too long");
		return -1;
	}
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (flock(fd, exclusive ? LOCK_EX : LOCK_SH)) {
		if (errno == EINTR)
			continue;
		snprintf(err, errlen, "locking %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

void artifact_unlock(int fd)
{
	/* Closing the only descriptor of the open file releases the flock. */
	close(fd);
}

int artifact_store(sqlite3 *db, const char *artifact_dir, const char *src, long long flight_id,
		   const char *role, char hex[ARTIFACT_HEX_LEN + 1], char *err, size_t errlen)
{
	char e2[128];
	int fd = artifact_lock(artifact_dir, 0, err, errlen);
	long long size;
	int rc = -1;

	if (fd < 0)
		return -1;
	size = store_file(artifact_dir, src, hex, err, errlen);
	if (size >= 0 && db_exec(db, "BEGIN IMMEDIATE", err, errlen) == SQLITE_OK) {
		rc = record(db, hex, size, err, errlen);
		if (rc == 0)
			rc = link_flight(db, flight_id, role, hex, err, errlen);
		if (rc == 0 && db_exec(db, "COMMIT", err, errlen) != SQLITE_OK)
			rc = -1;
		if (rc)
			db_exec(db, "ROLLBACK", e2, sizeof(e2));
	}
	artifact_unlock(fd);
	return rc;
}

int artifact_lookup(sqlite3 *db, long long flight_id, const char *role,
		    char hex[ARTIFACT_HEX_LEN + 1], char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(
		db, "SELECT sha256 FROM flight_artifacts WHERE flight_id = ?1 AND role = ?2", -1,
		&st, NULL);

	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "artifact lookup: %s", sqlite3_errmsg(db));
		return -1;
	}
	sqlite3_bind_int64(st, 1, flight_id);
	sqlite3_bind_text(st, 2, role, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const char *v = (const char *)sqlite3_column_text(st, 0);
		rc = artifact_name_valid(v) ? 0 : -1;
		if (rc == 0)
			memcpy(hex, v, ARTIFACT_HEX_LEN + 1);
		else
			snprintf(err, errlen, "artifact %s of flight %lld has a bad hash", role,
				 flight_id);
	} else if (rc == SQLITE_DONE) {
		rc = 1;
	} else {
		snprintf(err, errlen, "artifact lookup: %s", sqlite3_errmsg(db));
		rc = -1;
	}
	sqlite3_finalize(st);
	return rc;
}
