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

/*
 * The replaced system's columns keep their names and meaning; a new table
 * widens the RAM columns and says NOT NULL where sm always writes a value.
 * A column added to an old table must be NULL: its old rows have none.
 */
const struct schema_column schema_columns[] = {
	{ "id", "BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY", NULL },
	{ "total_ram", "BIGINT NOT NULL", "BIGINT NULL" },
	{ "ram_libre", "BIGINT NOT NULL", "BIGINT NULL" },
	{ "uso_ram", "BIGINT NOT NULL", "BIGINT NULL" },
	{ "porcentaje_ram", "DECIMAL(5,2) NOT NULL", "DECIMAL(5,2) NULL" },
	{ "porcentaje_cpu_uso", "DECIMAL(5,2) NOT NULL", "DECIMAL(5,2) NULL" },
	{ "porcentaje_cpu_libre", "DECIMAL(5,2) NOT NULL",
	    "DECIMAL(5,2) NULL" },
	{ "procesos_corriendo", "INT NOT NULL", "INT NULL" },
	{ "total_procesos", "INT NOT NULL", "INT NULL" },
	{ "procesos_durmiendo", "INT NOT NULL", "INT NULL" },
	{ "procesos_zombie", "INT NOT NULL", "INT NULL" },
	{ "procesos_parados", "INT NOT NULL", "INT NULL" },
	{ "hora", "DATETIME NOT NULL", "DATETIME NULL" },
	{ "data_source", "VARCHAR(50) NOT NULL", "VARCHAR(50) NULL" },
	{ "created_at", "TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP",
	    "TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP" },
	{ "sample_id", "CHAR(36) CHARACTER SET ascii NOT NULL",
	    "CHAR(36) CHARACTER SET ascii NULL" },
	{ "host", "VARCHAR(255) NULL", "VARCHAR(255) NULL" },
	{ "collector", "VARCHAR(32) NULL", "VARCHAR(32) NULL" },
	{ "sampled_at", "DATETIME(3) NOT NULL", "DATETIME(3) NULL" },
	{ "ram_available", "BIGINT NOT NULL", "BIGINT NULL" },
	{ "threads", "INT NULL", "INT NULL" },
};

const size_t schema_ncolumns = sizeof(schema_columns) /
    sizeof(schema_columns[0]);

const char schema_create_sql[] =
	"CREATE TABLE IF NOT EXISTS " SCHEMA_TABLE " (\n"
	"  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,\n"
	"  total_ram BIGINT NOT NULL,\n"
	"  ram_libre BIGINT NOT NULL,\n"
	"  uso_ram BIGINT NOT NULL,\n"
	"  porcentaje_ram DECIMAL(5,2) NOT NULL,\n"
	"  porcentaje_cpu_uso DECIMAL(5,2) NOT NULL,\n"
	"  porcentaje_cpu_libre DECIMAL(5,2) NOT NULL,\n"
	"  procesos_corriendo INT NOT NULL,\n"
	"  total_procesos INT NOT NULL,\n"
	"  procesos_durmiendo INT NOT NULL,\n"
	"  procesos_zombie INT NOT NULL,\n"
	"  procesos_parados INT NOT NULL,\n"
	"  hora DATETIME NOT NULL,\n"
	"  data_source VARCHAR(50) NOT NULL,\n"
	"  created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,\n"
	"  sample_id CHAR(36) CHARACTER SET ascii NOT NULL,\n"
	"  host VARCHAR(255) NULL,\n"
	"  collector VARCHAR(32) NULL,\n"
	"  sampled_at DATETIME(3) NOT NULL,\n"
	"  ram_available BIGINT NOT NULL,\n"
	"  threads INT NULL,\n"
	"  UNIQUE KEY " SCHEMA_UNIQUE_KEY " (sample_id),\n"
	"  KEY " SCHEMA_HOST_KEY " (host, sampled_at)\n"
	") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4";

/* In enum schema_insert_col order. */
static const char *const schema_insert_names[SCHEMA_INSERT_NCOLS] = {
	"total_ram", "ram_libre", "uso_ram", "porcentaje_ram",
	"porcentaje_cpu_uso", "porcentaje_cpu_libre", "procesos_corriendo",
	"total_procesos", "procesos_durmiendo", "procesos_zombie",
	"procesos_parados", "hora", "data_source", "sample_id", "host",
	"collector", "sampled_at", "ram_available", "threads"
};

const char schema_select_columns[] =
	"id, sample_id, sampled_at, hora, host, collector, "
	"porcentaje_cpu_uso, porcentaje_cpu_libre, total_ram, ram_libre, "
	"ram_available, uso_ram, porcentaje_ram, total_procesos, "
	"procesos_corriendo, procesos_durmiendo, procesos_parados, "
	"procesos_zombie, threads, data_source";

static int
schema_fail(char *why, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, size, fmt, ap);
	va_end(ap);
	return -1;
}

