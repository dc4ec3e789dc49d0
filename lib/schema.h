/*
 * The table system_metrics (sm-store(1), "The table"): its columns, how
 * they map to the record, creating it when missing and adding what a replaced-system
 * table lacks, in place, rows kept.  Shared by the commands that write it
 * (sm-store) and read it (sm-tail).
 */
#ifndef SM_SCHEMA_H
#define SM_SCHEMA_H

#include <stddef.h>

#include <mysql.h>

#include "db.h"
#include "record.h"

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
 * The columns sm-store writes, in the order of schema_insert_sql's
 * placeholders: total_ram, ram_libre, uso_ram, porcentaje_ram,
 * porcentaje_cpu_uso, porcentaje_cpu_libre, procesos_corriendo,
 * total_procesos, procesos_durmiendo, procesos_zombie, procesos_parados,
 * hora, data_source, sample_id, host, collector, sampled_at, ram_available,
 * threads.
 */
enum schema_insert_col {
	SCHEMA_I_TOTAL_RAM, SCHEMA_I_RAM_LIBRE, SCHEMA_I_USO_RAM,
	SCHEMA_I_PORCENTAJE_RAM, SCHEMA_I_CPU_USO, SCHEMA_I_CPU_LIBRE,
	SCHEMA_I_CORRIENDO, SCHEMA_I_TOTAL_PROCESOS, SCHEMA_I_DURMIENDO,
	SCHEMA_I_ZOMBIE, SCHEMA_I_PARADOS, SCHEMA_I_HORA,
	SCHEMA_I_DATA_SOURCE, SCHEMA_I_SAMPLE_ID, SCHEMA_I_HOST,
	SCHEMA_I_COLLECTOR, SCHEMA_I_SAMPLED_AT, SCHEMA_I_RAM_AVAILABLE,
	SCHEMA_I_THREADS,
	SCHEMA_INSERT_NCOLS
};

/* "CREATE TABLE IF NOT EXISTS system_metrics (...)" for a new table. */
extern const char schema_create_sql[];

/*
 * A newly allocated "INSERT INTO system_metrics (...) VALUES (?, ...), ...
 * ON DUPLICATE KEY UPDATE id = id" for rows rows; NULL when out of memory.
 * A row whose sample_id is already stored is skipped, and not counted in
 * the affected rows: that is how duplicates are told apart.
 */
char *schema_insert_sql(size_t rows);

/*
 * Make sure the table exists with every column and both keys: create it
 * when missing, else add what is missing (one ALTER TABLE), keeping rows.
 * Safe when several processes do it at once.  Returns DB_FAULT_NONE, or the
 * fault with the reason in why (DB_WHY_LEN bytes).  *changed (may be NULL)
 * tells what was done: 0 nothing, 1 created, 2 altered.
 */
enum db_fault schema_ensure(MYSQL *m, int *changed, char *why);

/*
 * For readers: the column list of a SELECT whose rows
 * schema_record_from_row turns back into records ("SELECT %s FROM
 * system_metrics ...").  Rows of a replaced-system table (no sample_id or
 * sampled_at) come back without id and with ts from hora.
 */
extern const char schema_select_columns[];

/*
 * A text-protocol row of schema_select_columns into rec; the row's id
 * column into *rowid and data_source into source (SCHEMA_SOURCE_MAX + 1
 * bytes; "" when NULL).  Returns 0, or -1 with the reason in why
 * (RECORD_WHY_LEN bytes).
 */
int schema_record_from_row(char **row, const unsigned long *lengths,
    struct record *rec, unsigned long long *rowid, char *source, char *why);

#endif
