/*
 * What sm-tail --listen serves, kept apart from the HTTP server (lib/web)
 * so that it can be tested: a ring of the last rows the follower handed
 * out, in the order it handed them out (commit-visibility order), each
 * with its Server-Sent Events text made once for every client; a smaller
 * ring of the other events (alerts, the database's state), so that they
 * take no row's place; the newest row of every (host, source) pair; and
 * the SSE clients, each only two cursors into the rings.  A client never
 * holds a copy of the rows: one that falls a whole ring behind is cut
 * off, so memory does not grow with a slow reader and a slow reader never
 * holds up the others.
 *
 * Bounded whatever the table holds: the pairs are at most max_pairs (a
 * new pair makes room by dropping the one heard from least recently), and
 * a pair silent for forget_ms is dropped; each drop is counted.
 *
 * Not thread-safe: lib/web serialises every call with one lock.
 */
#ifndef SM_FEED_H
#define SM_FEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "rowfmt.h"

#define FEED_BACKLOG_DEFAULT 4096	/* rows in the ring */
#define FEED_BACKLOG_MAX 1000000
#define FEED_PAIRS_DEFAULT 4096	/* (host, source) pairs kept (--max-hosts) */
#define FEED_PAIRS_MAX 1000000
#define FEED_FORGET_DEFAULT_MS (3600 * 1000)	/* --forget */
#define FEED_EVENTS 1024	/* alert and status events in their ring */
#define FEED_STALE_MIN_MS 10000	/* a host is stale after at least this */
#define FEED_STALE_TIMES 3	/* ... or this many of its usual intervals */
#define FEED_RETRY_MS 3000	/* the SSE "retry:" a client is told */

enum feed_kind {
	FEED_ROW,		/* a row of the table */
	FEED_STATUS,		/* the database went up or down */
	FEED_ALERT		/* an alert fired or resolved (lib/alert) */
};

struct feed_entry {
	uint64_t seq;		/* position in the feed, from 0 */
	enum feed_kind kind;
	struct rowfmt_row row;	/* FEED_ROW */
	char *text;		/* the whole SSE event, blank line included */
	size_t len;
};

/* The newest row of one host as written by one source. */
struct feed_pair {
	struct feed_pair *hnext;	/* its hash bucket's (by host) */
	struct feed_pair *older, *newer;	/* by when last heard from */
	int64_t heard_ms;	/* feed's clock when its last row came */
	struct rowfmt_row row;
	int64_t interval_ms;	/* the host's usual interval; 0: unknown */
};

struct feed_client {
	struct feed_client *prev, *next;
	uint64_t cursor;	/* the next row to send */
	size_t off;		/* bytes of it sent already */
	uint64_t ecursor;	/* the next event to send */
	size_t eoff;		/* bytes of it sent already */
	char *host;		/* ?host=; NULL: any */
	char *source;		/* ?source=; NULL: any */
	uint64_t after_id;	/* catching up: only rows with ids above */
	uint64_t after_until;	/* ... in the entries before this seq */
	char *head;		/* the preamble, then keepalives; NULL: none */
	size_t head_len, head_off;
	bool cut;		/* fell behind the ring: to be closed */
	bool suspended;		/* lib/web: waiting for an entry */
	bool shut;		/* lib/web: its socket was shut down */
	void *conn;		/* lib/web's: the connection */
	void *ctx;		/* lib/web's: its socket's tracker */
	int fd;			/* its socket; -1 once closed */
};

struct feed {
	struct feed_entry *ring;	/* rows only */
	size_t cap;
	uint64_t next;		/* seq of the next row */
	struct feed_entry *events;	/* FEED_EVENTS alerts and statuses */
	uint64_t enext;		/* seq of the next event */
	struct feed_pair **buckets;	/* hashed by host; a power of two */
	size_t nbuckets;
	struct feed_pair *oldest, *newest;	/* by when last heard from */
	size_t npairs, max_pairs;
	int64_t forget_ms;	/* a pair silent this long is dropped */
	int64_t clock_ms;	/* feed_forget's now: when rows come */
	int64_t swept_ms;	/* when feed_forget last looked */
	unsigned long long evicted_full;	/* pairs dropped for room */
	unsigned long long evicted_silent;	/* pairs dropped: forget_ms */
	int64_t stale_ms;	/* fixed threshold; 0: from the interval */
	double warn;		/* the page's warning level, percent */
	bool db_up;
	bool ending;		/* shutting down: streams end */
	struct feed_client *clients;
	size_t nclients;
	unsigned long long rows;	/* rows added */
	unsigned long long cut;		/* clients cut off */
	unsigned long long served;	/* clients that connected */
};

