/*
 * The system_metrics table: creating or completing it, the INSERT, and
 * reading a row back into a record (schema.h).
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <mysqld_error.h>

#include "schema.h"
#include "timefmt.h"

/*
 * The replaced system's columns keep their names and meaning; a new table
 * says NOT NULL where sm always writes a value, and takes the smallest
 * type that holds what a record may hold (record.h: MiB up to 2^31 - 1,
 * INT; counts up to 2^23 - 1, MEDIUMINT), and the sample id in the
 * server's UUID type, 16 bytes (SCHEMA_SAMPLE_ID_TEXT where it has none).
 * A column added to an old table must be NULL: its old rows have none.
 */
const struct schema_column schema_columns[] = {
	{ "id", "BIGINT UNSIGNED NOT NULL AUTO_INCREMENT", NULL },
	{ "ram_total", "INT NOT NULL", "BIGINT NULL" },
	{ "ram_free", "INT NOT NULL", "BIGINT NULL" },
	{ "ram_used", "INT NOT NULL", "BIGINT NULL" },
	{ "ram_percentage", "DECIMAL(5,2) NOT NULL", "DECIMAL(5,2) NULL" },
	{ "cpu_usage", "DECIMAL(5,2) NOT NULL", "DECIMAL(5,2) NULL" },
	{ "cpu_free", "DECIMAL(5,2) NOT NULL", "DECIMAL(5,2) NULL" },
	{ "running_processes", "MEDIUMINT NOT NULL", "INT NULL" },
	{ "total_processes", "MEDIUMINT NOT NULL", "INT NULL" },
	{ "sleeping_processes", "MEDIUMINT NOT NULL", "INT NULL" },
	{ "zombie_processes", "MEDIUMINT NOT NULL", "INT NULL" },
	{ "stopped_processes", "MEDIUMINT NOT NULL", "INT NULL" },
	{ "data_source", "VARCHAR(50) NOT NULL", "VARCHAR(50) NULL" },
	{ "created_at", "DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP",
	    "DATETIME NULL DEFAULT CURRENT_TIMESTAMP" },
	{ "sample_id", "UUID NOT NULL", "CHAR(36) CHARACTER SET ascii NULL" },
	{ "host", "VARCHAR(255) NULL", "VARCHAR(255) NULL" },
	{ "collector", "VARCHAR(32) NULL", "VARCHAR(32) NULL" },
	{ "sampled_at", "DATETIME(3) NOT NULL", "DATETIME(3) NULL" },
	{ "ram_available", "INT NOT NULL", "BIGINT NULL" },
	{ "threads", "MEDIUMINT NULL", "INT NULL" },
	/* a new table's partitioning column; an old table has none */
	{ "sampled_day", "DATE NOT NULL DEFAULT\n"
	    "    (CAST(COALESCE(sampled_at, created_at) AS DATE))", NULL },
};

const size_t schema_ncolumns = sizeof(schema_columns) /
    sizeof(schema_columns[0]);

#define SCHEMA_NCOLUMNS (sizeof(schema_columns) / sizeof(schema_columns[0]))

/*
 * What sm before the replaced system's names were restored called its
 * columns (the wire dialect's keys), and their column now.  hora held the
 * sample time in whole seconds: sampled_at holds it now.
 */
const struct schema_legacy schema_legacy[] = {
	{ "total_ram", "ram_total" },
	{ "ram_libre", "ram_free" },
	{ "uso_ram", "ram_used" },
	{ "porcentaje_ram", "ram_percentage" },
	{ "porcentaje_cpu_uso", "cpu_usage" },
	{ "porcentaje_cpu_libre", "cpu_free" },
	{ "procesos_corriendo", "running_processes" },
	{ "total_procesos", "total_processes" },
	{ "procesos_durmiendo", "sleeping_processes" },
	{ "procesos_zombie", "zombie_processes" },
	{ "procesos_parados", "stopped_processes" },
	{ "hora", "sampled_at" },
};

const size_t schema_nlegacy = sizeof(schema_legacy) /
    sizeof(schema_legacy[0]);

