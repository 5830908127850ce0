/* boot_service.c: serves iPXE scripts and artifacts to hosts (see
 * boot_service.h).  Names in URLs are validated before they touch the file
 * system or the database: a host name is [a-z0-9_-]+, an artifact 64 hex. */
#include "boot_service.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "artifact.h"
#include "config.h"
#include "db.h"
#include "provision.h"
#include "suite.h"

/* MHD runs a pool of threads; each keeps its own connection (SQLite
 * connections are never shared between threads), closed when it exits. */
static pthread_key_t db_key;
static pthread_once_t db_once = PTHREAD_ONCE_INIT;

static void close_thread_db(void *db)
{
	db_close(db);
}

static void make_key(void)
{
	if (pthread_key_create(&db_key, close_thread_db))
		abort(); /* only fails when out of keys: a programming error */
}

static sqlite3 *thread_db(const struct xenrt_config *cfg, char *err, size_t errlen)
{
	sqlite3 *db;

	pthread_once(&db_once, make_key);
	db = pthread_getspecific(db_key);
	if (db)
		return db;
	if (db_open(cfg->db_path, &db, err, errlen) != SQLITE_OK)
		return NULL;
	pthread_setspecific(db_key, db);
	return db;
}

static enum MHD_Result text(struct MHD_Connection *conn, unsigned code, const char *body)
{
	struct MHD_Response *r =
		MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", "text/plain; charset=utf-8");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	ret = MHD_queue_response(conn, code, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result script(struct MHD_Connection *conn, const struct xenrt_config *cfg,
			      const char *name)
{
	char host[64], err[512], msg[600];
	const char *dot = strstr(name, ".ipxe");
	size_t n = dot ? (size_t)(dot - name) : 0;
	sqlite3 *db;
	char *body;
	int rc;
	enum MHD_Result ret;

	if (!dot || dot[5] || n == 0 || n >= sizeof(host))
		return text(conn, MHD_HTTP_NOT_FOUND, "boot scripts are /boot/<host>.ipxe\n");
	memcpy(host, name, n);
	host[n] = '\0';
	if (!suite_name_valid(host))
		return text(conn, MHD_HTTP_BAD_REQUEST, "invalid host name\n");
	db = thread_db(cfg, err, sizeof(err));
	if (!db) {
		snprintf(msg, sizeof(msg), "database: %s\n", err);
		return text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, msg);
	}
	rc = provision_host_script(db, cfg, host, &body, err, sizeof(err));
	if (rc) {
		snprintf(msg, sizeof(msg), "%s\n", err);
		return text(conn, rc > 0 ? MHD_HTTP_NOT_FOUND : MHD_HTTP_INTERNAL_SERVER_ERROR,
			    msg);
	}
	ret = text(conn, MHD_HTTP_OK, body);
	free(body);
	return ret;
}

static int file_name_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 64 || s[0] == '.')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '_' || s[i] == '-'))
			return 0;
	return 1;
}

static enum MHD_Result artifact(struct MHD_Connection *conn, const struct xenrt_config *cfg,
				const char *tail)
{
	char hex[ARTIFACT_HEX_LEN + 1], path[1024];
	const char *slash = strchr(tail, '/');
	size_t n = slash ? (size_t)(slash - tail) : strlen(tail);
	struct MHD_Response *r;
	struct stat sb;
	enum MHD_Result ret;
	int fd;

	if (n != ARTIFACT_HEX_LEN || (slash && !file_name_valid(slash + 1)))
		return text(conn, MHD_HTTP_BAD_REQUEST,
			    "artifact names are 64 lowercase hex digits\n");
	memcpy(hex, tail, n);
	hex[n] = '\0';
	if (artifact_path(cfg->artifact_dir, hex, path, sizeof(path)))
		return text(conn, MHD_HTTP_BAD_REQUEST,
			    "artifact names are 64 lowercase hex digits\n");
	/* The store holds regular files only: a symlink planted under an
     * artifact's name (ELOOP) is not followed and counts as absent. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		int missing = errno == ENOENT || errno == ELOOP;
		return text(conn, missing ? MHD_HTTP_NOT_FOUND : MHD_HTTP_INTERNAL_SERVER_ERROR,
			    missing ? "no such artifact\n" : "artifact unreadable\n");
	}
	if (fstat(fd, &sb) || !S_ISREG(sb.st_mode)) {
		close(fd);
		return text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "artifact unreadable\n");
	}
	r = MHD_create_response_from_fd((uint64_t)sb.st_size, fd); /* owns fd */
	if (!r) {
		close(fd);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", "application/octet-stream");
	/* Content-addressed: the same URL never changes content. */
	MHD_add_response_header(r, "Cache-Control", "public, max-age=31536000, immutable");
	ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

int boot_service_handle(struct MHD_Connection *conn, const struct xenrt_config *cfg,
			const char *url, enum MHD_Result *ret)
{
	if (strncmp(url, "/boot/", 6) == 0) {
		*ret = script(conn, cfg, url + 6);
		return 1;
	}
	if (strncmp(url, "/artifacts/", 11) == 0) {
		*ret = artifact(conn, cfg, url + 11);
		return 1;
	}
	return 0;
}
