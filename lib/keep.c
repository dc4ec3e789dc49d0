/*
 * sm-keep's engine (keep.h): the rollup of new raw rows into the tiers,
 * and retention.
 *
 * A rollup step is one transaction: lock the state row, take the next
 * ids after the rolled-up mark (those inserted at least settle_ms ago),
 * read their rows (the binary protocol, streamed) and aggregate them per
 * (host, source, minute) in memory (lib/rollup), fold those minutes into
 * hours, merge each into its tier by a multi-row INSERT ... ON DUPLICATE
 * KEY UPDATE (count and sum add, min and max compare), and move the
 * mark.  The server only reads and merges: its GROUP BY cost three times
 * what this does (bench/RESULTS.md, "The past at size").  Rows are
 * never changed once stored (sm-store only inserts), so adding each row's
 * figures once is exact; the mark moving in the same transaction as the
 * merge makes a rerun, a second instance (it waits on the state row's
 * lock) or a crash (the transaction rolls back) harmless.  A row that
 * arrives late, for a bucket already rolled up, has a new id: it is
 * merged into its bucket on the next step.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mysqld_error.h>

#include "alertstore.h"
#include "clock.h"
#include "keep.h"
#include "rollup.h"
#include "schema.h"
#include "timefmt.h"

#define KEEP_STATE_NAME SCHEMA_TABLE	/* the state row of the raw table */
#define KEEP_RETRIES 5		/* a step redone after a deadlock */
#define KEEP_PARTS_MAX 4096	/* partitions read; MariaDB allows 8192 */
/*
 * Seconds a partition statement waits for the table's metadata lock:
 * writers queue behind a waiting ALTER, so it gives up soon and is tried
 * again on the next pass.
 */
#define KEEP_LOCK_WAIT "2"

/* The sample time of a raw row: the replaced system's rows have none. */
#define KEEP_RAW_TIME "COALESCE(sampled_at, created_at)"

static enum db_fault
keep_exec(MYSQL *m, const char *sql, const char *what, struct why *why)
{
	if (mysql_query(m, sql) != 0)
		return db_error(m, what, why);
	return DB_FAULT_NONE;
}

/* One unsigned number (NULL as 0, *null set) from a one-value query. */
static enum db_fault
keep_number(MYSQL *m, const char *sql, const char *what,
    unsigned long long *v, bool *null, struct why *why)
{
	MYSQL_RES *res;
	MYSQL_ROW row;

	if (mysql_query(m, sql) != 0 ||
	    (res = mysql_store_result(m)) == NULL)
		return db_error(m, what, why);
	*v = 0;
	if (null != NULL)
		*null = true;
	if ((row = mysql_fetch_row(res)) != NULL && row[0] != NULL) {
		*v = strtoull(row[0], NULL, 10);
		if (null != NULL)
			*null = false;
	}
	mysql_free_result(res);
	return DB_FAULT_NONE;
}

enum db_fault
keep_prepare(MYSQL *m, struct why *why)
{
	enum db_fault f;
	char *sql;
	int i;

	f = keep_exec(m, "SET SESSION TRANSACTION ISOLATION LEVEL "
	    "READ COMMITTED", "setting the isolation level", why);
	if (f != DB_FAULT_NONE)
		return f;
	if ((f = schema_ensure(m, true, NULL, why)) != DB_FAULT_NONE)
		return f;
	for (i = TIER_1M; i < TIER_COUNT; i++) {
		if ((sql = tier_create_sql(tiers[i].table, 0)) == NULL)
			return why_set(why, "out of memory"), DB_FAULT_OTHER;
		f = keep_exec(m, sql, "creating a tier", why);
		free(sql);
		if (f != DB_FAULT_NONE)
			return f;
	}
	f = keep_exec(m, "CREATE TABLE IF NOT EXISTS " TIER_STATE_TABLE " (\n"
	    "  name VARCHAR(64) CHARACTER SET ascii NOT NULL PRIMARY KEY,\n"
	    "  raw_id BIGINT UNSIGNED NOT NULL,\n"
	    "  updated_at DATETIME(3) NULL\n"
	    ") ENGINE=InnoDB", "creating the state table", why);
	if (f != DB_FAULT_NONE)
		return f;
	return keep_exec(m, "INSERT IGNORE INTO " TIER_STATE_TABLE
	    " (name, raw_id) VALUES ('" KEEP_STATE_NAME "', 0)",
	    "creating the state row", why);
}

int
keep_check(const struct keep_config *c, struct why *why)
{
	static const char *const opt[TIER_COUNT] = { "--raw", "--minute",
	    "--hour" };
	int i;

	for (i = TIER_1M; i < TIER_COUNT; i++) {
		int64_t fine = c->keep_ms[i - 1], coarse = c->keep_ms[i];

		if (coarse != 0 && (fine == 0 || fine > coarse))
			return why_set(why, "%s keeps %s than %s: the "
			    "rollups of deleted rows would be gone first; "
			    "keep each tier at least as long as the finer one",
			    opt[i - 1], fine == 0 ? "for ever, longer" :
			    "longer", opt[i]);
	}
	return 0;
}