#define SCHEMA_NLEGACY (sizeof(schema_legacy) / sizeof(schema_legacy[0]))

/*
 * Partitioned by the day of the sample time (sm-keep(1) drops a day
 * whole), which every unique key must hold: sampled_day, the server's
 * own function of sampled_at.  The same sample sent again has the same
 * sample_id and a ts of the same UTC day (the seed dialect's hora only
 * drops the milliseconds), so the same (sample_id, sampled_day): still
 * one row (sm-store(1), "The table").  Not compressed: a page-compressed
 * file is sparse, and unlinking one (DROP PARTITION) took 3.3 s per
 * 630 MB here against 0.2 s (bench/RESULTS.md, "The past at size").
 */
const char schema_create_sql[] =
	"CREATE TABLE IF NOT EXISTS " SCHEMA_TABLE " (\n"
	"  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,\n"
	"  ram_total INT NOT NULL,\n"
	"  ram_free INT NOT NULL,\n"
	"  ram_used INT NOT NULL,\n"
	"  ram_percentage DECIMAL(5,2) NOT NULL,\n"
	"  cpu_usage DECIMAL(5,2) NOT NULL,\n"
	"  cpu_free DECIMAL(5,2) NOT NULL,\n"
	"  running_processes MEDIUMINT NOT NULL,\n"
	"  total_processes MEDIUMINT NOT NULL,\n"
	"  sleeping_processes MEDIUMINT NOT NULL,\n"
	"  zombie_processes MEDIUMINT NOT NULL,\n"
	"  stopped_processes MEDIUMINT NOT NULL,\n"
	"  data_source VARCHAR(50) NOT NULL,\n"
	"  created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,\n"
	"  sample_id UUID NOT NULL,\n"
	"  host VARCHAR(255) NULL,\n"
	"  collector VARCHAR(32) NULL,\n"
	"  sampled_at DATETIME(3) NOT NULL,\n"
	"  ram_available INT NOT NULL,\n"
	"  threads MEDIUMINT NULL,\n"
	"  sampled_day DATE NOT NULL DEFAULT\n"
	"    (CAST(COALESCE(sampled_at, created_at) AS DATE)),\n"
	"  PRIMARY KEY (id, sampled_day),\n"
	"  UNIQUE KEY " SCHEMA_UNIQUE_KEY " (sample_id, sampled_day),\n"
	"  KEY " SCHEMA_HOST_KEY " (host, sampled_at)\n"
	") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4";

void
schema_day_name(int64_t day, char *buf, size_t size)
{
	char ts[TIMEFMT_RFC3339_LEN];

	timefmt_rfc3339(day * SCHEMA_DAY_MS, ts, sizeof(ts));
	snprintf(buf, size, "p%.4s%.2s%.2s", ts, ts + 5, ts + 8);
}

void
schema_day_bound(int64_t day, char *buf, size_t size)
{
	char ts[TIMEFMT_RFC3339_LEN];

	timefmt_rfc3339((day + 1) * SCHEMA_DAY_MS, ts, sizeof(ts));
	snprintf(buf, size, "%.10s", ts);
}

int
schema_partition_list(FILE *f, int64_t first, int64_t last)
{
	char name[16], bound[16];
	int64_t d;

	for (d = first; d <= last; d++) {
		schema_day_name(d, name, sizeof(name));
		schema_day_bound(d, bound, sizeof(bound));
		fprintf(f, "PARTITION %s VALUES LESS THAN ('%s'), ", name,
		    bound);
	}
	return fprintf(f, "PARTITION " SCHEMA_PART_MAX
	    " VALUES LESS THAN (MAXVALUE)") < 0 ? -1 : 0;
}