char *
schema_insert_sql(size_t rows)
{
	static const char head[] = "INSERT INTO " SCHEMA_TABLE " (";
	static const char tail[] = " ON DUPLICATE KEY UPDATE id = id";
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
	stpcpy(p, tail);
	return sql;
}

/* One statement without a result; DB_FAULT_NONE or the fault. */
static enum db_fault
schema_exec(MYSQL *m, const char *sql, const char *what, char *why)
{
	if (mysql_query(m, sql) != 0)
		return db_error(m, what, why);
	return DB_FAULT_NONE;
}

struct schema_state {
	bool exists;
	bool have[sizeof(schema_columns) / sizeof(schema_columns[0])];
	bool have_unique;	/* a unique key on sample_id alone */
	bool have_host_key;	/* a key starting (host, sampled_at) */
};

static enum db_fault
schema_read_columns(MYSQL *m, struct schema_state *st, char *why)
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
		for (i = 0; i < schema_ncolumns; i++)
			if (row[0] != NULL &&
			    strcasecmp(row[0], schema_columns[i].name) == 0)
				st->have[i] = true;
	}
	mysql_free_result(res);
	return DB_FAULT_NONE;
}

static enum db_fault
schema_read_keys(MYSQL *m, struct schema_state *st, char *why)
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
			if (ncols == 1 && unique &&
			    strcasecmp(cols[0], "sample_id") == 0)
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

static bool
schema_complete(const struct schema_state *st)
{
	size_t i;

	for (i = 0; i < schema_ncolumns; i++)
		if (!st->have[i] && schema_columns[i].added != NULL)
			return false;
	return st->have_unique && st->have_host_key;
}

/* One ALTER TABLE adding every missing column and key. */
static char *
schema_alter_sql(const struct schema_state *st)
{
	size_t i, size = 128;
	char *sql, *p;
	bool first = true;

	for (i = 0; i < schema_ncolumns; i++)
		size += strlen(schema_columns[i].name) +
		    (schema_columns[i].added != NULL ?
		    strlen(schema_columns[i].added) : 0) + 16;
	size += 2 * 96;
	if ((sql = malloc(size)) == NULL)
		return NULL;
	p = stpcpy(sql, "ALTER TABLE " SCHEMA_TABLE);
	for (i = 0; i < schema_ncolumns; i++) {
		if (st->have[i] || schema_columns[i].added == NULL)
			continue;
		p += sprintf(p, "%s ADD COLUMN %s %s", first ? "" : ",",
		    schema_columns[i].name, schema_columns[i].added);
		first = false;
	}
	if (!st->have_unique) {
		p = stpcpy(p, first ? "" : ",");
		p = stpcpy(p, " ADD UNIQUE KEY " SCHEMA_UNIQUE_KEY
		    " (sample_id)");
		first = false;
	}
	if (!st->have_host_key) {
		p = stpcpy(p, first ? "" : ",");
		p = stpcpy(p, " ADD KEY " SCHEMA_HOST_KEY
		    " (host, sampled_at)");
		first = false;
	}
	return sql;
}