/* Bytes a host or source is read into: VARCHAR(255) of utf8mb4 and more */
#define KEEP_NAME_MAX 2048
#define KEEP_MERGE_ROWS 1000	/* buckets an INSERT merges into a tier */
#define KEEP_DECIMAL_MAX 72	/* a DECIMAL's text: 65 digits, sign, dot */

/*
 * The rollup's statement and buffers, made once a pass: the reading of
 * raw ids (?, ?] by the binary protocol, streamed, into the minute
 * buckets, which fold into the hour buckets; and the INSERT that merges
 * buckets into a tier.
 */
struct keep_roll {
	MYSQL_STMT *read;
	unsigned long long range[2];
	MYSQL_BIND param[2];
	MYSQL_BIND *col;	/* host, source, sample time, the fields */
	char host[KEEP_NAME_MAX], source[KEEP_NAME_MAX];
	unsigned long host_len, source_len;
	my_bool host_null, source_null, time_null;
	MYSQL_TIME time;
	union rollup_num *v;	/* a field each */
	char (*text)[KEEP_DECIMAL_MAX];	/* a DECIMAL field's text */
	unsigned long *text_len;
	my_bool *null, *err;	/* a column each */
	struct rollup_field *fields;	/* how each field adds up */
	struct rollup *tier[TIER_COUNT];	/* 1m and 1h */
	char *head[TIER_COUNT];	/* "INSERT INTO tier (...) VALUES " */
	char *tail[TIER_COUNT];	/* " ON DUPLICATE KEY UPDATE ..." */
};

#define KEEP_COLS_FIXED 3	/* host, source, sample time */

static const char *const keep_name_fmt[4] = {
	"%1$s_n", "%1$s_min", "%1$s_max", "%1$s_sum"
};
/*
 * The merge of a bucket into a stored one, for tier table %1$s (named:
 * VALUES() names the new row's); field %%1$s.
 */
static const char *const keep_odku_tmpl[4] = {
	"%1$s.%%1$s_n = %1$s.%%1$s_n + VALUES(%%1$s_n)",
	"%1$s.%%1$s_min = LEAST(COALESCE(%1$s.%%1$s_min, VALUES(%%1$s_min)), "
	    "COALESCE(VALUES(%%1$s_min), %1$s.%%1$s_min))",
	"%1$s.%%1$s_max = GREATEST(COALESCE(%1$s.%%1$s_max, "
	    "VALUES(%%1$s_max)), COALESCE(VALUES(%%1$s_max), "
	    "%1$s.%%1$s_max))",
	"%1$s.%%1$s_sum = IF(VALUES(%%1$s_sum) IS NULL, %1$s.%%1$s_sum, "
	    "COALESCE(%1$s.%%1$s_sum, 0) + VALUES(%%1$s_sum))"
};

/* The ON DUPLICATE KEY UPDATE list of a tier; NULL: out of memory. */
static char *
keep_odku(const char *table)
{
	char *fmt[4] = { NULL }, *samples = NULL, *text = NULL;
	int k;

	for (k = 0; k < 4; k++)
		if (asprintf(&fmt[k], keep_odku_tmpl[k], table) == -1) {
			fmt[k] = NULL;
			goto out_free;
		}
	if (asprintf(&samples, "%1$s.samples = %1$s.samples + "
	    "VALUES(samples)", table) == -1) {
		samples = NULL;
		goto out_free;
	}
	text = tier_columns(samples, (const char *const *)fmt);
out_free:
	for (k = 0; k < 4; k++)
		free(fmt[k]);
	free(samples);
	return text;
}

static void
keep_roll_free(struct keep_roll *k)
{
	int i;

	if (k->read != NULL)
		mysql_stmt_close(k->read);
	free(k->col);
	free(k->v);
	free(k->fields);
	free(k->text);
	free(k->text_len);
	free(k->null);
	free(k->err);
	for (i = TIER_1M; i < TIER_COUNT; i++) {
		rollup_free(k->tier[i]);
		free(k->head[i]);
		free(k->tail[i]);
	}
}

/* The INSERT's text around the VALUES of each tier; -1: out of memory. */
static int
keep_roll_merge_sql(struct keep_roll *k)
{
	char *names, *odku;
	int i, rc = 0;

	if ((names = tier_columns("samples", keep_name_fmt)) == NULL)
		return -1;
	for (i = TIER_1M; i < TIER_COUNT && rc == 0; i++) {
		if (asprintf(&k->head[i], "INSERT INTO %s (host, source, "
		    "bucket, %s) VALUES ", tiers[i].table, names) == -1) {
			k->head[i] = NULL;
			rc = -1;
		} else if ((odku = keep_odku(tiers[i].table)) == NULL)
			rc = -1;
		else {
			if (asprintf(&k->tail[i], " ON DUPLICATE KEY UPDATE %s",
			    odku) == -1) {
				k->tail[i] = NULL;
				rc = -1;
			}
			free(odku);
		}
	}
	free(names);
	return rc;
}

/*
 * The reading statement's text: host, source, time, the fields.  Host
 * and data_source come in the connection's utf8mb4, whatever the
 * replaced system's table holds, and are compared byte for byte, as
 * sm-tail --host does (the table's collation would make "VM" and "vm"
 * one bucket); NULL as "".
 */