char *
schema_create_partitioned(int64_t now_ms, bool uuid)
{
	static const char fresh[] = "  sample_id UUID NOT NULL,\n";
	const char *at = strstr(schema_create_sql, fresh);
	int64_t today = now_ms / SCHEMA_DAY_MS;
	char *sql = NULL;
	size_t size = 0;
	FILE *f;

	if ((f = open_memstream(&sql, &size)) == NULL)
		return NULL;
	if (uuid || at == NULL)
		fputs(schema_create_sql, f);
	else
		fprintf(f, "%.*s  sample_id " SCHEMA_SAMPLE_ID_TEXT
		    " NOT NULL,\n%s", (int)(at - schema_create_sql),
		    schema_create_sql, at + sizeof(fresh) - 1);
	fputs("\nPARTITION BY RANGE COLUMNS (sampled_day) (", f);
	schema_partition_list(f, today, today + SCHEMA_DAYS_AHEAD);
	fputc(')', f);
	if (fclose(f) == EOF) {
		free(sql);
		return NULL;
	}
	return sql;
}

/* In enum schema_insert_col order. */
static const char *const schema_insert_names[SCHEMA_INSERT_NCOLS] = {
	"ram_total", "ram_free", "ram_used", "ram_percentage", "cpu_usage",
	"cpu_free", "running_processes", "total_processes",
	"sleeping_processes", "zombie_processes", "stopped_processes",
	"data_source", "sample_id", "host", "collector", "sampled_at",
	"ram_available", "threads"
};

const char schema_select_columns[] =
	"id, sample_id, sampled_at, created_at, host, collector, "
	"cpu_usage, cpu_free, ram_total, ram_free, ram_available, ram_used, "
	"ram_percentage, total_processes, running_processes, "
	"sleeping_processes, stopped_processes, zombie_processes, threads, "
	"data_source";

char *
schema_insert_sql(size_t rows, bool named)
{
	static const char head[] = "INSERT INTO " SCHEMA_TABLE " (";
	static const char tail[] = " ON DUPLICATE KEY UPDATE id = IF(("
	    SCHEMA_DUP_VAR " := CONCAT_WS(',', " SCHEMA_DUP_VAR
	    ", VALUES(sample_id))) IS NULL, id, id)";
	static const char plain[] = " ON DUPLICATE KEY UPDATE id = id";
	size_t i, cols_len = 0, row_len, size;
	char *sql, *p;

	if (rows == 0)
		return NULL;
	for (i = 0; i < SCHEMA_INSERT_NCOLS; i++)
		cols_len += strlen(schema_insert_names[i]) + 2;
	row_len = 2 + SCHEMA_INSERT_NCOLS * 2;	/* "(?,?,...?)," */
	size = sizeof(head) + cols_len + sizeof(") VALUES ") +
	    rows * row_len + sizeof(tail) + 1;
	if ((sql = malloc(size)) == NULL)
		return NULL;
	p = stpcpy(sql, head);
	for (i = 0; i < SCHEMA_INSERT_NCOLS; i++) {
		if (i > 0)
			p = stpcpy(p, ", ");
		p = stpcpy(p, schema_insert_names[i]);
	}
	p = stpcpy(p, ") VALUES ");
	for (i = 0; i < rows; i++) {
		size_t c;

		if (i > 0)
			*p++ = ',';
		*p++ = '(';
		for (c = 0; c < SCHEMA_INSERT_NCOLS; c++) {
			*p++ = '?';
			*p++ = c + 1 < SCHEMA_INSERT_NCOLS ? ',' : ')';
		}
	}
	stpcpy(p, named ? tail : plain);
	return sql;
}

/*
 * Whether the server has MariaDB's UUID data type (10.7 on): *yes.
 * MySQL and older MariaDB list no such plugin.
 */
static enum db_fault
schema_has_uuid(MYSQL *m, bool *yes, struct why *why)
{
	MYSQL_RES *res;

	if (mysql_query(m, "SELECT 1 FROM information_schema.PLUGINS WHERE "
	    "PLUGIN_NAME = 'uuid' AND PLUGIN_TYPE = 'DATA TYPE' AND "
	    "PLUGIN_STATUS = 'ACTIVE'") != 0 ||
	    (res = mysql_store_result(m)) == NULL)
		return db_error(m, "looking for the UUID type", why);
	*yes = mysql_num_rows(res) > 0;
	mysql_free_result(res);
	return DB_FAULT_NONE;
}

