/*
 * The committer: one thread owning one database connection, storing groups
 * of records in table system_metrics.  Groups queued while it is busy share
 * the next transaction (group commit); each group learns its outcome only
 * after COMMIT.  Rows are inserted with prepared statements, many per
 * round trip (store_impl.h says how), and are idempotent on the record id: a
 * replayed id is counted as a duplicate, never stored twice.
 *
 * When the server goes away the transaction in flight is rolled back with
 * the connection; the committer reconnects with capped exponential
 * back-off.  In "wait" mode (stdin) the groups stay queued and are stored
 * after the reconnect, until the outage has lasted max_wait; in "fail fast"
 * mode (the HTTP receiver) they are failed at once so the client can retry
 * elsewhere, and new groups are refused while the database is down.
 */
#ifndef SM_STORE_H
#define SM_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include "dbconf.h"
#include "record.h"
#include "why.h"

/*
 * A batch of 2^k - 1 rows is one array execution (store_impl.h): one
 * statement, atomic alone, so it needs no START TRANSACTION and no COMMIT.
 * The receiver's transactions take up to 1023 rows of queued requests;
 * standard input's batches are 4095: a quarter of the round trips,
 * commits and statements of 1023 for the same rows, 5-10% less
 * server CPU (bench/RESULTS.md, issue 28).
 */
#define STORE_BATCH_DEFAULT 1023
#define STORE_BATCH_STDIN 4095
#define STORE_BATCH_MAX 100000

struct store_row {
	struct record rec;
	unsigned long where;	/* input line number, or index in a request */
};

struct store_reject {
	size_t row;		/* index into the group's rows */
	struct why reason;
};

enum store_status {
	STORE_QUEUED,
	STORE_DONE,		/* committed; rejects (if any) were left out */
	STORE_REFUSED,		/* atomic group with rejects: nothing stored */
	STORE_UNAVAILABLE	/* nothing stored: no database to be had */
};

struct store_group {
	struct store_row *rows;
	size_t n;
	bool atomic;		/* all rows or none (one HTTP request) */
	/* called by the committer thread once the outcome is known */
	void (*done)(struct store_group *g, void *arg);
	void *done_arg;
	/*
	 * Set for done: more groups of the same transaction are handed back
	 * right after this one (a wake-up can wait for the last).
	 */
	bool more;
	/* the outcome */
	enum store_status status;
	size_t stored;		/* rows new to the table */
	size_t duplicates;	/* rows whose id was already stored */
	struct store_reject *rejects;	/* rows the database refused */
	size_t nrejects;
	struct store_group *next;	/* the committer's queue */
};

struct store_config {
	const struct db_config *db;
	const char *source;	/* data_source, at most SCHEMA_SOURCE_MAX */
	size_t batch;		/* rows per transaction; a group is not split */
	int64_t max_wait_ms;	/* wait mode: how long an outage may last */
	bool fail_fast;		/* receiver mode, see above */
	/* may alter an existing table (schema_ensure) */
	bool migrate;
};

struct store;

/*
 * Start the committer: connect once (creating or migrating the table), then
 * run the thread.  A database that cannot be reached yet is not an error
 * (the thread keeps trying); a configuration fault (access denied, unknown
 * database, TLS refused, no privilege to create the table) is: NULL, with
 * the reason in why.
 */
struct store *store_open(const struct store_config *cfg, struct why *why);

/*
 * Queue g (its rows prepared with store_row_init).  Returns 0, or -1 when
 * the store refuses it (fail-fast mode while the database is down, or
 * after wait mode gave up): then g is not queued and done is not called.
 */
int store_submit(struct store *s, struct store_group *g);

/*
 * Between store_plug and store_unplug (one thread, the submitter's),
 * store_submit does not wake the committer; store_unplug does, once, if
 * it sleeps and groups are queued: the committer takes the lot, not the
 * first alone.
 */
void store_plug(struct store *s);
void store_unplug(struct store *s);

/* True while the committer has a transaction in flight (any thread). */
bool store_busy(struct store *s);

/* True while the database answers. */
bool store_up(struct store *s);

/* True once wait mode gave up: every later group is refused. */
bool store_gave_up(struct store *s);

/* The groups queued for the committer, and their rows (for /metrics). */
void store_queued(struct store *s, size_t *groups, size_t *rows);

/* Seconds until the next reconnection attempt, at least 1: Retry-After. */
unsigned store_retry_after(struct store *s);

/*
 * Stop: finish the queued groups (in wait mode, waiting for the database
 * within max_wait), end the thread, close the connection, free s.
 */
void store_close(struct store *s);

/*
 * Give row a fresh UUIDv7 when its record has no id (DESIGN.md: "made by
 * the first sender that sees a record without one") and bring the id to
 * lower case, so a replay in another case is still a duplicate.  Returns
 * 0, or -1 when no random bytes can be had.
 */
int store_row_init(struct store_row *row, unsigned long where);

/* Free g's rejects (not its rows) and reset its outcome. */
void store_group_reset(struct store_group *g);

#endif