static char *
keep_roll_read_sql(void)
{
	char *sql = NULL;
	size_t size = 0, i;
	FILE *f;

	if ((f = open_memstream(&sql, &size)) == NULL)
		return NULL;
	fputs("SELECT host, data_source, " KEEP_RAW_TIME, f);
	for (i = 0; i < tier_nfields; i++)
		fprintf(f, ", %s", tier_fields[i].name);
	fputs(" FROM " SCHEMA_TABLE " WHERE id > ? AND id <= ?", f);
	if (fclose(f) == EOF) {
		free(sql);
		return NULL;
	}
	return sql;
}

/* How a raw column's values add up, from its type. */
static struct rollup_field
keep_roll_kind(const MYSQL_FIELD *f)
{
	struct rollup_field rf = { ROLLUP_REAL, -1 };

	switch (f->type) {
	case MYSQL_TYPE_TINY:
	case MYSQL_TYPE_SHORT:
	case MYSQL_TYPE_INT24:
	case MYSQL_TYPE_LONG:
	case MYSQL_TYPE_LONGLONG:
	case MYSQL_TYPE_YEAR:
		rf.kind = ROLLUP_FIXED;
		rf.decimals = 0;
		break;
	case MYSQL_TYPE_DECIMAL:
	case MYSQL_TYPE_NEWDECIMAL:
		/* read as text, exactly; past 18 decimals as a double */
		rf.decimals = (int)f->decimals;
		if (f->decimals <= 18)
			rf.kind = ROLLUP_FIXED;
		break;
	default:
		/* FLOAT(M,D) and DOUBLE(M,D) have theirs; else 31 */
		if (f->decimals < 31)
			rf.decimals = (int)f->decimals;
		break;
	}
	return rf;
}

/* A result column bound to buf. */
static void
keep_bind(MYSQL_BIND *b, enum enum_field_types type, void *buf,
    unsigned long size, unsigned long *len, my_bool *null, my_bool *err)
{
	b->buffer_type = type;
	b->buffer = buf;
	b->buffer_length = size;
	b->length = len;
	b->is_null = null;
	b->error = err;
}

/* The rollup's statement prepared, its columns bound, its buckets made. */
static enum db_fault
keep_roll_make(MYSQL *m, struct keep_roll *k, struct why *why)
{
	size_t ncol = KEEP_COLS_FIXED + tier_nfields, i;
	MYSQL_RES *meta = NULL;
	enum db_fault f = DB_FAULT_OTHER;
	char *sql;
	int t;

	memset(k, 0, sizeof(*k));
	if ((sql = keep_roll_read_sql()) == NULL ||
	    keep_roll_merge_sql(k) == -1 ||
	    (k->col = calloc(ncol, sizeof(*k->col))) == NULL ||
	    (k->v = calloc(tier_nfields, sizeof(*k->v))) == NULL ||
	    (k->text = calloc(tier_nfields, sizeof(*k->text))) == NULL ||
	    (k->text_len = calloc(tier_nfields, sizeof(*k->text_len))) ==
	    NULL ||
	    (k->null = calloc(ncol, sizeof(*k->null))) == NULL ||
	    (k->err = calloc(ncol, sizeof(*k->err))) == NULL ||
	    (k->fields = calloc(tier_nfields, sizeof(*k->fields))) == NULL ||
	    (k->read = mysql_stmt_init(m)) == NULL) {
		why_set(why, "out of memory");
		goto out_free;
	}
	if (mysql_stmt_prepare(k->read, sql, strlen(sql)) != 0) {
		f = db_stmt_error(k->read, "preparing the rollup", why);
		goto out_free;
	}
	if ((meta = mysql_stmt_result_metadata(k->read)) == NULL ||
	    mysql_num_fields(meta) != ncol) {
		f = db_stmt_error(k->read, "preparing the rollup", why);
		goto out_free;
	}
	for (i = 0; i < tier_nfields; i++)
		k->fields[i] = keep_roll_kind(mysql_fetch_field_direct(meta,
		    (unsigned)(KEEP_COLS_FIXED + i)));
	for (t = TIER_1M; t < TIER_COUNT; t++)
		if ((k->tier[t] = rollup_new(tiers[t].bucket_ms / 1000,
		    k->fields, tier_nfields)) == NULL) {
			why_set(why, "out of memory");
			goto out_free;
		}
	for (i = 0; i < 2; i++) {
		k->param[i].buffer_type = MYSQL_TYPE_LONGLONG;
		k->param[i].buffer = &k->range[i];
		k->param[i].is_unsigned = 1;
	}
	keep_bind(&k->col[0], MYSQL_TYPE_STRING, k->host, sizeof(k->host),
	    &k->host_len, &k->host_null, &k->err[0]);
	keep_bind(&k->col[1], MYSQL_TYPE_STRING, k->source,
	    sizeof(k->source), &k->source_len, &k->source_null, &k->err[1]);
	keep_bind(&k->col[2], MYSQL_TYPE_DATETIME, &k->time,
	    sizeof(k->time), NULL, &k->time_null, &k->err[2]);
	for (i = 0; i < tier_nfields; i++) {
		MYSQL_BIND *b = &k->col[KEEP_COLS_FIXED + i];
		my_bool *null = &k->null[KEEP_COLS_FIXED + i];
		my_bool *err = &k->err[KEEP_COLS_FIXED + i];

		if (k->fields[i].kind == ROLLUP_REAL)
			keep_bind(b, MYSQL_TYPE_DOUBLE, &k->v[i],
			    sizeof(k->v[i]), NULL, null, err);
		else if (k->fields[i].decimals == 0)
			keep_bind(b, MYSQL_TYPE_LONGLONG, &k->v[i],
			    sizeof(k->v[i]), NULL, null, err);
		else
			keep_bind(b, MYSQL_TYPE_STRING, k->text[i],
			    sizeof(k->text[i]), &k->text_len[i], null, err);
	}
	if (mysql_stmt_bind_param(k->read, k->param) != 0 ||
	    mysql_stmt_bind_result(k->read, k->col) != 0) {
		f = db_stmt_error(k->read, "binding the rollup", why);
		goto out_free;
	}
	f = DB_FAULT_NONE;
out_free:
	if (meta != NULL)
		mysql_free_result(meta);
	free(sql);
	if (f != DB_FAULT_NONE)
		keep_roll_free(k);
	return f;
}

