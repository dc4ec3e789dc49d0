/*
 * sm-store --listen's own counters, served as Prometheus text on
 * GET /metrics (sm-store(1), METRICS): answers by status code, records
 * stored, duplicate and rejected, bytes received, the committer's
 * transactions (requests and rows in each, how long each took), and at
 * the scrape the queue, the requests in flight, the connections and
 * whether the database answers.  The counters are process-wide (one
 * receiver a process): relaxed atomic additions, so the POST path pays
 * a few instructions and no lock.
 */
#ifndef SM_STOREMETRICS_H
#define SM_STOREMETRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define STOREMETRICS_CODE_MAX 600	/* HTTP status codes below this */

/* An answer went out with status code. */
void storemetrics_status(unsigned code);

/* n bytes of request body received. */
void storemetrics_bytes(size_t n);

/* Records: stored, found already stored, refused (validation or SQL). */
void storemetrics_records(size_t stored, size_t duplicates,
    size_t rejected);

/* A request with a missing or wrong bearer token. */
void storemetrics_auth_failed(void);

/*
 * The committer committed the groups of first (a NULL-terminated list)
 * in one transaction of us microseconds; or failed to (ok false).
 */
void storemetrics_commit(const struct store_group *first, int64_t us,
    bool ok);

/* What only the receiver knows, read at the scrape. */
struct storemetrics_gauges {
	bool db_up;
	size_t queued_groups, queued_rows;	/* waiting for the committer */
	unsigned inflight;		/* POST requests not answered */
	unsigned connections;		/* open, within --max-connections */
	unsigned long cut;		/* connections the sweep shut down */
};

/*
 * The exposition (Prometheus text format 0.0.4), allocated; NULL when
 * out of memory.
 */
char *storemetrics_text(const struct storemetrics_gauges *g);

/* Every counter back to 0 (unit tests). */
void storemetrics_reset(void);

#endif
