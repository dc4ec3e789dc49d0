/*
 * sm-keep's retention by size (keepsize.h): what each table measures, how
 * many of its oldest rows or days go, and the statements that remove them.
 *
 * A table's size is its data and indexes as information_schema gives
 * them.  The raw table partitioned by day (sm's) loses whole days, the
 * oldest first, each dropped only once all its rows are rolled up: a day
 * dropped is its size gone.  Any other table (the replaced system's, the
 * tiers) deletes rows in place, and InnoDB keeps their pages for new rows:
 * its measured size does not fall, and deleting until it did would empty
 * the table.  So there the limit bounds the rows: rows times the smallest
 * bytes a row ever measured (after ANALYZE TABLE, so that size and rows
 * are of one moment), kept in KEEPSIZE_TABLE between passes.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mysqld_error.h>

#include "clock.h"
#include "keep.h"
#include "keepsize.h"
#include "schema.h"

#define KEEPSIZE_PARTS_MAX 4096	/* partitions read; MariaDB allows 8192 */
/*
 * A table whose size by the figures at hand is under this share of its
 * limit is not measured again (ANALYZE TABLE) this pass.
 */
#define KEEPSIZE_NEAR 0.9

double
keepsize_row_bytes(double kept, unsigned long long bytes,
    unsigned long long rows)
{
	double now;

	if (rows == 0 || bytes == 0)
		return kept;
	now = (double)bytes / (double)rows;
	return kept > 0 && kept <= now ? kept : now;
}

unsigned long long
keepsize_excess_rows(unsigned long long rows, double row_bytes,
    unsigned long long limit)
{
	unsigned long long whole;
	double over, k;

	if (row_bytes <= 0)
		return 0;
	over = (double)rows * row_bytes - (double)limit;
	if (over <= 0)
		return 0;
	if ((double)limit < row_bytes)
		return KEEPSIZE_ALL;
	k = over / row_bytes;
	if (k >= (double)rows)
		return rows;
	whole = (unsigned long long)k;
	return whole < k ? whole + 1 : whole;	/* rounded up */
}

size_t
keepsize_parts_pick(const struct keepsize_part *p, size_t n, int64_t today,
    unsigned long long limit, bool *today_over)
{
	unsigned long long total = 0;
	size_t i;

	*today_over = false;
	for (i = 0; i < n; i++)
		total += p[i].bytes;
	for (i = 0; i < n && total > limit; i++) {
		/* pmax, the last day's, today's and those ahead stay */
		if (i + 2 >= n || p[i].bound == -1 || p[i].bound > today) {
			*today_over = true;
			break;
		}
		total -= p[i].bytes;
	}
	return i;
}

static enum db_fault
keepsize_exec(MYSQL *m, const char *sql, const char *what, struct why *why)
{
	MYSQL_RES *res;

	if (mysql_query(m, sql) != 0)
		return db_error(m, what, why);
	/* ANALYZE TABLE answers a result */
	if ((res = mysql_store_result(m)) != NULL)
		mysql_free_result(res);
	else if (mysql_field_count(m) != 0)
		return db_error(m, what, why);
	return DB_FAULT_NONE;
}

/*
 * The first row of a query as up to 4 numbers (NULL as 0); *found false
 * when there is no row.
 */
static enum db_fault
keepsize_row(MYSQL *m, const char *sql, const char *what, double *v,
    unsigned nv, bool *found, struct why *why)
{
	MYSQL_RES *res;
	MYSQL_ROW row;
	unsigned i;

	if (mysql_query(m, sql) != 0 ||
	    (res = mysql_store_result(m)) == NULL)
		return db_error(m, what, why);
	row = mysql_fetch_row(res);
	*found = row != NULL;
	for (i = 0; i < nv; i++)
		v[i] = row != NULL && i < mysql_num_fields(res) &&
		    row[i] != NULL ? strtod(row[i], NULL) : 0;
	mysql_free_result(res);
	return DB_FAULT_NONE;
}