/* The raw id rolled up to (the state row, read without a lock). */
static enum db_fault
keep_mark(MYSQL *m, unsigned long long *mark, struct why *why)
{
	return keep_number(m, "SELECT raw_id FROM " TIER_STATE_TABLE
	    " WHERE name = '" KEEP_STATE_NAME "'", "reading the state", mark,
	    NULL, why);
}

/*
 * The raw table started again (TRUNCATE, or DROP and CREATE): its next id
 * is at or below the mark.  Then the mark goes back to 0; the tiers keep
 * what they hold.
 */
static enum db_fault
keep_restart_check(MYSQL *m, struct keep_stats *st, struct why *why)
{
	unsigned long long next, mark;
	enum db_fault f;
	bool null;

	f = keep_mark(m, &mark, why);
	if (f != DB_FAULT_NONE || mark == 0)
		return f;
	f = keep_number(m, "SELECT AUTO_INCREMENT FROM "
	    "information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND "
	    "TABLE_NAME = '" SCHEMA_TABLE "'", "reading the next id", &next,
	    &null, why);
	if (f != DB_FAULT_NONE || null || next > mark)
		return f;
	st->restarted = true;
	return keep_exec(m, "UPDATE " TIER_STATE_TABLE " SET raw_id = 0 "
	    "WHERE name = '" KEEP_STATE_NAME "'", "resetting the state", why);
}

/*
 * The last id of the next step: the highest of ids (mark, mark + step]
 * when its row settled, read by one index dive, which is the rule while
 * catching up; else (near the newest rows, or ids far apart) the highest
 * settled one of the next step_rows rows, which reads them.  *null when
 * none is settled.
 */
static enum db_fault
keep_upto(MYSQL *m, const struct keep_config *c, unsigned long long mark,
    unsigned long long *upto, bool *null, struct why *why)
{
	long long settle = (long long)(c->settle_ms / 1000);
	enum db_fault f;
	MYSQL_RES *res;
	MYSQL_ROW row;
	char sql[512];
	bool settled = false;

	snprintf(sql, sizeof(sql), "SELECT id, created_at IS NULL OR "
	    "created_at <= UTC_TIMESTAMP() - INTERVAL %lld SECOND FROM "
	    SCHEMA_TABLE " WHERE id > %llu AND id <= %llu ORDER BY id DESC "
	    "LIMIT 1", settle, mark, mark + c->step_rows);
	if (mysql_query(m, sql) != 0 ||
	    (res = mysql_store_result(m)) == NULL)
		return db_error(m, "finding new rows", why);
	if ((row = mysql_fetch_row(res)) != NULL && row[0] != NULL &&
	    row[1] != NULL && strcmp(row[1], "1") == 0) {
		*upto = strtoull(row[0], NULL, 10);
		settled = true;
	}
	mysql_free_result(res);
	*null = !settled;
	if (settled)
		return DB_FAULT_NONE;
	snprintf(sql, sizeof(sql), "SELECT MAX(id) FROM (SELECT id, created_at"
	    " FROM " SCHEMA_TABLE " WHERE id > %llu ORDER BY id LIMIT %u) x"
	    " WHERE created_at IS NULL OR created_at <= UTC_TIMESTAMP() - "
	    "INTERVAL %lld SECOND", mark, c->step_rows, settle);
	f = keep_number(m, sql, "finding new rows", upto, null, why);
	return f;
}

/*
 * A fetched row that did not fit: a host or source too long, or an
 * integer out of range (a double only lost digits, as the server's do).
 */
static bool
keep_roll_truncated(const struct keep_roll *k)
{
	size_t i;

	for (i = 0; i < KEEP_COLS_FIXED + tier_nfields; i++)
		if (k->err[i] && k->col[i].buffer_type != MYSQL_TYPE_DOUBLE)
			return true;
	return false;
}

