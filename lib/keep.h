/*
 * sm-keep's engine (sm-keep(1)): roll the raw table's new rows up into the
 * per-minute and per-hour tiers, incrementally and exactly, and keep each
 * table within its retention.
 */
#ifndef SM_KEEP_H
#define SM_KEEP_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include <mysql.h>

#include "db.h"
#include "tier.h"
#include "why.h"

#define KEEP_RAW_DEFAULT (7 * 86400 * 1000LL)		/* 7d */
#define KEEP_MINUTE_DEFAULT (90 * 86400 * 1000LL)	/* 90d */
#define KEEP_HOUR_DEFAULT (730 * 86400 * 1000LL)	/* 2y */
#define KEEP_ALERTS_DEFAULT KEEP_HOUR_DEFAULT	/* sm_alerts: 2y */
#define KEEP_SETTLE_DEFAULT (30 * 1000)		/* 30s */
#define KEEP_STEP_ROWS 100000	/* raw ids rolled up per transaction */
#define KEEP_DELETE_CHUNK 2000	/* ids (raw) or rows (tiers) a DELETE */

struct keep_config {
	/* how long each tier keeps rows; 0: for ever */
	int64_t keep_ms[TIER_COUNT];
	int64_t alerts_ms;	/* sm_alerts' events, by time; 0: for ever */
	/*
	 * A raw row is rolled up once its insert is this old: a
	 * transaction still open that long after taking its ids would
	 * have its rows missed (sm-keep(1), BUGS).
	 */
	int64_t settle_ms;
	unsigned step_rows;	/* KEEP_STEP_ROWS; tests make it small */
};

struct keep_stats {
	unsigned long long rows;	/* raw rows rolled up */
	unsigned long long buckets[TIER_COUNT];	/* tier rows written */
	unsigned long long deleted[TIER_COUNT];	/* rows removed */
	unsigned long long steps;	/* rollup transactions */
	unsigned long long rolled_id;	/* the raw id rolled up to */
	unsigned long long parts_made;	/* daily partitions made ahead */
	unsigned long long parts_dropped;	/* daily partitions dropped */
	/* rows in those, as the server estimates them */
	unsigned long long parts_rows;
	bool parts_busy;	/* the table stayed locked: next pass */
	int64_t drop_ms;	/* the DROP PARTITION statements took */
	bool restarted;			/* the raw ids started again */
	unsigned long long alerts_deleted;	/* sm_alerts rows removed */
};

/*
 * Create the tiers and the state table when missing, and set the
 * session up (READ COMMITTED: reading the raw table locks nothing).
 */
enum db_fault keep_prepare(MYSQL *m, struct why *why);

/*
 * Roll up what arrived since the last pass, a transaction of at most
 * step_rows ids at a time, until caught up or *stop becomes non-zero.
 */
enum db_fault keep_rollup(MYSQL *m, const struct keep_config *c,
    volatile const sig_atomic_t *stop, struct keep_stats *st, struct why *why);

/*
 * Delete what each table holds past its retention at now_ms: raw rows
 * only once rolled up; on a table partitioned by sampled_day (one that
 * sm made) a day at a time, dropping its partition, after making the
 * partitions of the days ahead; on any other, oldest ids first, a chunk
 * per statement.  Tier rows a chunk per statement.
 */
enum db_fault keep_retain(MYSQL *m, const struct keep_config *c,
    int64_t now_ms, volatile const sig_atomic_t *stop, struct keep_stats *st,
    struct why *why);

/*
 * Retention settings that keep a rollup for every raw row deleted: each
 * tier keeps at least as long as the finer one (0, for ever, the
 * longest).  0, or -1 with the reason in why.
 */
int keep_check(const struct keep_config *c, struct why *why);

#endif