/* The raw id rolled up to. */
static enum db_fault
keepsize_mark(MYSQL *m, unsigned long long *mark, struct why *why)
{
	enum db_fault f;
	bool found;
	double v;

	f = keepsize_row(m, "SELECT raw_id FROM " TIER_STATE_TABLE
	    " WHERE name = '" SCHEMA_TABLE "'", "reading the state", &v, 1,
	    &found, why);
	*mark = (unsigned long long)v;
	return f;
}

/*
 * The raw table's days as sm makes them (partitioned by sampled_day,
 * pmax last) with their names and the server's row estimates; *n 0 for
 * any other table.
 */
static enum db_fault
keepsize_parts(MYSQL *m, struct keepsize_part *p, char (*name)[65],
    unsigned long long *rows, size_t max, size_t *n, struct why *why)
{
	MYSQL_RES *res;
	MYSQL_ROW row;
	bool ours = true;

	*n = 0;
	if (mysql_query(m, "SELECT PARTITION_NAME, IF(PARTITION_DESCRIPTION "
	    "= 'MAXVALUE', -1, DATEDIFF(TRIM(BOTH '''' FROM "
	    "PARTITION_DESCRIPTION), '1970-01-01')), PARTITION_EXPRESSION, "
	    "DATA_LENGTH + INDEX_LENGTH, TABLE_ROWS FROM information_schema."
	    "PARTITIONS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '"
	    SCHEMA_TABLE "' ORDER BY PARTITION_ORDINAL_POSITION") != 0 ||
	    (res = mysql_store_result(m)) == NULL)
		return db_error(m, "reading the table's partitions", why);
	while ((row = mysql_fetch_row(res)) != NULL) {
		if (row[0] == NULL || row[1] == NULL || row[2] == NULL ||
		    strcmp(row[2], "`sampled_day`") != 0 || *n == max) {
			ours = false;
			break;
		}
		snprintf(name[*n], sizeof(name[*n]), "%s", row[0]);
		p[*n].bound = strtoll(row[1], NULL, 10);
		p[*n].bytes = row[3] != NULL ? strtoull(row[3], NULL, 10) : 0;
		rows[*n] = row[4] != NULL ? strtoull(row[4], NULL, 10) : 0;
		(*n)++;
	}
	mysql_free_result(res);
	if (!ours || *n == 0 || p[*n - 1].bound != -1 ||
	    strcmp(name[*n - 1], SCHEMA_PART_MAX) != 0)
		*n = 0;
	return DB_FAULT_NONE;
}

/*
 * Drop the oldest days while the raw table is over limit, each once its
 * rows are all rolled up.  *partitioned false: not sm's table.
 */
static enum db_fault
keepsize_days(MYSQL *m, unsigned long long limit, int64_t now_ms,
    struct keepsize_stats *st, bool *partitioned, struct why *why)
{
	struct keepsize_part *p;
	unsigned long long *rows, mark;
	char (*name)[65], sql[256];
	enum db_fault f;
	size_t n, k, i;
	double top, newest;
	bool found;
	int64_t t0;