/* The DECIMAL fields' text as integers; -1: one is not a number. */
static int
keep_roll_decimals(struct keep_roll *k)
{
	size_t i;

	for (i = 0; i < tier_nfields; i++)
		if (k->col[KEEP_COLS_FIXED + i].buffer_type ==
		    MYSQL_TYPE_STRING && !k->null[KEEP_COLS_FIXED + i] &&
		    rollup_fixed(k->text[i], k->text_len[i],
		    k->fields[i].decimals, &k->v[i].i) == -1)
			return -1;
	return 0;
}

/* The raw rows of ids (mark, upto] into the minute buckets. */
static enum db_fault
keep_roll_read(struct keep_roll *k, unsigned long long mark,
    unsigned long long upto, struct why *why)
{
	struct rollup *r = k->tier[TIER_1M];
	const MYSQL_TIME *tm = &k->time;
	enum db_fault f = DB_FAULT_NONE;
	int64_t t;
	int rc;

	k->range[0] = mark;
	k->range[1] = upto;
	if (mysql_stmt_execute(k->read) != 0)
		return db_stmt_error(k->read, "reading new rows", why);
	while ((rc = mysql_stmt_fetch(k->read)) == 0 ||
	    rc == MYSQL_DATA_TRUNCATED) {
		if (rc == MYSQL_DATA_TRUNCATED && keep_roll_truncated(k)) {
			why_set(why, "reading new rows: a host or source "
			    "past %d bytes, or a figure past 64 bits",
			    KEEP_NAME_MAX);
			f = DB_FAULT_OTHER;
			goto out_free_result;
		}
		if (k->time_null)
			continue;	/* neither sampled_at nor created_at */
		if (keep_roll_decimals(k) == -1) {
			why_set(why, "reading new rows: a DECIMAL past 64 "
			    "bits");
			f = DB_FAULT_OTHER;
			goto out_free_result;
		}
		t = timefmt_days_from_civil((int)tm->year, (int)tm->month,
		    (int)tm->day) * 86400 + tm->hour * 3600 +
		    tm->minute * 60 + tm->second;
		if (rollup_add(r, k->host, k->host_null ? 0 : k->host_len,
		    k->source, k->source_null ? 0 : k->source_len, t, k->v,
		    k->null + KEEP_COLS_FIXED) == -1) {
			why_set(why, "rolling up: %s", errno == ERANGE ?
			    "a sum past 2^63" : "out of memory");
			f = DB_FAULT_OTHER;
			goto out_free_result;
		}
	}
	if (rc != MYSQL_NO_DATA)
		f = db_stmt_error(k->read, "reading new rows", why);
out_free_result:
	mysql_stmt_free_result(k->read);
	return f;
}

/* A tier's buckets merged into it, KEEP_MERGE_ROWS an INSERT. */
static enum db_fault
keep_roll_merge(MYSQL *m, struct keep_roll *k, int tier, struct why *why)
{
	struct rollup *r = k->tier[tier];
	struct rollup_bucket *const *b;
	size_t n = rollup_count(r), i, chunk, size;
	enum db_fault f = DB_FAULT_NONE;
	char *sql;
	FILE *out;

	if ((b = rollup_sorted(r)) == NULL)
		return why_set(why, "out of memory"), DB_FAULT_OTHER;
	for (i = 0; i < n && f == DB_FAULT_NONE; i += chunk) {
		chunk = n - i < KEEP_MERGE_ROWS ? n - i : KEEP_MERGE_ROWS;
		sql = NULL;
		if ((out = open_memstream(&sql, &size)) == NULL)
			return why_set(why, "out of memory"), DB_FAULT_OTHER;
		fputs(k->head[tier], out);
		if (rollup_values(r, b + i, chunk, out) == -1 ||
		    fputs(k->tail[tier], out) == EOF) {
			fclose(out);
			free(sql);
			return why_set(why, "out of memory, or a bucket "
			    "before 1970"), DB_FAULT_OTHER;
		}
		if (fclose(out) == EOF) {
			free(sql);
			return why_set(why, "out of memory"), DB_FAULT_OTHER;
		}
		if (mysql_real_query(m, sql, size) != 0)
			f = db_error(m, tier == TIER_1M ? "merging into the "
			    "minute tier" : "merging into the hour tier", why);
		free(sql);
	}
	return f;
}

/*
 * One step: 0 rolled up ids (caught up) or more; the fault, with the
 * transaction rolled back, else.
 */
static enum db_fault
keep_step(MYSQL *m, const struct keep_config *c, struct keep_roll *k,
    struct keep_stats *st, bool *more, struct why *why)
{
	unsigned long long mark, upto;
	enum db_fault f;
	char sql[512];
	bool null;
	int t;

