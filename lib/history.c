/*
 * Range queries (history.h): one GROUP BY over the tier that has the
 * step, bounded by a LIMIT one past the most points an answer may hold.
 */
#include <err.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <mysqld_error.h>

#include "exitcode.h"
#include "history.h"
#include "schema.h"
#include "timefmt.h"
#include "when.h"

_Static_assert(HISTORY_SOURCE_MAX == SCHEMA_SOURCE_MAX,
    "data_source's width");

enum tier_id
history_tier(int64_t step_ms)
{
	int i;

	for (i = TIER_COUNT - 1; i > TIER_RAW; i--)
		if (step_ms % tiers[i].bucket_ms == 0)
			return (enum tier_id)i;
	return TIER_RAW;
}

int
history_tier_parse(const char *name, enum tier_id *t)
{
	int i;

	for (i = 0; i < TIER_COUNT; i++)
		if (strcmp(name, tiers[i].name) == 0) {
			*t = (enum tier_id)i;
			return 0;
		}
	return -1;
}

int64_t
history_auto_step(int64_t span_ms, unsigned n)
{
	static const int64_t steps[] = { 1, 5, 10, 30, 60, 300, 600, 1800,
	    3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 7 * 86400 };
	size_t i;

	if (n == 0)
		n = 1;
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		if (span_ms / (steps[i] * 1000) < (int64_t)n)
			return steps[i] * 1000;
	return steps[i - 1] * 1000;
}

int
history_check(struct history_query *q, struct why *why)
{
	int64_t buckets;

	if (q->from_ms >= q->to_ms)
		return why_set(why, "the range ends before it begins: want "
		    "its start before its end");
	if (q->step_ms < 1000 || q->step_ms % 1000 != 0)
		return why_set(why, "step: want whole seconds, 1s or more");
	if (q->force && q->forced != TIER_RAW &&
	    q->step_ms % tiers[q->forced].bucket_ms != 0)
		return why_set(why, "the %s tier has no step of %lld s: want "
		    "a multiple of its bucket", tiers[q->forced].name,
		    (long long)(q->step_ms / 1000));
	q->from_ms -= q->from_ms % q->step_ms;
	buckets = (q->to_ms - q->from_ms + q->step_ms - 1) / q->step_ms;
	if (buckets > HISTORY_POINTS_MAX)
		return why_set(why, "%lld steps in the range: at most %d "
		    "points an answer; take a longer step or a shorter range",
		    (long long)buckets, HISTORY_POINTS_MAX);
	return 0;
}

static const char *const history_raw_fmt[4] = {
	"COUNT(%1$s)", "MIN(%1$s)", "MAX(%1$s)", "SUM(%1$s)"
};
static const char *const history_tier_fmt[4] = {
	"SUM(%1$s_n)", "MIN(%1$s_min)", "MAX(%1$s_max)", "SUM(%1$s_sum)"
};

/* " AND col = 'value'" into f, escaped; value NULL: nothing. */
static void
history_where(FILE *f, MYSQL *m, const char *col, const char *value)
{
	char *esc;
	size_t len;

	if (value == NULL)
		return;
	len = strlen(value);
	if ((esc = malloc(2 * len + 1)) == NULL) {
		fputs(" AND FALSE", f);	/* never reached: the caller checks */
		return;
	}
	mysql_real_escape_string(m, esc, value, (unsigned long)len);
	fprintf(f, " AND %s = '%s'", col, esc);
	free(esc);
}

/* The statement for q; NULL when out of memory. */
static char *
history_sql(MYSQL *m, const struct history_query *q, enum tier_id t)
{
	char from[TIMEFMT_RFC3339_LEN], to[TIMEFMT_RFC3339_LEN];
	char *cols, *sql = NULL;
	size_t size = 0;
	FILE *f;

	if (timefmt_rfc3339(q->from_ms, from, sizeof(from)) == -1 ||
	    timefmt_rfc3339(q->to_ms, to, sizeof(to)) == -1)
		return NULL;
	/* "2026-12-01T00:00:00.000Z" as a DATETIME(3) literal */
	from[10] = to[10] = ' ';
	from[23] = to[23] = '\0';
	cols = t == TIER_RAW ? tier_columns("COUNT(*)", history_raw_fmt) :
	    tier_columns("SUM(samples)", history_tier_fmt);
	if (cols == NULL || (f = open_memstream(&sql, &size)) == NULL) {
		free(cols);
		return NULL;
	}
	if (t == TIER_RAW)
		fprintf(f, "SELECT CONVERT(host USING utf8mb4) COLLATE "
		    "utf8mb4_bin, CONVERT(COALESCE(data_source, '') USING "
		    "utf8mb4) COLLATE utf8mb4_bin, "
		    "FLOOR(UNIX_TIMESTAMP(sampled_at) * 1000 / %lld), %s "
		    "FROM %s WHERE sampled_at >= '%s' AND sampled_at < '%s'",
		    (long long)q->step_ms, cols, tiers[t].table, from, to);
	else
		fprintf(f, "SELECT host, source, FLOOR(UNIX_TIMESTAMP(bucket) "
		    "* 1000 / %lld), %s FROM %s WHERE bucket >= '%s' AND "
		    "bucket < '%s'", (long long)q->step_ms, cols,
		    tiers[t].table, from, to);
	/* raw: the plain comparison for the index, BINARY for the bytes */
	if (t == TIER_RAW)
		history_where(f, m, "host", q->host);
	history_where(f, m, t == TIER_RAW ? "BINARY host" : "host", q->host);
	history_where(f, m, t == TIER_RAW ? "BINARY data_source" : "source",
	    q->source);
	fprintf(f, " GROUP BY 1, 2, 3 ORDER BY 1, 2, 3 LIMIT %d",
	    HISTORY_POINTS_MAX + 1);
	free(cols);
	if (fclose(f) == EOF) {
		free(sql);
		return NULL;
	}
	return sql;
}

