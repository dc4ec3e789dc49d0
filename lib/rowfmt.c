/*
 * sm-tail's output formats for rows of system_metrics: NDJSON, the table
 * and the replaced system's nested JSON (rowfmt.h).
 */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "jsonutil.h"
#include "rowfmt.h"
#include "rowfmt_impl.h"
#include "schema.h"

_Static_assert(ROWFMT_SOURCE_MAX == SCHEMA_SOURCE_MAX,
    "a row's source holds data_source");
#include "timefmt.h"

int
rowfmt_parse(const char *name, enum rowfmt_kind *kind)
{
	if (strcmp(name, "ndjson") == 0)
		*kind = ROWFMT_NDJSON;
	else if (strcmp(name, "table") == 0)
		*kind = ROWFMT_TABLE;
	else if (strcmp(name, "seed") == 0)
		*kind = ROWFMT_SEED;
	else
		return -1;
	return 0;
}

void
rowfmt_init(struct rowfmt *f, enum rowfmt_kind kind, unsigned header_every)
{
	memset(f, 0, sizeof(*f));
	f->kind = kind;
	f->header_every = header_every;
}

/* The length of the UTF-8 sequence starting at s, or 0 when broken. */
static size_t
rowfmt_utf8_len(const unsigned char *s)
{
	size_t n, i;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0 && s[0] >= 0xc2)
		n = 2;
	else if ((s[0] & 0xf0) == 0xe0)
		n = 3;
	else if ((s[0] & 0xf8) == 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	for (i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

size_t
rowfmt_cell(char *dst, size_t size, const char *s, unsigned width, bool pad)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = 0, chars = 0, total = 0;

	if (size == 0)
		return 0;
	/* characters in s, to know whether it must be cut */
	while (p[len] != '\0') {
		size_t n = rowfmt_utf8_len(p + len);

		len += n > 0 ? n : 1;
		total++;
	}
	len = 0;
	while (*p != '\0' && chars < width) {
		size_t n = rowfmt_utf8_len(p);

		if (chars + 1 == width && total > width) {
			if (len + 1 >= size)
				break;
			dst[len++] = '~';
			chars++;
			break;
		}
		if (n == 0 || *p < 0x20 || *p == 0x7f) {
			/* nothing that could steer the terminal */
			if (len + 1 >= size)
				break;
			dst[len++] = '?';
			p++;
		} else {
			if (len + n >= size)
				break;
			memcpy(dst + len, p, n);
			len += n;
			p += n;
		}
		chars++;
	}
	while (pad && chars < width && len + 1 < size) {
		dst[len++] = ' ';
		chars++;
	}
	dst[len] = '\0';
	return len;
}

int
rowfmt_header(char *buf, size_t size)
{
	int n;

	n = snprintf(buf, size, "%7s %-19s %-*s %-*s %6s %6s %9s %9s %6s %4s "
	    "%6s %4s %4s\n", "ID", "TIME(UTC)", ROWFMT_HOST_WIDTH, "HOST",
	    ROWFMT_SOURCE_WIDTH, "SOURCE", "CPU%", "RAM%", "RAM_USED",
	    "RAM_TOTAL", "PROCS", "RUN", "SLEEP", "STOP", "ZOMB");
	return n < 0 || (size_t)n >= size ? -1 : n;
}

static int
rowfmt_table(const struct rowfmt_row *row, char *buf, size_t size)
{
	char when[TIMEFMT_SEED_LEN], host[ROWFMT_HOST_WIDTH * 4 + 1];
	char source[ROWFMT_SOURCE_WIDTH * 4 + 1];
	const struct record *r = &row->rec;
	int n;

	if (timefmt_seed(r->ts_ms, when, sizeof(when)) == -1)
		snprintf(when, sizeof(when), "?");
	rowfmt_cell(host, sizeof(host), r->host[0] != '\0' ? r->host : "-",
	    ROWFMT_HOST_WIDTH, true);
	rowfmt_cell(source, sizeof(source), row->source[0] != '\0' ?
	    row->source : "-", ROWFMT_SOURCE_WIDTH, true);
	n = snprintf(buf, size, "%7llu %-19s %s %s %6.2f %6.2f %9lld %9lld "
	    "%6lld %4lld %6lld %4lld %4lld\n", row->id, when, host, source,
	    r->cpu_usage, r->ram_percentage, (long long)r->ram_used,
	    (long long)r->ram_total, (long long)r->total_processes,
	    (long long)r->running_processes, (long long)r->sleeping_processes,
	    (long long)r->stopped_processes, (long long)r->zombie_processes);
	return n < 0 || (size_t)n >= size ? -1 : n;
}

/* Add key: v to obj, taking v; -1 (v released) on failure. */
static int
rowfmt_add(struct json_object *obj, const char *key, struct json_object *v)
{
	if (v == NULL)
		return -1;
	if (json_object_object_add(obj, key, v) != 0) {
		json_object_put(v);
		return -1;
	}
	return 0;
}

/* obj's member key, one more reference taken; NULL when absent. */
static struct json_object *
rowfmt_take(struct json_object *obj, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(obj, key, &v) || v == NULL)
		return NULL;
	return json_object_get(v);
}

