/*
 * The rollup tiers of table system_metrics (sm-keep(1), TIERS): their
 * tables, their columns, and the numeric fields of a record that each
 * bucket summarises.  Shared by sm-keep, which fills them, and by range
 * queries (lib/history), which read them.
 */
#ifndef SM_TIER_H
#define SM_TIER_H

#include <stddef.h>
#include <stdint.h>

/* One numeric field of the raw table, and its columns in a tier. */
struct tier_field {
	const char *name;	/* raw column, and prefix: cpu_usage_min */
	const char *type;	/* of _min and _max */
	const char *sum_type;	/* of _sum: exact for a bucket's rows */
	int decimals;		/* in the answer's avg */
};

extern const struct tier_field tier_fields[];
extern const size_t tier_nfields;

/* The tiers, finest first; TIER_RAW is the table itself. */
enum tier_id { TIER_RAW, TIER_1M, TIER_1H, TIER_COUNT };

struct tier {
	const char *name;	/* "raw", "1m", "1h": as points name it */
	const char *table;
	int64_t bucket_ms;	/* 0 for raw */
};

extern const struct tier tiers[TIER_COUNT];

/* The state table: how far the raw table's ids are rolled up. */
#define TIER_STATE_TABLE "sm_keep_state"

/*
 * "CREATE TABLE IF NOT EXISTS system_metrics_1m (...)" for a tier, newly
 * allocated; NULL when out of memory.  temporary: the same columns as
 * "CREATE TEMPORARY TABLE name" (the delta of one rollup step).
 */
char *tier_create_sql(const char *table, int temporary);

/*
 * The tier's column list after host, source and bucket: "samples,
 * cpu_usage_n, cpu_usage_min, cpu_usage_max, cpu_usage_sum, ...", newly
 * allocated with each name formatted by fmt, whose %s are the field's
 * name twice, e.g. "MIN(%s_min)" or "%1$s_n = %1$s_n + VALUES(%1$s_n)";
 * samples by samples_fmt.  NULL when out of memory.
 */
char *tier_columns(const char *samples_fmt, const char *const fmt[4]);

#endif