/*
 * 0, or -1 when out of memory.  stale_ms 0: FEED_STALE_TIMES intervals.
 * The pairs' limits are FEED_PAIRS_DEFAULT and FEED_FORGET_DEFAULT_MS
 * until feed_limit.
 */
int feed_init(struct feed *f, size_t cap, int64_t stale_ms, double warn);
void feed_free(struct feed *f);

/*
 * Keep at most max_pairs pairs (1 to FEED_PAIRS_MAX), each dropped once
 * silent for forget_ms (no row of it added for that long, whatever the
 * rows' sample times: old rows read at the start count from then); before
 * any row.  0, or -1 when out of memory (the limits stay as they were).
 */
int feed_limit(struct feed *f, size_t max_pairs, int64_t forget_ms);

/*
 * The clock (ms, monotonic) is now_ms: rows added from now on are heard
 * at now_ms.  Then drop the pairs silent for forget_ms (looking at most
 * once a second); how many.  Called once before the first row, then
 * every step of the follower.
 */
size_t feed_forget(struct feed *f, int64_t now_ms);

/*
 * A row the follower handed out; 0, or -1 when out of memory.  Clients
 * whose cursor the ring overwrote are marked cut (the caller closes them).
 */
int feed_add_row(struct feed *f, const struct rowfmt_row *row);

/* The database went up or down: an SSE "status" event.  0, or -1. */
int feed_set_db(struct feed *f, bool up);

/*
 * An alert event (sm-alert(1), EVENTS: one JSON object, len bytes, no
 * newline) for every stream, as "event: alert"; -1 when out of memory.
 */
int feed_add_alert(struct feed *f, const char *json, size_t len);

/*
 * A new SSE client (linked into f->clients); host, source: its filters
 * (NULL: any).  It starts after the row whose table id is last_id when
 * have_last (a reconnect's Last-Event-ID; when that row has left the
 * ring, with the rows of the ring whose ids are above it), else with the
 * last n rows that pass its filters.  NULL when out of memory.
 */
struct feed_client *feed_client_new(struct feed *f, const char *host,
    const char *source, bool have_last, uint64_t last_id, size_t n);
void feed_client_free(struct feed *f, struct feed_client *c);

/* Queue an SSE comment line for every client (a keepalive). */
void feed_ping(struct feed *f);

/*
 * Copy up to max bytes of what c has not been sent into buf.  Returns the
 * bytes copied (0: nothing to send now), -1 when c is cut off, or -2
 * when all is sent and the feed is ending.
 */
long feed_client_read(struct feed *f, struct feed_client *c, char *buf,
    size_t max);

/*
 * A JSON array of the last n rows of the ring passing the filters, oldest
 * first (since_ms -1: any time); NULL when out of memory.  Each element:
 * {"row":ID,"source":S,"record":{...}}.
 */
char *feed_rows_json(const struct feed *f, size_t n, const char *host,
    const char *source, int64_t since_ms);

/* A JSON array, by host name, of each host's newest row at now_ms. */
char *feed_hosts_json(const struct feed *f, int64_t now_ms);

/*
 * Prometheus text exposition of the newest rows at now_ms, each pair
 * stale or not by its own newest row (sm_host_stale, sm_host_age_seconds),
 * and the feed's counters; NULL when out of memory.
 */
char *feed_metrics_text(const struct feed *f, int64_t now_ms);

/* s as a Prometheus label value: backslash, quote and newline escaped. */
void feed_label(FILE *out, const char *s);

#endif