/* One statement without a result; DB_FAULT_NONE or the fault. */
static enum db_fault
schema_exec(MYSQL *m, const char *sql, const char *what, struct why *why)
{
	if (mysql_query(m, sql) != 0)
		return db_error(m, what, why);
	return DB_FAULT_NONE;
}

struct schema_state {
	bool exists;
	bool have[SCHEMA_NCOLUMNS];
	bool legacy[SCHEMA_NLEGACY];	/* an old sm column still there */
	bool renamed[SCHEMA_NLEGACY];	/* the plan renames it in place */
	bool have_unique;	/* a unique key on sample_id alone */
	bool have_host_key;	/* a key starting (host, sampled_at) */
};

static enum db_fault
schema_read_columns(MYSQL *m, struct schema_state *st, struct why *why)
{
	MYSQL_RES *res;
	MYSQL_ROW row;
	size_t i;

	if (mysql_query(m, "SELECT COLUMN_NAME FROM information_schema.COLUMNS"
	    " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '"
	    SCHEMA_TABLE "'") != 0 ||
	    (res = mysql_store_result(m)) == NULL)
		return db_error(m, "reading the table's columns", why);
	while ((row = mysql_fetch_row(res)) != NULL) {
		st->exists = true;
		if (row[0] == NULL)
			continue;
		for (i = 0; i < SCHEMA_NCOLUMNS; i++)
			if (strcasecmp(row[0], schema_columns[i].name) == 0)
				st->have[i] = true;
		for (i = 0; i < SCHEMA_NLEGACY; i++)
			if (strcasecmp(row[0], schema_legacy[i].old) == 0)
				st->legacy[i] = true;
	}
	mysql_free_result(res);
	return DB_FAULT_NONE;
}

static enum db_fault
schema_read_keys(MYSQL *m, struct schema_state *st, struct why *why)
{
	char cur[65] = "", cols[3][65];
	int ncols = 0, unique = 0;
	MYSQL_RES *res;
	MYSQL_ROW row;
	bool more = true;

	if (mysql_query(m, "SELECT INDEX_NAME, NON_UNIQUE, COLUMN_NAME "
	    "FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = "
	    "DATABASE() AND TABLE_NAME = '" SCHEMA_TABLE "' "
	    "ORDER BY INDEX_NAME, SEQ_IN_INDEX") != 0 ||
	    (res = mysql_store_result(m)) == NULL)
		return db_error(m, "reading the table's keys", why);
	while (more) {
		row = mysql_fetch_row(res);
		if (row == NULL || row[0] == NULL || row[2] == NULL ||
		    strcmp(row[0], cur) != 0) {
			/* the previous index is complete: judge it */
			if (unique && strcasecmp(cols[0], "sample_id") == 0 &&
			    (ncols == 1 || (ncols == 2 &&
			    strcasecmp(cols[1], "sampled_day") == 0)))
				st->have_unique = true;
			if (ncols >= 2 && strcasecmp(cols[0], "host") == 0 &&
			    strcasecmp(cols[1], "sampled_at") == 0)
				st->have_host_key = true;
			ncols = 0;
			if (row == NULL || row[0] == NULL || row[2] == NULL) {
				more = row != NULL;
				continue;
			}
			snprintf(cur, sizeof(cur), "%s", row[0]);
			unique = row[1] != NULL && strcmp(row[1], "0") == 0;
		}
		if (ncols < 3)
			snprintf(cols[ncols], sizeof(cols[0]), "%s", row[2]);
		ncols++;
	}
	mysql_free_result(res);
	return DB_FAULT_NONE;
}

/*
 * The migration, in three statements, each NULL when not needed: alter
 * renames old sm columns whose new name is free (a rename keeps type and
 * values, and is instant) and adds every other missing column and key;
 * fill copies an old column's values where its new column, already there,
 * is NULL (a replaced-system table that an older sm had widened, and
 * hora); drop removes the old columns that were not renamed.  Each step is
 * safe to repeat, so a migration cut short is finished by the next run.
 */
struct schema_plan {
	char *alter;
	char *fill;
	char *drop;
	bool adds;	/* alter adds columns or keys */
};