/* A text column into buf, "" for NULL. */
static void
history_copy(char *buf, size_t size, const char *s)
{
	snprintf(buf, size, "%s", s != NULL ? s : "");
}

static void
history_point_from(struct history_point *p, MYSQL_ROW row,
    const struct history_query *q, enum tier_id t)
{
	size_t i, c;

	memset(p, 0, sizeof(*p));
	history_copy(p->host, sizeof(p->host), row[0]);
	history_copy(p->source, sizeof(p->source), row[1]);
	p->ts_ms = (row[2] != NULL ? strtoll(row[2], NULL, 10) : 0) *
	    q->step_ms;
	p->step_ms = q->step_ms;
	p->tier = t;
	p->samples = row[3] != NULL ? strtoull(row[3], NULL, 10) : 0;
	for (i = 0, c = 4; i < tier_nfields; i++, c += 4) {
		struct history_value *v = &p->v[i];

		v->n = row[c] != NULL ? strtoull(row[c], NULL, 10) : 0;
		history_copy(v->min, sizeof(v->min), row[c + 1]);
		history_copy(v->max, sizeof(v->max), row[c + 2]);
		v->avg = v->n > 0 && row[c + 3] != NULL ?
		    strtod(row[c + 3], NULL) / (double)v->n : 0;
	}
}

enum db_fault
history_run(MYSQL *m, struct history_query *q, history_emit_fn emit,
    void *arg, struct why *why)
{
	enum tier_id t = q->force ? q->forced : history_tier(q->step_ms);
	struct history_point *p;
	enum db_fault f = DB_FAULT_NONE;
	MYSQL_RES *res;
	MYSQL_ROW row;
	char *sql;

	_Static_assert(HISTORY_FIELDS_MAX >= 13, "room for every field");
	if (tier_nfields > HISTORY_FIELDS_MAX)
		return why_set(why, "too many fields"), DB_FAULT_OTHER;
	if ((p = malloc(sizeof(*p))) == NULL)
		return why_set(why, "out of memory"), DB_FAULT_OTHER;
again:
	q->tier = t;
	if ((sql = history_sql(m, q, t)) == NULL) {
		why_set(why, "out of memory");
		f = DB_FAULT_OTHER;
		goto out_free;
	}
	if (mysql_query(m, sql) != 0 ||
	    (res = mysql_store_result(m)) == NULL) {
		if (t != TIER_RAW && !q->force &&
		    mysql_errno(m) == ER_NO_SUCH_TABLE) {
			/* no tiers yet: the raw rows have every step */
			free(sql);
			t = TIER_RAW;
			goto again;
		}
		f = db_error(m, "reading the history", why);
		goto out_free;
	}
	if (mysql_num_rows(res) > HISTORY_POINTS_MAX) {
		why_set(why, "more than %d points: name a host or a source, "
		    "take a longer step or a shorter range",
		    HISTORY_POINTS_MAX);
		f = DB_FAULT_DATA;
		goto out_free_res;
	}
	while ((row = mysql_fetch_row(res)) != NULL) {
		history_point_from(p, row, q, t);
		if (emit(p, arg) != 0)
			break;
	}
out_free_res:
	mysql_free_result(res);
out_free:
	free(sql);
	free(p);
	return f;
}

/* A number as the table wrote it, or the average to its decimals. */
static struct json_object *
history_number(const char *text)
{
	return json_object_new_double_s(strtod(text, NULL), text);
}