	*more = false;
	if ((f = keep_exec(m, "START TRANSACTION", "starting a transaction",
	    why)) != DB_FAULT_NONE)
		return f;
	f = keep_number(m, "SELECT raw_id FROM " TIER_STATE_TABLE
	    " WHERE name = '" KEEP_STATE_NAME "' FOR UPDATE",
	    "locking the state", &mark, NULL, why);
	if (f != DB_FAULT_NONE)
		goto out_rollback;
	if ((f = keep_upto(m, c, mark, &upto, &null, why)) != DB_FAULT_NONE)
		goto out_rollback;
	if (null) {
		st->rolled_id = mark;
		return keep_exec(m, "COMMIT", "committing", why);
	}
	for (t = TIER_1M; t < TIER_COUNT; t++)
		rollup_clear(k->tier[t]);
	if ((f = keep_roll_read(k, mark, upto, why)) != DB_FAULT_NONE)
		goto out_rollback;
	if (rollup_fold(k->tier[TIER_1H], k->tier[TIER_1M]) == -1) {
		why_set(why, "rolling up: %s", errno == ERANGE ?
		    "a sum past 2^63" : "out of memory");
		f = DB_FAULT_OTHER;
		goto out_rollback;
	}
	for (t = TIER_1M; t < TIER_COUNT; t++)
		if ((f = keep_roll_merge(m, k, t, why)) != DB_FAULT_NONE)
			goto out_rollback;
	snprintf(sql, sizeof(sql), "UPDATE " TIER_STATE_TABLE " SET raw_id = "
	    "%llu, updated_at = UTC_TIMESTAMP(3) WHERE name = '"
	    KEEP_STATE_NAME "'", upto);
	if ((f = keep_exec(m, sql, "moving the mark", why)) != DB_FAULT_NONE)
		goto out_rollback;
	if ((f = keep_exec(m, "COMMIT", "committing", why)) != DB_FAULT_NONE)
		goto out_rollback;
	st->rows += rollup_rows(k->tier[TIER_1M]);
	st->buckets[TIER_1M] += rollup_count(k->tier[TIER_1M]);
	st->steps++;
	st->rolled_id = upto;
	*more = true;
	return DB_FAULT_NONE;

out_rollback:
	mysql_query(m, "ROLLBACK");
	return f;
}

enum db_fault
keep_rollup(MYSQL *m, const struct keep_config *c,
    volatile const sig_atomic_t *stop, struct keep_stats *st,
    struct why *why)
{
	struct keep_roll k;
	enum db_fault f;
	bool more = true;
	int tries = 0;

	if ((f = keep_restart_check(m, st, why)) != DB_FAULT_NONE)
		return f;
	if ((f = keep_roll_make(m, &k, why)) != DB_FAULT_NONE)
		return f;
	while (more && (stop == NULL || *stop == 0)) {
		f = keep_step(m, c, &k, st, &more, why);
		if (f == DB_FAULT_RETRY && ++tries < KEEP_RETRIES) {
			more = true;	/* a deadlock: the step again */
			continue;
		}
		if (f != DB_FAULT_NONE)
			break;
		tries = 0;
	}
	keep_roll_free(&k);
	return f;
}

/* A daily partition of the raw table, or SCHEMA_PART_MAX. */
struct keep_part {
	char name[65];
	int64_t bound;		/* holds days before this one; -1: MAXVALUE */
	unsigned long long rows;	/* the server's estimate */
};

/* "'2026-12-08'" as a day number; -1 when it is not a date. */
static int64_t
keep_part_day(const char *desc)
{
	char buf[32];
	const char *why;
	int64_t ms;

	if (strlen(desc) != 12 || desc[0] != '\'' || desc[11] != '\'')
		return -1;
	snprintf(buf, sizeof(buf), "%.10sT00:00:00Z", desc + 1);
	if (timefmt_parse(buf, &ms, &why) == -1)
		return -1;
	return ms / SCHEMA_DAY_MS;
}

/*
 * The raw table's partitions, in order, when it is partitioned by
 * sampled_day into days and pmax as sm makes it (*n 0 otherwise: the
 * table is not sm's to drop whole).
 */
static enum db_fault
keep_parts(MYSQL *m, struct keep_part *parts, size_t max, size_t *n,
    struct why *why)
{
	MYSQL_RES *res;
	MYSQL_ROW row;
	bool ours = true;

	*n = 0;
	if (mysql_query(m, "SELECT PARTITION_NAME, PARTITION_DESCRIPTION, "
	    "PARTITION_EXPRESSION, TABLE_ROWS FROM information_schema."
	    "PARTITIONS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '"
	    SCHEMA_TABLE "' ORDER BY PARTITION_ORDINAL_POSITION") != 0 ||
	    (res = mysql_store_result(m)) == NULL)
		return db_error(m, "reading the table's partitions", why);
	while ((row = mysql_fetch_row(res)) != NULL && ours) {
		struct keep_part *p = &parts[*n];

		if (row[0] == NULL || row[1] == NULL || row[2] == NULL ||
		    strcmp(row[2], "`sampled_day`") != 0 || *n == max) {
			ours = false;
			break;
		}
		snprintf(p->name, sizeof(p->name), "%s", row[0]);
		p->bound = strcmp(row[1], "MAXVALUE") == 0 ? -1 :
		    keep_part_day(row[1]);
		p->rows = row[3] != NULL ? strtoull(row[3], NULL, 10) : 0;
		if (p->bound == -1 && strcmp(row[1], "MAXVALUE") != 0)
			ours = false;
		(*n)++;
	}
	mysql_free_result(res);
	/* days in order, then pmax last */
	if (!ours || *n == 0 || parts[*n - 1].bound != -1 ||
	    strcmp(parts[*n - 1].name, SCHEMA_PART_MAX) != 0)
		*n = 0;
	return DB_FAULT_NONE;
}