static void
schema_plan_free(struct schema_plan *p)
{
	free(p->alter);
	free(p->fill);
	free(p->drop);
	memset(p, 0, sizeof(*p));
}

static int
schema_plan_make(struct schema_state *st, struct schema_plan *p)
{
	size_t i, j, size = 256;
	char *a, *f, *d;
	bool any_fill = false;

	memset(p, 0, sizeof(*p));
	for (i = 0; i < SCHEMA_NCOLUMNS; i++)
		size += strlen(schema_columns[i].name) * 4 +
		    (schema_columns[i].added != NULL ?
		    strlen(schema_columns[i].added) : 0) + 64;
	if ((p->alter = a = calloc(1, size)) == NULL ||
	    (p->fill = f = calloc(1, size)) == NULL ||
	    (p->drop = d = calloc(1, size)) == NULL)
		goto out_free;
	for (i = 0; i < SCHEMA_NCOLUMNS; i++) {
		const char *name = schema_columns[i].name;

		if (st->have[i] || schema_columns[i].added == NULL)
			continue;
		for (j = 0; j < SCHEMA_NLEGACY; j++)
			if (st->legacy[j] && strcmp(schema_legacy[j].now,
			    name) == 0 && strcmp(schema_legacy[j].old,
			    "hora") != 0)
				break;
		a = stpcpy(a, *p->alter != '\0' ? ", " : "ALTER TABLE "
		    SCHEMA_TABLE " ");
		if (j < SCHEMA_NLEGACY) {
			st->renamed[j] = true;
			a += sprintf(a, "RENAME COLUMN %s TO %s",
			    schema_legacy[j].old, name);
		} else {
			a += sprintf(a, "ADD COLUMN %s %s", name,
			    schema_columns[i].added);
			p->adds = true;
		}
	}
	p->adds = p->adds || !st->have_unique || !st->have_host_key;
	if (!st->have_unique)
		a = stpcpy(a, *p->alter != '\0' ? ", ADD UNIQUE KEY "
		    SCHEMA_UNIQUE_KEY " (sample_id)" : "ALTER TABLE "
		    SCHEMA_TABLE " ADD UNIQUE KEY " SCHEMA_UNIQUE_KEY
		    " (sample_id)");
	if (!st->have_host_key)
		stpcpy(a, *p->alter != '\0' ? ", ADD KEY " SCHEMA_HOST_KEY
		    " (host, sampled_at)" : "ALTER TABLE " SCHEMA_TABLE
		    " ADD KEY " SCHEMA_HOST_KEY " (host, sampled_at)");
	for (j = 0; j < SCHEMA_NLEGACY; j++) {
		const char *old = schema_legacy[j].old;
		const char *now = schema_legacy[j].now;

		if (!st->legacy[j] || st->renamed[j])
			continue;
		f += sprintf(f, "%s%s = COALESCE(%s, %s)", any_fill ? ", " :
		    "UPDATE " SCHEMA_TABLE " SET ", now, now, old);
		d += sprintf(d, "%s%s", *p->drop != '\0' ? ", DROP COLUMN " :
		    "ALTER TABLE " SCHEMA_TABLE " DROP COLUMN ", old);
		any_fill = true;
	}
	if (any_fill) {
		f = stpcpy(f, " WHERE ");
		for (j = 0, i = 0; j < SCHEMA_NLEGACY; j++)
			if (st->legacy[j] && !st->renamed[j])
				f += sprintf(f, "%s(%s IS NULL AND %s IS NOT "
				    "NULL)", i++ > 0 ? " OR " : "",
				    schema_legacy[j].now, schema_legacy[j].old);
	}
	if (*p->alter == '\0') {
		free(p->alter);
		p->alter = NULL;
	}
	if (*p->fill == '\0') {
		free(p->fill);
		p->fill = NULL;
	}
	if (*p->drop == '\0') {
		free(p->drop);
		p->drop = NULL;
	}
	return 0;
out_free:
	schema_plan_free(p);
	return -1;
}

