/*
 * Reading the newest rows of system_metrics and following new ones
 * (sm-tail(1)): the history (the last N rows that pass the filters, oldest
 * first), then polls that hand out every row committed since, exactly once,
 * whatever order concurrent writers commit in (lib/follow.h).  Polls read
 * every row, unfiltered, so that a row filtered out is never taken for a
 * hole; the filters are applied here, in C, with the same meaning as the
 * SQL of the history.  A lost connection is reopened with capped backoff;
 * what was seen is kept, so nothing is shown twice after it.
 *
 * Or, when the server allows it (lib/binlog.h), new rows are read from the
 * binary log: every committed insert once, in commit order, at its
 * commit, from the position of the history's snapshot.  The follower state
 * is kept up to date all the same, so that when the log cannot serve (a
 * purged position, an ALTER of the table) polling takes over from the last
 * row shown, and the log again, at a new snapshot, TAIL_BINLOG_RETRY_MS
 * later.
 */
#ifndef SM_TAIL_H
#define SM_TAIL_H

#include <stdbool.h>
#include <stdint.h>

#include "dbconf.h"
#include "row.h"

#define TAIL_PAGE 1000		/* rows per query */
#define TAIL_START_WINDOW 10000	/* ids below the newest checked at start */
#define TAIL_RETRY_CAP_MS 2000	/* longest wait between two connects */
#define TAIL_RESET_CHECK_MS 5000	/* how often to look for a TRUNCATE */
#define TAIL_BINLOG_RETRY_MS 5000	/* back to the log after polling */

/* How new rows are read (--via). */
enum tail_via {
	TAIL_VIA_AUTO,		/* the binary log when allowed, else polls */
	TAIL_VIA_BINLOG,	/* the binary log, or a configuration fault */
	TAIL_VIA_POLL		/* polls */
};

struct tail_filter {
	const char *host;	/* NULL: any; else exact, case-sensitive */
	const char *source;	/* NULL: any data_source; else exact */
	int64_t since_ms;	/* sample time at least this; -1: any */
	int64_t until_ms;	/* sample time before this; -1: any */
};

/*
 * A row to show; history is true for the rows read at start.  Returns 0,
 * or -1 to stop (the reader went away).
 */
typedef int (*tail_emit_fn)(const struct rowfmt_row *row, bool history,
    void *arg);

/* A row that cannot be read back (a NULL where sm writes a value). */
typedef void (*tail_bad_fn)(unsigned long long id, const char *why,
    void *arg);

struct tail_config {
	const struct db_config *db;
	struct tail_filter filter;
	unsigned long long lines;	/* rows of history */
	bool follow;			/* keep reading after the history */
	int64_t gap_timeout_ms;
	enum tail_via via;		/* for follow */
	tail_emit_fn emit;
	tail_bad_fn bad;		/* NULL: ignore such rows */
	void *arg;			/* for emit and bad */
};

enum tail_state {
	TAIL_CONNECTING,	/* never connected yet */
	TAIL_UP,
	TAIL_DOWN		/* connection lost: reconnecting */
};

/* What tail_step did. */
enum tail_step {
	TAIL_STEP_OK,		/* polled (rows may have been emitted) */
	TAIL_STEP_DOWN,		/* the database did not answer; retry later */
	TAIL_STEP_STOP,		/* emit asked to stop */
	TAIL_STEP_FATAL		/* a configuration fault at start: give up */
};

/* A reader and follower (lib/tail.c keeps its insides). */
struct tail;

/* How a follower's connection stands, for a status line or /health. */
struct tail_status {
	enum tail_state state;
	bool connected;		/* a connection is open */
	bool no_table;		/* the table does not exist (yet) */
	unsigned attempts;	/* failed connects in a row */
	enum db_fault fault;	/* of the last failure */
	const char *why;	/* the last failure ... */
	unsigned long long bad_rows;	/* rows that could not be read back */
	unsigned long long resets;	/* times the table's ids restarted */
	unsigned long long via_changes;	/* how rows are read changed ... */
	const char *via_why;	/* ... to this, and why */
};

/* Parse a --via name; -1 when unknown. */
int tail_via_parse(const char *name, enum tail_via *via);

/* A new reader for cfg (copied); NULL when out of memory. */
struct tail *tail_new(const struct tail_config *cfg);

/* Close and free t (NULL is ignored). */
void tail_free(struct tail *t);

/* Fill st; its strings are t's, valid until t is next used. */
void tail_status(const struct tail *t, struct tail_status *st);

/* The connection's socket, or -1 when there is none. */
int tail_socket(const struct tail *t);

/*
 * When to call tail_step next (monotonic), given next, the interval's
 * time: now_ms when that is past or when tail_step waits for new rows
 * itself (the binary log: until rows come or a heartbeat); not before the
 * retry while disconnected.
 */
int64_t tail_next_ms(const struct tail *t, int64_t next, int64_t now_ms);

/*
 * Connect; the first time, read and emit the history and, when following,
 * note where following starts (one consistent snapshot).  Returns 0, -1
 * on a failure (tail_status: why, fault; no connection kept) or -2 when
 * emit asked to stop.
 */
int tail_open(struct tail *t, int64_t now_ms);

/*
 * tail_step's connect alone, for a first connect before serving: connect
 * unless a retry is pending, and on a failure schedule the retry.
 * TAIL_STEP_OK when connected (the history emitted the first time), else
 * as tail_step.
 */
enum tail_step tail_connect(struct tail *t, int64_t now_ms);

/* Close the connection (tail_step reopens it). */
void tail_close(struct tail *t);

/*
 * What a follower does at time now_ms (monotonic): (re)connect when
 * disconnected and the retry is due, then poll.
 */
enum tail_step tail_step(struct tail *t, int64_t now_ms);

#endif