/*
 * A partition statement, given up after a few seconds' wait for the
 * table's lock (a long transaction on it): 1 done, 0 busy, -1 failed.
 */
static int
keep_part_ddl(MYSQL *m, const char *sql, const char *what,
    enum db_fault *f, struct why *why)
{
	if (mysql_query(m, sql) == 0)
		return 1;
	if (mysql_errno(m) == ER_LOCK_WAIT_TIMEOUT)
		return 0;
	*f = db_error(m, what, why);
	return -1;
}

/* The partitions of the days up to today + SCHEMA_DAYS_AHEAD. */
static enum db_fault
keep_parts_ahead(MYSQL *m, const struct keep_part *parts, size_t n,
    int64_t today, struct keep_stats *st, struct why *why)
{
	int64_t first, last = today + SCHEMA_DAYS_AHEAD;
	enum db_fault f = DB_FAULT_NONE;
	char *sql = NULL;
	size_t size = 0;
	FILE *out;

	/* pmax holds the days after the last day's partition */
	first = n >= 2 ? parts[n - 2].bound : today;
	if (first > last)
		return DB_FAULT_NONE;
	if ((out = open_memstream(&sql, &size)) == NULL)
		return why_set(why, "out of memory"), DB_FAULT_OTHER;
	fputs("ALTER TABLE " SCHEMA_TABLE " REORGANIZE PARTITION "
	    SCHEMA_PART_MAX " INTO (", out);
	schema_partition_list(out, first, last);
	fputc(')', out);
	if (fclose(out) == EOF) {
		free(sql);
		return why_set(why, "out of memory"), DB_FAULT_OTHER;
	}
	switch (keep_part_ddl(m, sql, "making partitions ahead", &f, why)) {
	case 1:
		st->parts_made += (unsigned long long)(last - first + 1);
		break;
	case 0:
		st->parts_busy = true;
		break;
	}
	free(sql);
	return f;
}

/*
 * Drop the daily partitions wholly before cutoff_ms whose rows are all
 * rolled up, oldest first; the last day's partition stays (it then holds
 * every older row, as the first one does).
 */
static enum db_fault
keep_parts_drop(MYSQL *m, const struct keep_part *parts, size_t n,
    int64_t cutoff_ms, struct keep_stats *st, struct why *why)
{
	unsigned long long mark, top, newest;
	enum db_fault f;
	char sql[256];
	int64_t t0;
	bool null;
	size_t i;
	int done;

	f = keep_mark(m, &mark, why);
	if (f == DB_FAULT_NONE)
		f = keep_number(m, "SELECT MAX(id) FROM " SCHEMA_TABLE,
		    "reading the newest id", &newest, NULL, why);
	for (i = 0; f == DB_FAULT_NONE && i + 2 < n; i++) {
		if (parts[i].bound * SCHEMA_DAY_MS > cutoff_ms)
			break;
		snprintf(sql, sizeof(sql), "SELECT MAX(id) FROM " SCHEMA_TABLE
		    " PARTITION (%s)", parts[i].name);
		if ((f = keep_number(m, sql, "reading a partition", &top,
		    &null, why)) != DB_FAULT_NONE)
			break;
		if (!null && top > mark)
			break;	/* not rolled up yet: the next pass */
		/*
		 * InnoDB's next id is the highest the partitions left were
		 * given: dropping the newest id's hands rolled-up ids out
		 * again (missed, or the mark reset and rows counted twice).
		 */
		if (!null && top >= newest)
			break;
		snprintf(sql, sizeof(sql), "ALTER TABLE " SCHEMA_TABLE
		    " DROP PARTITION %s", parts[i].name);
		t0 = clock_mono_ms();
		done = keep_part_ddl(m, sql, "dropping a partition", &f, why);
		st->drop_ms += clock_mono_ms() - t0;
		switch (done) {
		case 1:
			st->parts_dropped++;
			st->parts_rows += parts[i].rows;
			continue;
		case 0:
			st->parts_busy = true;
			break;
		}
		break;
	}
	return f;
}

/*
 * The partitions of a table sm made: days ahead made, days past
 * retention dropped.  *partitioned false for any other table.
 */
static enum db_fault
keep_retain_parts(MYSQL *m, const struct keep_config *c, int64_t now_ms,
    struct keep_stats *st, bool *partitioned, struct why *why)
{
	struct keep_part *parts;
	enum db_fault f;
	size_t n;

	if ((parts = calloc(KEEP_PARTS_MAX, sizeof(*parts))) == NULL)
		return why_set(why, "out of memory"), DB_FAULT_OTHER;
	f = keep_parts(m, parts, KEEP_PARTS_MAX, &n, why);
	*partitioned = n > 0;
	if (f != DB_FAULT_NONE || n == 0)
		goto out_free;
	if ((f = keep_exec(m, "SET SESSION lock_wait_timeout = "
	    KEEP_LOCK_WAIT, "setting the lock wait", why)) != DB_FAULT_NONE)
		goto out_free;
	if (c->keep_ms[TIER_RAW] > 0 && c->keep_ms[TIER_RAW] < now_ms &&
	    (f = keep_parts_drop(m, parts, n, now_ms - c->keep_ms[TIER_RAW],
	    st, why)) != DB_FAULT_NONE)
		goto out_free;
	/* read again: the drops moved them */
	if ((f = keep_parts(m, parts, KEEP_PARTS_MAX, &n, why)) !=
	    DB_FAULT_NONE || n == 0)
		goto out_free;
	f = keep_parts_ahead(m, parts, n, now_ms / SCHEMA_DAY_MS, st, why);
out_free:
	free(parts);
	return f;
}