/* For --no-migrate: what the table lacks and what it has too many of. */
static enum db_fault
schema_refuse(const struct schema_state *st, struct why *why)
{
	char *p = why->msg, *end = why->msg + sizeof(why->msg);
	size_t i, n = 0;

	p += snprintf(p, (size_t)(end - p), "table " SCHEMA_TABLE
	    " needs migrating, which --no-migrate forbids (sm-store(1), "
	    "MIGRATION):");
	for (i = 0; i < SCHEMA_NCOLUMNS && p < end; i++)
		if (!st->have[i] && schema_columns[i].added != NULL)
			p += snprintf(p, (size_t)(end - p), "%s%s",
			    n++ > 0 ? ", " : " it lacks ",
			    schema_columns[i].name);
	if (!st->have_unique && p < end)
		p += snprintf(p, (size_t)(end - p), "%s",
		    n++ > 0 ? ", the unique key on sample_id" :
		    " it lacks the unique key on sample_id");
	if (!st->have_host_key && p < end)
		p += snprintf(p, (size_t)(end - p), "%s",
		    n++ > 0 ? ", the key on (host, sampled_at)" :
		    " it lacks the key on (host, sampled_at)");
	for (i = 0, n = 0; i < SCHEMA_NLEGACY && p < end; i++)
		if (st->legacy[i])
			p += snprintf(p, (size_t)(end - p), "%s%s",
			    n++ > 0 ? ", " : "; it has old columns ",
			    schema_legacy[i].old);
	return DB_FAULT_CONFIG;
}

static bool
schema_complete(const struct schema_state *st)
{
	size_t i;

	for (i = 0; i < SCHEMA_NCOLUMNS; i++)
		if (!st->have[i] && schema_columns[i].added != NULL)
			return false;
	for (i = 0; i < SCHEMA_NLEGACY; i++)
		if (st->legacy[i])
			return false;
	return st->have_unique && st->have_host_key;
}

/* What another process migrating the same table at once makes us see. */
static bool
schema_clash(unsigned err)
{
	return err == ER_DUP_FIELDNAME || err == ER_DUP_KEYNAME ||
	    err == ER_BAD_FIELD_ERROR || err == ER_CANT_DROP_FIELD_OR_KEY;
}

static enum db_fault
schema_run_plan(MYSQL *m, const struct schema_state *st,
    const struct schema_plan *p, int *done, struct why *why)
{
	enum db_fault f;
	size_t i;

	if (p->alter != NULL) {
		if ((f = schema_exec(m, p->alter, "altering table "
		    SCHEMA_TABLE, why)) != DB_FAULT_NONE)
			return f;
		for (i = 0; i < SCHEMA_NLEGACY; i++)
			if (st->renamed[i])
				*done |= SCHEMA_MIGRATED;
		if (p->adds)
			*done |= SCHEMA_ADDED;
	}
	if (p->fill != NULL) {
		if ((f = schema_exec(m, p->fill, "copying old columns of "
		    SCHEMA_TABLE, why)) != DB_FAULT_NONE)
			return f;
		if (mysql_commit(m) != 0)
			return db_error(m, "copying old columns of "
			    SCHEMA_TABLE, why);
	}
	if (p->drop != NULL) {
		if ((f = schema_exec(m, p->drop, "dropping old columns of "
		    SCHEMA_TABLE, why)) != DB_FAULT_NONE)
			return f;
		*done |= SCHEMA_MIGRATED;
	}
	return DB_FAULT_NONE;
}