/* The seed payload of row; NULL when out of memory. */
static struct json_object *
rowfmt_seed_json(const struct rowfmt_row *row)
{
	const struct record *r = &row->rec;
	struct json_object *canon, *out, *ram = NULL, *procs = NULL;
	char when[TIMEFMT_RFC3339_LEN];

	/* percentages as the canonical record writes them (2 decimals) */
	if ((canon = record_to_json(r, RECORD_CANONICAL)) == NULL)
		return NULL;
	if ((out = json_object_new_object()) == NULL)
		goto out_put_canon;
	if (timefmt_rfc3339(r->ts_ms, when, sizeof(when)) == -1)
		goto out_put_out;
	if (rowfmt_add(out, "cpu", rowfmt_take(canon, "cpu_usage")) == -1 ||
	    rowfmt_add(out, "ram", rowfmt_take(canon, "ram_percentage")) == -1)
		goto out_put_out;
	if ((ram = json_object_new_object()) == NULL ||
	    rowfmt_add(ram, "total", json_object_new_int64(r->ram_total)) ||
	    rowfmt_add(ram, "used", json_object_new_int64(r->ram_used)) ||
	    rowfmt_add(ram, "free", json_object_new_int64(r->ram_free)))
		goto out_put_parts;
	if (rowfmt_add(out, "ram_details", ram) == -1) {
		ram = NULL;
		goto out_put_parts;
	}
	ram = NULL;
	if ((procs = json_object_new_object()) == NULL ||
	    rowfmt_add(procs, "total_procesos",
	    json_object_new_int64(r->total_processes)) ||
	    rowfmt_add(procs, "procesos_corriendo",
	    json_object_new_int64(r->running_processes)) ||
	    rowfmt_add(procs, "procesos_durmiendo",
	    json_object_new_int64(r->sleeping_processes)) ||
	    rowfmt_add(procs, "procesos_zombies",
	    json_object_new_int64(r->zombie_processes)) ||
	    rowfmt_add(procs, "procesos_parados",
	    json_object_new_int64(r->stopped_processes)))
		goto out_put_parts;
	if (rowfmt_add(out, "processes", procs) == -1) {
		procs = NULL;
		goto out_put_parts;
	}
	procs = NULL;
	if (rowfmt_add(out, "data_source",
	    json_object_new_string(row->source)) == -1 ||
	    rowfmt_add(out, "timestamp", json_object_new_string(when)) == -1)
		goto out_put_out;
	json_object_put(canon);
	return out;
out_put_parts:
	json_object_put(procs);
	json_object_put(ram);
out_put_out:
	json_object_put(out);
out_put_canon:
	json_object_put(canon);
	return NULL;
}

static int
rowfmt_seed(const struct rowfmt_row *row, char *buf, size_t size)
{
	struct json_object *obj;
	int rc;

	if ((obj = rowfmt_seed_json(row)) == NULL)
		return -1;
	rc = jsonutil_line(obj, buf, size);
	json_object_put(obj);
	return rc;
}

int
rowfmt_row(struct rowfmt *f, const struct rowfmt_row *row, char *buf,
    size_t size)
{
	int head = 0, n;

	switch (f->kind) {
	case ROWFMT_NDJSON:
		return record_format(&row->rec, RECORD_CANONICAL, buf, size);
	case ROWFMT_SEED:
		return rowfmt_seed(row, buf, size);
	case ROWFMT_TABLE:
		break;
	}
	if (!f->header_done || (f->header_every > 0 &&
	    f->since_header >= f->header_every)) {
		if ((head = rowfmt_header(buf, size)) == -1)
			return -1;
		f->header_done = true;
		f->since_header = 0;
	}
	if ((n = rowfmt_table(row, buf + head, size - (size_t)head)) == -1)
		return -1;
	f->since_header++;
	return head + n;
}
