/*
 * The table system_metrics (sm-store(1), "The table"): its columns, how
 * they map to the record, creating it when missing and adding what a
 * replaced-system table lacks, in place, rows kept.  Shared by the
 * commands that write it (sm-store) and read it (sm-tail).
 */
#ifndef SM_SCHEMA_H
#define SM_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <mysql.h>

#include "db.h"
#include "record.h"
#include "why.h"

#define SCHEMA_TABLE "system_metrics"
#define SCHEMA_UNIQUE_KEY "uk_system_metrics_sample_id"
#define SCHEMA_HOST_KEY "ix_system_metrics_host_sampled"
#define SCHEMA_SOURCE_MAX 50	/* data_source is VARCHAR(50) */

struct schema_column {
	const char *name;
	const char *fresh;	/* its type in a new table */
	const char *added;	/* its type when added to an old table */
};

/* Every column, in the order of a new table. */
extern const struct schema_column schema_columns[];
extern const size_t schema_ncolumns;

/*
 * An older sm named its metric columns after the wire dialect's keys; its
 * tables are migrated to these names (schema_ensure).
 */
struct schema_legacy {
	const char *old;	/* e.g. total_ram */
	const char *now;	/* e.g. ram_total */
};

extern const struct schema_legacy schema_legacy[];
extern const size_t schema_nlegacy;

/*
 * The columns sm-store writes, in the order of schema_insert_sql's
 * placeholders: the replaced system's (ram_total ... stopped_processes,
 * data_source; created_at is the server's), then sm's own.
 */
enum schema_insert_col {
	SCHEMA_I_RAM_TOTAL, SCHEMA_I_RAM_FREE, SCHEMA_I_RAM_USED,
	SCHEMA_I_RAM_PERCENTAGE, SCHEMA_I_CPU_USAGE, SCHEMA_I_CPU_FREE,
	SCHEMA_I_RUNNING, SCHEMA_I_TOTAL_PROCESSES, SCHEMA_I_SLEEPING,
	SCHEMA_I_ZOMBIE, SCHEMA_I_STOPPED, SCHEMA_I_DATA_SOURCE,
	SCHEMA_I_SAMPLE_ID, SCHEMA_I_HOST, SCHEMA_I_COLLECTOR,
	SCHEMA_I_SAMPLED_AT, SCHEMA_I_RAM_AVAILABLE, SCHEMA_I_THREADS,
	SCHEMA_INSERT_NCOLS
};

/* "CREATE TABLE IF NOT EXISTS system_metrics (...)" for a new table. */
extern const char schema_create_sql[];

/*
 * A new table is partitioned by RANGE COLUMNS (sampled_day), a partition a
 * day (UTC) named pYYYYMMDD, made SCHEMA_DAYS_AHEAD days ahead (by the
 * creator, then sm-keep), and SCHEMA_PART_MAX for whatever comes later.
 * The first partition also holds every older row.
 */
#define SCHEMA_DAY_MS (86400 * 1000LL)
#define SCHEMA_DAYS_AHEAD 3
#define SCHEMA_PART_MAX "pmax"

/* Day number day's partition name ("p20261207"), into buf. */
void schema_day_name(int64_t day, char *buf, size_t size);

/* The bound of day's partition: the next day ("2026-12-08"), into buf. */
void schema_day_bound(int64_t day, char *buf, size_t size);

/*
 * "PARTITION pA VALUES LESS THAN ('...'), ..., PARTITION pmax VALUES
 * LESS THAN (MAXVALUE)" for days first to last, onto f; -1 when f fails.
 */
int schema_partition_list(FILE *f, int64_t first, int64_t last);

/*
 * schema_create_sql partitioned for days from now_ms's on, newly
 * allocated; NULL when out of memory.  Without uuid (a server without
 * the UUID type) sample_id is SCHEMA_SAMPLE_ID_TEXT instead.
 */
#define SCHEMA_SAMPLE_ID_TEXT "CHAR(36) CHARACTER SET ascii"
char *schema_create_partitioned(int64_t now_ms, bool uuid);

/*
 * A newly allocated "INSERT INTO system_metrics (...) VALUES (?, ...), ...
 * ON DUPLICATE KEY UPDATE id = id" for rows rows; NULL when out of memory.
 * A row whose sample_id is already stored is left as it is, and not
 * counted in the affected rows.  With named, its sample_id is also
 * appended, in the order of the rows, to the session's SCHEMA_DUP_VAR
 * (comma-separated, NULL before the first): that is how duplicates are
 * told apart, even after the statement has committed.  The server copies
 * the whole list for each name appended: only for statements of a few
 * rows (STORE_EXACT_MAX), never for a body's thousands.
 */
#define SCHEMA_DUP_VAR "@sm_dup"
char *schema_insert_sql(size_t rows, bool named);

/* What schema_ensure did, or'ed together. */
#define SCHEMA_CREATED 1	/* created the table */
#define SCHEMA_ADDED 2		/* added sm's columns or keys */
#define SCHEMA_MIGRATED 4	/* renamed or dropped an older sm's columns */

/*
 * Make sure the table exists with every column and both keys, in place,
 * rows and their values kept: create it when missing; to a replaced-system
 * table add sm's columns and keys; in an older sm's table rename the
 * Spanish-named columns (copying into the new column first where both
 * exist) and drop hora once sampled_at holds its value.  Safe when several
 * processes do it at once, and when one was cut short.  With migrate false
 * an existing table is never altered: one that needs it is a
 * DB_FAULT_CONFIG naming what it lacks.  Returns DB_FAULT_NONE, or the
 * fault with the reason in why; *changed (may be NULL)
 * gets the SCHEMA_* flags of what was done.
 */
enum db_fault schema_ensure(MYSQL *m, bool migrate, int *changed,
    struct why *why);

/*
 * For readers: the column list of a SELECT whose rows
 * schema_record_from_row turns back into records ("SELECT %s FROM
 * system_metrics ...").  Rows of a replaced-system table (no sample_id or
 * sampled_at) come back without id, host and collector, with ts from
 * created_at.
 */
extern const char schema_select_columns[];

/*
 * A text-protocol row of schema_select_columns into rec; the row's id
 * column into *rowid and data_source into source (SCHEMA_SOURCE_MAX + 1
 * bytes; "" when NULL).  Returns 0, or -1 with the reason in why.
 */
int schema_record_from_row(char **row, const unsigned long *lengths,
    struct record *rec, unsigned long long *rowid, char *source,
    struct why *why);

#endif