/*
 * Rows of table whose column col is before cutoff, a chunk at a time,
 * counted in *deleted; a table not there yet has none.
 */
static enum db_fault
keep_retain_rows(MYSQL *m, const char *table, const char *col,
    const char *cutoff, volatile const sig_atomic_t *stop,
    unsigned long long *deleted, const char *what, struct why *why)
{
	unsigned long long n;
	char sql[256];

	snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE %s < '%s' "
	    "LIMIT %d", table, col, cutoff, KEEP_DELETE_CHUNK);
	do {
		if (mysql_query(m, sql) != 0)
			return mysql_errno(m) == ER_NO_SUCH_TABLE ?
			    DB_FAULT_NONE : db_error(m, what, why);
		n = mysql_affected_rows(m);
		*deleted += n;
	} while (n == KEEP_DELETE_CHUNK && (stop == NULL || *stop == 0));
	return DB_FAULT_NONE;
}

/*
 * Raw rows sampled before cutoff and rolled up, oldest ids first: the
 * ids [lo, lo + chunk) a statement, until a chunk keeps a row (newer, or
 * not rolled up yet) or the mark is reached.  A row sampled long ago but
 * stored late (a higher id) goes when the front reaches it.
 */
static enum db_fault
keep_retain_raw(MYSQL *m, const char *cutoff,
    volatile const sig_atomic_t *stop, struct keep_stats *st,
    struct why *why)
{
	unsigned long long mark, lo, hi, next = 0;
	enum db_fault f;
	char sql[512];
	bool null, first = true;

	f = keep_mark(m, &mark, why);
	if (f != DB_FAULT_NONE)
		return f;
	for (;;) {
		if ((f = keep_number(m, "SELECT MIN(id) FROM " SCHEMA_TABLE,
		    "finding the oldest row", &lo, &null, why)) !=
		    DB_FAULT_NONE)
			return f;
		/* empty, all kept so far, or a row of the last chunk stayed */
		if (null || lo > mark || (!first && lo < next))
			return DB_FAULT_NONE;
		if (stop != NULL && *stop != 0)
			return DB_FAULT_NONE;
		hi = lo + KEEP_DELETE_CHUNK;
		if (hi > mark + 1)
			hi = mark + 1;
		snprintf(sql, sizeof(sql), "DELETE FROM " SCHEMA_TABLE
		    " WHERE id >= %llu AND id < %llu AND COALESCE(sampled_at, "
		    "created_at, '1970-01-01') < '%s'", lo, hi, cutoff);
		if (mysql_query(m, sql) != 0)
			return db_error(m, "deleting old rows", why);
		st->deleted[TIER_RAW] += mysql_affected_rows(m);
		next = hi;
		first = false;
		if (hi == mark + 1)
			return DB_FAULT_NONE;
	}
}

enum db_fault
keep_retain(MYSQL *m, const struct keep_config *c, int64_t now_ms,
    volatile const sig_atomic_t *stop, struct keep_stats *st,
    struct why *why)
{
	char cutoff[TIMEFMT_RFC3339_LEN];
	bool partitioned;
	enum db_fault f;
	int i;

	if ((f = keep_retain_parts(m, c, now_ms, st, &partitioned, why)) !=
	    DB_FAULT_NONE)
		return f;
	/* the tiers first: what a raw row's rollup needs stays longer */
	for (i = TIER_COUNT - 1; i >= TIER_RAW; i--) {
		if (c->keep_ms[i] == 0 || c->keep_ms[i] > now_ms ||
		    (i == TIER_RAW && partitioned))
			continue;
		if (timefmt_seed(now_ms - c->keep_ms[i], cutoff,
		    sizeof(cutoff)) == -1)
			return why_set(why, "bad time"), DB_FAULT_OTHER;
		f = i == TIER_RAW ? keep_retain_raw(m, cutoff, stop, st, why) :
		    keep_retain_rows(m, tiers[i].table, "bucket", cutoff,
		    stop, &st->deleted[i], "deleting old buckets", why);
		if (f != DB_FAULT_NONE)
			return f;
	}
	/* the alert history (sm-tail --keep-alerts), by the event's time */
	if (c->alerts_ms == 0 || c->alerts_ms > now_ms)
		return DB_FAULT_NONE;
	if (timefmt_seed(now_ms - c->alerts_ms, cutoff, sizeof(cutoff)) == -1)
		return why_set(why, "bad time"), DB_FAULT_OTHER;
	return keep_retain_rows(m, ALERTSTORE_TABLE, "at", cutoff, stop,
	    &st->alerts_deleted, "deleting old alert events", why);
}