	p = calloc(KEEPSIZE_PARTS_MAX, sizeof(*p));
	name = calloc(KEEPSIZE_PARTS_MAX, sizeof(*name));
	rows = calloc(KEEPSIZE_PARTS_MAX, sizeof(*rows));
	if (p == NULL || name == NULL || rows == NULL) {
		f = DB_FAULT_OTHER;
		why_set(why, "out of memory");
		goto out_free;
	}
	f = keepsize_parts(m, p, name, rows, KEEPSIZE_PARTS_MAX, &n, why);
	*partitioned = n > 0;
	if (f != DB_FAULT_NONE || n == 0)
		goto out_free;
	k = keepsize_parts_pick(p, n, now_ms / SCHEMA_DAY_MS, limit,
	    &st->today_over);
	if (k == 0 || (f = keepsize_mark(m, &mark, why)) != DB_FAULT_NONE ||
	    (f = keepsize_row(m, "SELECT MAX(id) FROM " SCHEMA_TABLE,
	    "reading the newest id", &newest, 1, &found, why)) !=
	    DB_FAULT_NONE)
		goto out_free;
	/* writers queue behind a waiting ALTER: give up soon */
	if ((f = keepsize_exec(m, "SET SESSION lock_wait_timeout = 2",
	    "setting the lock wait", why)) != DB_FAULT_NONE)
		goto out_free;
	for (i = 0; i < k; i++) {
		snprintf(sql, sizeof(sql), "SELECT MAX(id) FROM " SCHEMA_TABLE
		    " PARTITION (%s)", name[i]);
		if ((f = keepsize_row(m, sql, "reading a partition", &top, 1,
		    &found, why)) != DB_FAULT_NONE)
			break;
		if ((unsigned long long)top > mark) {
			st->held = true;	/* not rolled up yet */
			break;
		}
		/*
		 * InnoDB's next id is the highest of what the partitions
		 * left were given: dropping the newest id's would hand
		 * rolled-up ids out again.
		 */
		if (top >= newest) {
			st->newest_held = true;
			break;
		}
		snprintf(sql, sizeof(sql), "ALTER TABLE " SCHEMA_TABLE
		    " DROP PARTITION %s", name[i]);
		t0 = clock_mono_ms();
		if (mysql_query(m, sql) != 0) {
			st->drop_ms += clock_mono_ms() - t0;
			if (mysql_errno(m) == ER_LOCK_WAIT_TIMEOUT)
				st->parts_busy = true;
			else
				f = db_error(m, "dropping a partition", why);
			break;
		}
		st->drop_ms += clock_mono_ms() - t0;
		st->parts_dropped++;
		st->parts_rows += rows[i];
		st->parts_bytes += p[i].bytes;
	}
out_free:
	free(p);
	free(name);
	free(rows);
	return f;
}

/* A table's rows and bytes (data and indexes) as the server says. */
static enum db_fault
keepsize_figures(MYSQL *m, const char *table, double v[2], bool *found,
    struct why *why)
{
	char sql[256];

	snprintf(sql, sizeof(sql), "SELECT TABLE_ROWS, DATA_LENGTH + "
	    "INDEX_LENGTH FROM information_schema.TABLES WHERE TABLE_SCHEMA "
	    "= DATABASE() AND TABLE_NAME = '%s'", table);
	return keepsize_row(m, sql, "reading a table's size", v, 2, found,
	    why);
}

/*
 * A table's rows and the bytes a row: measured again (ANALYZE TABLE) when
 * the figures at hand put it near its limit, the smallest bytes a row
 * kept.  *rows 0: nothing to do.
 */
static enum db_fault
keepsize_measure(MYSQL *m, const char *table, unsigned long long limit,
    unsigned long long *rows, double *row_bytes, struct why *why)
{
	enum db_fault f;
	double v[2], kept;
	char sql[512];
	bool found;

	*rows = 0;
	snprintf(sql, sizeof(sql), "SELECT row_bytes FROM " KEEPSIZE_TABLE
	    " WHERE name = '%s'", table);
	if ((f = keepsize_row(m, sql, "reading a row's size", &kept, 1,
	    &found, why)) != DB_FAULT_NONE)
		return f;
	if ((f = keepsize_figures(m, table, v, &found, why)) !=
	    DB_FAULT_NONE || !found)
		return f;
	*row_bytes = keepsize_row_bytes(kept, (unsigned long long)v[1],
	    (unsigned long long)v[0]);
	if (v[0] * *row_bytes <= KEEPSIZE_NEAR * (double)limit)
		return DB_FAULT_NONE;
	snprintf(sql, sizeof(sql), "ANALYZE NO_WRITE_TO_BINLOG TABLE %s",
	    table);
	if ((f = keepsize_exec(m, sql, "measuring a table", why)) !=
	    DB_FAULT_NONE)
		return f;
	if ((f = keepsize_figures(m, table, v, &found, why)) !=
	    DB_FAULT_NONE || !found)
		return f;
	*row_bytes = keepsize_row_bytes(kept, (unsigned long long)v[1],
	    (unsigned long long)v[0]);
	*rows = (unsigned long long)v[0];
	if (*row_bytes <= 0 || *row_bytes == kept)
		return DB_FAULT_NONE;
	snprintf(sql, sizeof(sql), "INSERT INTO " KEEPSIZE_TABLE " (name, "
	    "row_bytes, updated_at) VALUES ('%s', %.3f, UTC_TIMESTAMP(3)) ON "
	    "DUPLICATE KEY UPDATE row_bytes = LEAST(row_bytes, "
	    "VALUES(row_bytes)), updated_at = VALUES(updated_at)", table,
	    *row_bytes);
	return keepsize_exec(m, sql, "keeping a row's size", why);
}