enum db_fault
schema_ensure(MYSQL *m, bool migrate, int *changed, struct why *why)
{
	enum db_fault f = DB_FAULT_NONE;
	int attempt, done = 0;

	/* another process may be doing the same: look again after a clash */
	for (attempt = 0; attempt < 5; attempt++) {
		struct schema_state st;
		struct schema_plan plan;

		memset(&st, 0, sizeof(st));
		if ((f = schema_read_columns(m, &st, why)) != DB_FAULT_NONE)
			break;
		if (!st.exists) {
			char *create;
			bool uuid = false;

			if ((f = schema_has_uuid(m, &uuid, why)) !=
			    DB_FAULT_NONE)
				break;
			/* checked first: CREATE wants a privilege ALTER not */
			if ((create = schema_create_partitioned(
			    timefmt_now_ms(), uuid)) == NULL) {
				why_set(why, "out of memory");
				f = DB_FAULT_OTHER;
				break;
			}
			f = schema_exec(m, create, "creating table "
			    SCHEMA_TABLE, why);
			free(create);
			if (f == DB_FAULT_NONE)
				done |= SCHEMA_CREATED;
			break;
		}
		if ((f = schema_read_keys(m, &st, why)) != DB_FAULT_NONE)
			break;
		if (schema_complete(&st))
			break;
		if (!migrate) {
			f = schema_refuse(&st, why);
			break;
		}
		if (schema_plan_make(&st, &plan) == -1) {
			why_set(why, "out of memory");
			f = DB_FAULT_OTHER;
			break;
		}
		f = schema_run_plan(m, &st, &plan, &done, why);
		schema_plan_free(&plan);
		if (f == DB_FAULT_NONE)
			continue;	/* look again: it must be complete */
		if (!schema_clash(mysql_errno(m)))
			break;
		f = DB_FAULT_NONE;
	}
	if (changed != NULL)
		*changed = done;
	return f;
}