enum db_fault
schema_ensure(MYSQL *m, int *changed, char *why)
{
	enum db_fault f = DB_FAULT_NONE;
	int attempt, done = 0;

	/* another process may be doing the same: look again after a clash */
	for (attempt = 0; attempt < 3; attempt++) {
		struct schema_state st;
		char *sql;
		unsigned err;

		memset(&st, 0, sizeof(st));
		if ((f = schema_read_columns(m, &st, why)) != DB_FAULT_NONE)
			break;
		if (!st.exists) {
			/* checked first: CREATE wants a privilege ALTER not */
			f = schema_exec(m, schema_create_sql,
			    "creating table " SCHEMA_TABLE, why);
			if (f == DB_FAULT_NONE)
				done = 1;
			break;
		}
		if ((f = schema_read_keys(m, &st, why)) != DB_FAULT_NONE)
			break;
		if (schema_complete(&st))
			break;
		if ((sql = schema_alter_sql(&st)) == NULL) {
			snprintf(why, DB_WHY_LEN, "out of memory");
			f = DB_FAULT_OTHER;
			break;
		}
		f = schema_exec(m, sql, "adding columns to " SCHEMA_TABLE, why);
		free(sql);
		if (f == DB_FAULT_NONE) {
			done = 2;
			break;
		}
		err = mysql_errno(m);
		if (err != ER_DUP_FIELDNAME && err != ER_DUP_KEYNAME)
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

enum { SEL_ID, SEL_SAMPLE_ID, SEL_SAMPLED_AT, SEL_HORA, SEL_HOST,
	SEL_COLLECTOR, SEL_CPU_USO, SEL_CPU_LIBRE, SEL_TOTAL_RAM, SEL_RAM_LIBRE,
	SEL_RAM_AVAILABLE, SEL_USO_RAM, SEL_PORCENTAJE_RAM, SEL_TOTAL_PROCESOS,
	SEL_CORRIENDO, SEL_DURMIENDO, SEL_PARADOS, SEL_ZOMBIE, SEL_THREADS,
	SEL_DATA_SOURCE };

static int
schema_int(char **row, int col, const char *name, int64_t *out, char *why)
{
	char *end;
	long long v;

	if (row[col] == NULL)
		return schema_fail(why, RECORD_WHY_LEN, "%s is NULL", name);
	errno = 0;
	v = strtoll(row[col], &end, 10);
	if (errno != 0 || end == row[col] || *end != '\0')
		return schema_fail(why, RECORD_WHY_LEN, "%s: \"%.40s\" is not "
		    "an integer", name, row[col]);
	*out = v;
	return 0;
}

static int
schema_double(char **row, int col, const char *name, double *out, char *why)
{
	char *end;

	if (row[col] == NULL)
		return schema_fail(why, RECORD_WHY_LEN, "%s is NULL", name);
	errno = 0;
	*out = strtod(row[col], &end);
	if (errno != 0 || end == row[col] || *end != '\0')
		return schema_fail(why, RECORD_WHY_LEN, "%s: \"%.40s\" is not "
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
    struct record *rec, unsigned long long *rowid, char *source, char *why)
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
	if (row[SEL_SAMPLED_AT] != NULL) {
		if (schema_parse_datetime(row[SEL_SAMPLED_AT],
		    &rec->ts_ms) == -1)
			return schema_fail(why, RECORD_WHY_LEN, "sampled_at: "
			    "\"%.40s\" is not a date-time",
			    row[SEL_SAMPLED_AT]);
	} else if (row[SEL_HORA] == NULL) {
		return schema_fail(why, RECORD_WHY_LEN, "hora is NULL");
	} else if (schema_parse_datetime(row[SEL_HORA], &rec->ts_ms) == -1) {
		return schema_fail(why, RECORD_WHY_LEN, "hora: \"%.40s\" is "
		    "not a date-time", row[SEL_HORA]);
	}
	schema_copy(rec->host, sizeof(rec->host), row[SEL_HOST],
	    lengths[SEL_HOST]);
	schema_copy(rec->collector, sizeof(rec->collector),
	    row[SEL_COLLECTOR], lengths[SEL_COLLECTOR]);
	schema_copy(source, SCHEMA_SOURCE_MAX + 1, row[SEL_DATA_SOURCE],
	    lengths[SEL_DATA_SOURCE]);
	if (schema_double(row, SEL_CPU_USO, "porcentaje_cpu_uso",
	    &rec->cpu_usage, why) == -1 ||
	    schema_int(row, SEL_TOTAL_RAM, "total_ram", &rec->ram_total,
	    why) == -1 ||
	    schema_int(row, SEL_RAM_LIBRE, "ram_libre", &rec->ram_free,
	    why) == -1 ||
	    schema_int(row, SEL_USO_RAM, "uso_ram", &rec->ram_used,
	    why) == -1 ||
	    schema_int(row, SEL_TOTAL_PROCESOS, "total_procesos",
	    &rec->total_processes, why) == -1 ||
	    schema_int(row, SEL_CORRIENDO, "procesos_corriendo",
	    &rec->running_processes, why) == -1 ||
	    schema_int(row, SEL_DURMIENDO, "procesos_durmiendo",
	    &rec->sleeping_processes, why) == -1 ||
	    schema_int(row, SEL_PARADOS, "procesos_parados",
	    &rec->stopped_processes, why) == -1 ||
	    schema_int(row, SEL_ZOMBIE, "procesos_zombie",
	    &rec->zombie_processes, why) == -1)
		return -1;
	/* what an old row may lack is derived, as record_from_json does */
	if (row[SEL_CPU_LIBRE] == NULL)
		rec->cpu_free = 100.0 - rec->cpu_usage;
	else if (schema_double(row, SEL_CPU_LIBRE, "porcentaje_cpu_libre",
	    &rec->cpu_free, why) == -1)
		return -1;
	if (row[SEL_RAM_AVAILABLE] == NULL)
		rec->ram_available = rec->ram_total - rec->ram_used;
	else if (schema_int(row, SEL_RAM_AVAILABLE, "ram_available",
	    &rec->ram_available, why) == -1)
		return -1;
	if (row[SEL_PORCENTAJE_RAM] == NULL)
		rec->ram_percentage = rec->ram_total > 0 ? 100.0 *
		    (double)rec->ram_used / (double)rec->ram_total : 0;
	else if (schema_double(row, SEL_PORCENTAJE_RAM, "porcentaje_ram",
	    &rec->ram_percentage, why) == -1)
		return -1;
	rec->threads = -1;
	if (row[SEL_THREADS] != NULL && schema_int(row, SEL_THREADS,
	    "threads", &rec->threads, why) == -1)
		return -1;
	return 0;
}
