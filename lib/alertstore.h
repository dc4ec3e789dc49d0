/*
 * Alert history in the database (sm-tail(1), ALERT HISTORY): table
 * sm_alerts, one row per event of the alert engine (fired or resolved),
 * written by a thread of its own on a connection of its own from a
 * bounded queue, so that the engine's thread never waits for the
 * database; and the range query that reads the alerts back as fired and
 * resolved pairs.  A replayed event (same origin, host, rule, since and
 * state) is a no-op: the table's unique key and INSERT IGNORE.
 */
#ifndef SM_ALERTSTORE_H
#define SM_ALERTSTORE_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include "alert.h"
#include "db.h"
#include "record.h"

#define ALERTSTORE_TABLE "sm_alerts"
#define ALERTSTORE_QUEUE 1024	/* events waiting for the database */
#define ALERTSTORE_ORIGIN_MAX 64	/* bytes of an origin's name */
#define ALERTSTORE_LIST_DEFAULT 200	/* alerts a range answers */
#define ALERTSTORE_LIST_MAX 1000	/* ... at most (?n=) */
#define ALERTSTORE_DRAIN_MS 2000	/* to write what waits, when stopping */
/* "2026-11-26 15:12:53.123" plus NUL: a DATETIME(3) value */
#define ALERTSTORE_DATETIME_LEN 24

/* "CREATE TABLE IF NOT EXISTS sm_alerts (...)". */
extern const char alertstore_create_sql[];

/* ms as a DATETIME(3) literal's text (UTC); 0, or -1 when out of range. */
int alertstore_datetime(int64_t ms, char *buf, size_t size);

struct alertstore_counts {
	unsigned long long stored;	/* rows written (or already there) */
	unsigned long long dropped;	/* the queue full, or refused */
	size_t queued;			/* waiting now */
	bool db_up;			/* the writer's connection */
};

struct alertstore;

/*
 * A writer of events to db (kept by the caller), its rows named origin;
 * its thread started.  stop NULL: alertstore_put never waits; else it
 * waits for room in the queue until *stop is set (a filter's
 * backpressure).  NULL when memory or threads run out.
 */
struct alertstore *alertstore_new(const struct db_config *db,
    const char *origin, volatile const sig_atomic_t *stop);

/*
 * Queue a copy of ev for the writer: when the queue is full, the event is
 * dropped and counted (after waiting for room, as alertstore_new says).
 */
void alertstore_put(struct alertstore *s, const struct alert_event *ev);

void alertstore_counts(struct alertstore *s, struct alertstore_counts *c);

/* The counters in Prometheus' text format (sm_tail_alerts_*) on out. */
void alertstore_metrics(struct alertstore *s, FILE *out);

/*
 * Stop: what waits is written while the database answers, for up to
 * ALERTSTORE_DRAIN_MS (with stop given: until *stop is set), the rest
 * counted as dropped; the thread joined, the
 * last counts into *last (NULL: not wanted), s freed (NULL: nothing).
 */
void alertstore_free(struct alertstore *s, struct alertstore_counts *last);

/* A range of the history. */
struct alertstore_query {
	int64_t from_ms, to_ms;	/* alerts firing at some time in between */
	const char *host;	/* NULL: every host */
	size_t limit;		/* the newest this many, by when they fired */
};

/*
 * The alerts of q, newest first, as a JSON array on out: {"host", "rule",
 * "origin", "since", "fired", "resolved" (null while unresolved), "value",
 * "resolved_value"}.  No table yet is an empty array.  DB_FAULT_NONE, or
 * the fault with the reason in why.
 */
enum db_fault alertstore_list(MYSQL *m, const struct alertstore_query *q,
    FILE *out, struct why *why);

#endif