/* "YYYY-MM-DD HH:MM:SS[.fff]" (UTC) into milliseconds. */
static int
schema_parse_datetime(const char *s, int64_t *ms)
{
	struct tm tm;
	int n = 0, frac = 0, digits = 0;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	if (sscanf(s, "%4d-%2d-%2d %2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon,
	    &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6)
		return -1;
	s += n;
	if (*s == '.')
		for (s++; isdigit((unsigned char)*s); s++)
			if (digits++ < 3)
				frac = frac * 10 + (*s - '0');
	if (*s != '\0')
		return -1;
	while (digits > 0 && digits < 3) {
		frac *= 10;
		digits++;
	}
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	if ((t = timegm(&tm)) == (time_t)-1 || t < 0)
		return -1;
	*ms = (int64_t)t * 1000 + frac;
	return 0;
}

/* In schema_select_columns order. */
enum { SEL_ID, SEL_SAMPLE_ID, SEL_SAMPLED_AT, SEL_CREATED_AT, SEL_HOST,
	SEL_COLLECTOR, SEL_CPU_USAGE, SEL_CPU_FREE, SEL_RAM_TOTAL, SEL_RAM_FREE,
	SEL_RAM_AVAILABLE, SEL_RAM_USED, SEL_RAM_PERCENTAGE,
	SEL_TOTAL_PROCESSES, SEL_RUNNING, SEL_SLEEPING, SEL_STOPPED,
	SEL_ZOMBIE, SEL_THREADS, SEL_DATA_SOURCE };

static int
schema_int(char **row, int col, const char *name, int64_t *out, struct why *why)
{
	char *end;
	long long v;

	if (row[col] == NULL)
		return why_set(why, "%s is NULL", name);
	errno = 0;
	v = strtoll(row[col], &end, 10);
	if (errno != 0 || end == row[col] || *end != '\0')
		return why_set(why, "%s: \"%.40s\" is not "
		    "an integer", name, row[col]);
	*out = v;
	return 0;
}

static int
schema_double(char **row, int col, const char *name, double *out,
    struct why *why)
{
	char *end;

	if (row[col] == NULL)
		return why_set(why, "%s is NULL", name);
	errno = 0;
	*out = strtod(row[col], &end);
	if (errno != 0 || end == row[col] || *end != '\0')
		return why_set(why, "%s: \"%.40s\" is not "
		    "a number", name, row[col]);
	return 0;
}

static void
schema_copy(char *dst, size_t size, const char *s, unsigned long len)
{
	if (s == NULL) {
		dst[0] = '\0';
		return;
	}
	if (len >= size)
		len = size - 1;
	memcpy(dst, s, len);
	dst[len] = '\0';
}

int
schema_record_from_row(char **row, const unsigned long *lengths,
    struct record *rec, unsigned long long *rowid, char *source,
    struct why *why)
{
	int64_t id;

	memset(rec, 0, sizeof(*rec));
	if (schema_int(row, SEL_ID, "id", &id, why) == -1)
		return -1;
	*rowid = (unsigned long long)id;
	if (row[SEL_SAMPLE_ID] != NULL && lengths[SEL_SAMPLE_ID] ==
	    UUID_STR_LEN - 1)
		schema_copy(rec->id, sizeof(rec->id), row[SEL_SAMPLE_ID],
		    lengths[SEL_SAMPLE_ID]);
	/* a replaced-system row has no sample time: its insert time */
	if (row[SEL_SAMPLED_AT] != NULL) {
		if (schema_parse_datetime(row[SEL_SAMPLED_AT],
		    &rec->ts_ms) == -1)
			return why_set(why, "sampled_at: "
			    "\"%.40s\" is not a date-time",
			    row[SEL_SAMPLED_AT]);
	} else if (row[SEL_CREATED_AT] == NULL) {
		return why_set(why, "sampled_at and "
		    "created_at are NULL");
	} else if (schema_parse_datetime(row[SEL_CREATED_AT],
	    &rec->ts_ms) == -1) {
		return why_set(why, "created_at: \"%.40s\" "
		    "is not a date-time", row[SEL_CREATED_AT]);
	}
	schema_copy(rec->host, sizeof(rec->host), row[SEL_HOST],
	    lengths[SEL_HOST]);
	schema_copy(rec->collector, sizeof(rec->collector),
	    row[SEL_COLLECTOR], lengths[SEL_COLLECTOR]);
	schema_copy(source, SCHEMA_SOURCE_MAX + 1, row[SEL_DATA_SOURCE],
	    lengths[SEL_DATA_SOURCE]);
	if (schema_double(row, SEL_CPU_USAGE, "cpu_usage", &rec->cpu_usage,
	    why) == -1 ||
	    schema_int(row, SEL_RAM_TOTAL, "ram_total", &rec->ram_total,
	    why) == -1 ||
	    schema_int(row, SEL_RAM_FREE, "ram_free", &rec->ram_free,
	    why) == -1 ||
	    schema_int(row, SEL_RAM_USED, "ram_used", &rec->ram_used,
	    why) == -1 ||
	    schema_int(row, SEL_TOTAL_PROCESSES, "total_processes",
	    &rec->total_processes, why) == -1 ||
	    schema_int(row, SEL_RUNNING, "running_processes",
	    &rec->running_processes, why) == -1 ||
	    schema_int(row, SEL_SLEEPING, "sleeping_processes",
	    &rec->sleeping_processes, why) == -1 ||
	    schema_int(row, SEL_STOPPED, "stopped_processes",
	    &rec->stopped_processes, why) == -1 ||
	    schema_int(row, SEL_ZOMBIE, "zombie_processes",
	    &rec->zombie_processes, why) == -1)
		return -1;
	/* what an old row may lack is derived, as record_from_json does */
	if (row[SEL_CPU_FREE] == NULL)
		rec->cpu_free = 100.0 - rec->cpu_usage;
	else if (schema_double(row, SEL_CPU_FREE, "cpu_free", &rec->cpu_free,
	    why) == -1)
		return -1;
	if (row[SEL_RAM_AVAILABLE] == NULL)
		rec->ram_available = rec->ram_total - rec->ram_used;
	else if (schema_int(row, SEL_RAM_AVAILABLE, "ram_available",
	    &rec->ram_available, why) == -1)
		return -1;
	if (row[SEL_RAM_PERCENTAGE] == NULL)
		rec->ram_percentage = rec->ram_total > 0 ? 100.0 *
		    (double)rec->ram_used / (double)rec->ram_total : 0;
	else if (schema_double(row, SEL_RAM_PERCENTAGE, "ram_percentage",
	    &rec->ram_percentage, why) == -1)
		return -1;
	rec->threads = -1;
	if (row[SEL_THREADS] != NULL && schema_int(row, SEL_THREADS,
	    "threads", &rec->threads, why) == -1)
		return -1;
	return 0;
}