int
history_point_json(FILE *f, const struct history_point *p)
{
	char ts[TIMEFMT_RFC3339_LEN], avg[48];
	struct json_object *o, *v;
	size_t i;
	int rc;

	if (timefmt_rfc3339(p->ts_ms, ts, sizeof(ts)) == -1 ||
	    (o = json_object_new_object()) == NULL)
		return -1;
	json_object_object_add(o, "ts", json_object_new_string(ts));
	json_object_object_add(o, "host", json_object_new_string(p->host));
	json_object_object_add(o, "source",
	    json_object_new_string(p->source));
	json_object_object_add(o, "tier",
	    json_object_new_string(tiers[p->tier].name));
	json_object_object_add(o, "step_ms",
	    json_object_new_int64(p->step_ms));
	json_object_object_add(o, "samples",
	    json_object_new_int64((int64_t)p->samples));
	for (i = 0; i < tier_nfields; i++) {
		const struct history_value *hv = &p->v[i];

		if (hv->n == 0) {
			json_object_object_add(o, tier_fields[i].name, NULL);
			continue;
		}
		v = json_object_new_object();
		snprintf(avg, sizeof(avg), "%.*f", tier_fields[i].decimals,
		    hv->avg);
		json_object_object_add(v, "min", history_number(hv->min));
		json_object_object_add(v, "avg", history_number(avg));
		json_object_object_add(v, "max", history_number(hv->max));
		if (hv->n != p->samples)
			json_object_object_add(v, "n",
			    json_object_new_int64((int64_t)hv->n));
		json_object_object_add(o, tier_fields[i].name, v);
	}
	rc = fputs(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE), f) == EOF ? -1 : 0;
	json_object_put(o);
	return rc;
}

/* The field's index in tier_fields. */
static size_t
history_field(const char *name)
{
	size_t i;

	for (i = 0; i < tier_nfields; i++)
		if (strcmp(tier_fields[i].name, name) == 0)
			break;
	return i;
}

int
history_point_table(FILE *f, const struct history_point *p, int header)
{
	size_t cpu = history_field("cpu_usage");
	size_t ram = history_field("ram_percentage");
	size_t procs = history_field("total_processes");
	char ts[TIMEFMT_RFC3339_LEN];

	if (header && fprintf(f, "%-20s %-16s %-12s %-4s %6s %-23s %-23s "
	    "%8s\n", "TIME", "HOST", "SOURCE", "TIER", "N",
	    "CPU% AVG (MIN-MAX)", "RAM% AVG (MIN-MAX)", "PROCS") < 0)
		return -1;
	if (timefmt_rfc3339(p->ts_ms, ts, sizeof(ts)) == -1)
		return -1;
	ts[19] = 'Z';
	ts[20] = '\0';
	return fprintf(f, "%-20s %-16.16s %-12.12s %-4s %6llu %7.2f "
	    "(%6.6s-%6.6s) %7.2f (%6.6s-%6.6s) %8.1f\n", ts, p->host,
	    p->source, tiers[p->tier].name, p->samples, p->v[cpu].avg,
	    p->v[cpu].min, p->v[cpu].max, p->v[ram].avg, p->v[ram].min,
	    p->v[ram].max, p->v[procs].avg) < 0 ? -1 : 0;
}

struct history_out {
	FILE *out;
	int table;
	unsigned long long n;
	bool failed;
};

static int
history_print_one(const struct history_point *p, void *arg)
{
	struct history_out *o = arg;
	int rc;

	rc = o->table ? history_point_table(o->out, p, o->n == 0) :
	    history_point_json(o->out, p);
	if (rc == -1 || (!o->table && fputc('\n', o->out) == EOF)) {
		o->failed = true;
		return -1;
	}
	o->n++;
	return 0;
}

int
history_print(const struct db_config *db, struct history_query *q,
    int table, FILE *out)
{
	struct history_out o = { .out = out, .table = table };
	enum db_fault f;
	struct why why;
	char desc[512];
	MYSQL *m;

	db_describe(db, desc, sizeof(desc));
	if ((m = db_connect(db, &why, &f)) == NULL) {
		warnx("%s: %s", desc, why.msg);
		return f == DB_FAULT_CONFIG ? SM_EXIT_USAGE :
		    SM_EXIT_UNAVAILABLE;
	}
	f = history_run(m, q, history_print_one, &o, &why);
	mysql_close(m);
	if (o.failed) {
		warn("stdout");
		return SM_EXIT_PARTIAL;
	}
	switch (f) {
	case DB_FAULT_NONE:
		return SM_EXIT_OK;
	case DB_FAULT_DATA:
		warnx("%s", why.msg);
		return SM_EXIT_USAGE;
	case DB_FAULT_CONFIG:
		warnx("%s: %s", desc, why.msg);
		return SM_EXIT_USAGE;
	default:
		warnx("%s: %s", desc, why.msg);
		return SM_EXIT_UNAVAILABLE;
	}
}