/*
 * The oldest rows of a table deleted while over limit, a chunk a
 * statement: the raw table's by id and only up to the mark (rolled up),
 * a tier's by bucket.
 */
static enum db_fault
keepsize_rows(MYSQL *m, int tier, unsigned long long limit,
    volatile const sig_atomic_t *stop, struct keepsize_stats *st,
    struct why *why)
{
	const char *table = tiers[tier].table;
	unsigned long long rows, left, n, got, mark = 0;
	enum db_fault f;
	double b = 0;
	char sql[256];

	if ((f = keepsize_measure(m, table, limit, &rows, &b, why)) !=
	    DB_FAULT_NONE)
		return f;
	left = keepsize_excess_rows(rows, b, limit);
	if (left > 0 && tier == TIER_RAW &&
	    (f = keepsize_mark(m, &mark, why)) != DB_FAULT_NONE)
		return f;
	while (left > 0 && (stop == NULL || *stop == 0)) {
		n = left < KEEP_DELETE_CHUNK ? left : KEEP_DELETE_CHUNK;
		if (tier == TIER_RAW)
			snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE id "
			    "<= %llu ORDER BY id LIMIT %llu", table, mark, n);
		else
			snprintf(sql, sizeof(sql), "DELETE FROM %s ORDER BY "
			    "bucket LIMIT %llu", table, n);
		if (mysql_query(m, sql) != 0)
			return db_error(m, "deleting by size", why);
		got = mysql_affected_rows(m);
		st->statements[tier]++;
		st->deleted[tier] += got;
		st->freed[tier] += (unsigned long long)(got * b);
		left -= got;
		if (got < n) {
			/* the rest is not rolled up yet (raw), or gone */
			st->held = tier == TIER_RAW;
			break;
		}
	}
	return DB_FAULT_NONE;
}

enum db_fault
keepsize_retain(MYSQL *m, const struct keepsize_config *c, int64_t now_ms,
    volatile const sig_atomic_t *stop, struct keepsize_stats *st,
    struct why *why)
{
	bool partitioned = false, any = false;
	enum db_fault f;
	int i;

	for (i = TIER_RAW; i < TIER_COUNT; i++)
		any = any || c->limit[i] > 0;
	if (!any)
		return DB_FAULT_NONE;
	if ((f = keepsize_exec(m, "CREATE TABLE IF NOT EXISTS " KEEPSIZE_TABLE
	    " (\n  name VARCHAR(64) CHARACTER SET ascii NOT NULL PRIMARY KEY,"
	    "\n  row_bytes DOUBLE NOT NULL,\n  updated_at DATETIME(3) NULL\n"
	    ") ENGINE=InnoDB", "creating the size table", why)) !=
	    DB_FAULT_NONE)
		return f;
	if (c->limit[TIER_RAW] > 0 && (f = keepsize_days(m,
	    c->limit[TIER_RAW], now_ms, st, &partitioned, why)) !=
	    DB_FAULT_NONE)
		return f;
	/* coarse first, as age retention goes */
	for (i = TIER_COUNT - 1; i >= TIER_RAW; i--) {
		if (c->limit[i] == 0 || (i == TIER_RAW && partitioned))
			continue;
		if (stop != NULL && *stop != 0)
			break;
		if ((f = keepsize_rows(m, i, c->limit[i], stop, st, why)) !=
		    DB_FAULT_NONE)
			return f;
	}
	return DB_FAULT_NONE;
}
