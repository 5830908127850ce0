/* json_util.c: SQLite rows to JSON objects, with UTF-8 repair. */
#include <stdlib.h>
#include <string.h>

#include "json_util.h"

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	size_t len;
	unsigned min;
	unsigned cp;
	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0)
		len = 2, min = 0x80, cp = s[0] & 0x1f;
	else if ((s[0] & 0xf0) == 0xe0)
		len = 3, min = 0x800, cp = s[0] & 0x0f;
	else if ((s[0] & 0xf8) == 0xf0)
		len = 4, min = 0x10000, cp = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

json_t *json_text(const char *s, size_t len)
{
	json_t *j = json_stringn(s, len);
	if (j)
		return j;
	/* Invalid UTF-8 (or a NUL byte): repair a copy. */
	char *fixed = malloc(len * 3 + 1);
	if (!fixed)
		return NULL;
	size_t o = 0;
	const unsigned char *u = (const unsigned char *)s;
	for (size_t i = 0; i < len;) {
		size_t n = u[i] ? utf8_seq(u + i, len - i) : 0;
		if (n) {
			memcpy(fixed + o, s + i, n);
			o += n, i += n;
		} else {
			memcpy(fixed + o, "\xef\xbf\xbd", 3);
			o += 3, i++;
		}
	}
	j = json_stringn(fixed, o);
	free(fixed);
	return j;
}

json_t *json_column(sqlite3_stmt *st, int i)
{
	switch (sqlite3_column_type(st, i)) {
	case SQLITE_INTEGER:
		return json_integer(sqlite3_column_int64(st, i));
	case SQLITE_FLOAT:
		return json_real(sqlite3_column_double(st, i));
	case SQLITE_NULL:
		return json_null();
	default: {
		const char *t = (const char *)sqlite3_column_text(st, i);
		return json_text(t ? t : "", (size_t)sqlite3_column_bytes(st, i));
	}
	}
}

json_t *json_row(sqlite3_stmt *st)
{
	json_t *obj = json_object();
	if (!obj)
		return NULL;
	int n = sqlite3_column_count(st);
	for (int i = 0; i < n; i++) {
		if (json_object_set_new(obj, sqlite3_column_name(st, i), json_column(st, i)) < 0) {
			json_decref(obj);
			return NULL;
		}
	}
	return obj;
}

char *json_ids(json_t *objects)
{
	json_t *ids = json_array();
	size_t i;
	json_t *o;
	json_array_foreach(objects, i, o) json_array_append(ids, json_object_get(o, "id"));
	char *text = json_dumps(ids, JSON_COMPACT);
	json_decref(ids);
	return text;
}
