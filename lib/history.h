/*
 * Range queries over the past (sm-tail --since/--until/--step, and
 * sm-tail --listen's GET /history): one point per (host, source, step
 * bucket) with the count and each field's min, average and max, read from
 * the coarsest tier whose buckets divide the step (raw rows below a
 * minute).
 */
#ifndef SM_HISTORY_H
#define SM_HISTORY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <mysql.h>

#include "db.h"
#include "record.h"
#include "tier.h"
#include "why.h"

#define HISTORY_POINTS_MAX 10000	/* in one answer */
#define HISTORY_FIELDS_MAX 16	/* at least tier_nfields */
#define HISTORY_SOURCE_MAX 50	/* data_source is VARCHAR(50) */

struct history_query {
	const char *host;	/* NULL: every host */
	const char *source;	/* NULL: every data_source */
	int64_t from_ms;	/* the first bucket holds from_ms */
	int64_t to_ms;		/* samples before to_ms */
	int64_t step_ms;	/* a bucket's width */
	bool force;		/* read forced, not the coarsest that fits */
	enum tier_id forced;
	enum tier_id tier;	/* set by history_run: the tier it read */
};

/* One field of a point: n samples had it; min/max as the table has it. */
struct history_value {
	unsigned long long n;
	char min[32], max[32];
	double avg;
};

struct history_point {
	char host[RECORD_HOST_MAX + 1];
	char source[HISTORY_SOURCE_MAX + 1];
	int64_t ts_ms;		/* the bucket's start */
	int64_t step_ms;
	enum tier_id tier;
	unsigned long long samples;
	struct history_value v[HISTORY_FIELDS_MAX];	/* tier_fields' order */
};

/* The tier that answers step_ms: the coarsest whose bucket divides it. */
enum tier_id history_tier(int64_t step_ms);

/* "raw", "1m" or "1h" into *t; -1 when it names no tier. */
int history_tier_parse(const char *name, enum tier_id *t);

/*
 * A step that cuts span_ms into at most about n buckets: the smallest of
 * 1s, 5s, 10s, 30s, 1m, 5m, 10m, 30m, 1h, 3h, 6h, 12h, 1d, 7d that does.
 */
int64_t history_auto_step(int64_t span_ms, unsigned n);

/*
 * Check a query (from before to, a step of at least a second and a whole
 * number of seconds, at most HISTORY_POINTS_MAX buckets, a forced tier
 * whose buckets divide the step); the first
 * bucket is moved to start at a multiple of the step.  0, or -1 with the
 * reason in why.
 */
int history_check(struct history_query *q, struct why *why);

typedef int (*history_emit_fn)(const struct history_point *p, void *arg);

/*
 * Run q on m (a connection of the caller's, in UTC, as db_connect makes
 * it) and hand each point to emit in (host, source, time) order; a
 * non-zero return from emit stops.  More than HISTORY_POINTS_MAX points
 * is a DB_FAULT_DATA with the reason in why, before any is emitted.  A
 * tier that does not exist (sm-keep never ran) is read as raw rows.
 */
enum db_fault history_run(MYSQL *m, struct history_query *q,
    history_emit_fn emit, void *arg, struct why *why);

/* A point as one JSON object (no newline); -1 when f failed. */
int history_point_json(FILE *f, const struct history_point *p);

/* A point as a table line, after a header line when header is set. */
int history_point_table(FILE *f, const struct history_point *p, int header);

/*
 * sm-tail --step: connect to db, run q and write its points to out, as
 * NDJSON or (table set) a table.  Returns an SM_EXIT_* status, each
 * failure reported on stderr.
 */
int history_print(const struct db_config *db, struct history_query *q,
    int table, FILE *out);

#endif
