/*
 * sm-keep's retention by size (sm-keep(1), Retention): each table over
 * its limit (--raw-size, --minute-size, --hour-size) loses its oldest
 * data first; raw rows only once rolled up.  After keep_retain (age).
 */
#ifndef SM_KEEPSIZE_H
#define SM_KEEPSIZE_H

#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mysql.h>


#include "db.h"
#include "tier.h"
#include "why.h"

/*
 * The smallest bytes a row the server measured for each table, kept
 * between passes: a table's pages do not go when its rows are deleted in
 * place (InnoDB reuses them), so its measured size does not fall.
 */
#define KEEPSIZE_TABLE "sm_keep_size"

struct keepsize_config {
	/* each table's limit in bytes, data and indexes; 0: none */
	unsigned long long limit[TIER_COUNT];
};

struct keepsize_stats {
	unsigned long long deleted[TIER_COUNT];	/* rows deleted by size */
	unsigned long long statements[TIER_COUNT];	/* DELETEs made */
	unsigned long long freed[TIER_COUNT];	/* by rows deleted, estimated */
	unsigned long long parts_dropped;	/* raw days dropped by size */
	unsigned long long parts_rows;	/* rows in those (estimate) */
	unsigned long long parts_bytes;	/* their data and indexes */
	int64_t drop_ms;	/* the DROP PARTITION statements took */
	/* today's partition and those ahead alone are over --raw-size */
	bool today_over;
	/* raw rows over --raw-size kept: not rolled up yet */
	bool held;
	bool parts_busy;	/* the table stayed locked: next pass */
	/* the oldest day over the size holds the newest id: it stays */
	bool newest_held;
};

/*
 * Bytes a row of a table: the smaller of kept (0: none yet) and what the
 * server measured now, bytes for rows (0 rows: kept).
 */
double keepsize_row_bytes(double kept, unsigned long long bytes,
    unsigned long long rows);

/*
 * The oldest rows to delete so that rows of row_bytes each fit in limit:
 * 0 when they do, at most rows; KEEPSIZE_ALL when not one row fits (rows
 * is InnoDB's estimate, which may be short: every row that may go goes).
 */
#define KEEPSIZE_ALL ULLONG_MAX
unsigned long long keepsize_excess_rows(unsigned long long rows,
    double row_bytes, unsigned long long limit);

/* A daily partition of the raw table as the size rule sees it. */
struct keepsize_part {
	int64_t bound;		/* holds the days before this one; -1: pmax */
	unsigned long long bytes;	/* data and indexes */
};

/*
 * How many of the oldest partitions to drop so that the table fits in
 * limit: never today's, those ahead, pmax or the last day's; a day over
 * the limit alone goes whole.  *today_over when what may not go is over
 * the limit alone.
 */
size_t keepsize_parts_pick(const struct keepsize_part *p, size_t n,
    int64_t today, unsigned long long limit, bool *today_over);

/*
 * Keep each table within its limit at now_ms, oldest first: the raw
 * table's days whole when it is partitioned as sm makes it, else its
 * oldest rolled-up ids, a chunk a statement; tier rows by bucket, a chunk
 * a statement.
 */
enum db_fault keepsize_retain(MYSQL *m, const struct keepsize_config *c,
    int64_t now_ms, volatile const sig_atomic_t *stop,
    struct keepsize_stats *st, struct why *why);

#endif
