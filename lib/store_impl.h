/*
 * The committer's insides, shared by store.c (the queue, the committer
 * thread, the connection) and store_sql.c (the statements, the bound rows,
 * one transaction of groups), and by the unit tests of store_dup_mark
 * (tests/unit/test_store.c).  Other modules use store.h.
 */
#ifndef SM_STORE_IMPL_H
#define SM_STORE_IMPL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "backoff.h"
#include "schema.h"
#include "store.h"

/*
 * Two ways to send many rows with prepared statements.  MariaDB servers
 * take one single-row INSERT executed for an array of rows in one round
 * trip (Connector/C "bulk" array binding, COM_STMT_BULK_EXECUTE): about a
 * fifth less server time per row than a multi-row INSERT.  Other servers
 * get multi-row INSERTs, of powers of two rows up to STORE_CHUNK_MAX, so a
 * handful of prepared statements covers every batch size (1000 rows =
 * 512+256+128+64+32+8).  SM_STORE_BULK=0 in the environment forces the
 * latter.
 */
#define STORE_CHUNK_LOG2 9
#define STORE_CHUNK_MAX (1u << STORE_CHUNK_LOG2)
#define STORE_NSTMT (STORE_CHUNK_LOG2 + 1)
/*
 * The most rows in one array execution (2^k - 1): a packet of about 2.4
 * MB, well within MariaDB's default max_allowed_packet (16 MB).
 */
#define STORE_BULK_MAX 16383
_Static_assert(STORE_BATCH_DEFAULT <= STORE_BULK_MAX &&
    (STORE_BATCH_DEFAULT & (STORE_BATCH_DEFAULT + 1)) == 0 &&
    STORE_BATCH_STDIN <= STORE_BULK_MAX &&
    (STORE_BATCH_STDIN & (STORE_BATCH_STDIN + 1)) == 0,
    "a batch is one array execution, atomic without a transaction");
/*
 * A transaction of at most this many rows (what group commit makes of
 * single-record requests) is one INSERT of exactly its rows: one round
 * trip, which with autocommit also commits it (store_sql.c), where array
 * executions of 2^k - 1 rows take two to four (30 rows are 15 + 15, 20
 * are 15 + 3 + 1 + 1) and a COMMIT.  A statement for each size, prepared
 * when first needed, bound once to the rows of brows.  Each holds a copy
 * of its binds in Connector/C (19 x 112 bytes a row): 32 sizes cost 1.1
 * MB, 48 cost 2.5 MB, 64 cost 4.4 MB (a receiver's peak RSS is to stay
 * under 16 MiB: 14.6 MiB at most with 64, bench/RESULTS.md).  64 clients
 * make transactions of 26-31 rows on average, and up to 64 rows: with 48
 * about one in four was over it (START TRANSACTION and COMMIT, two round
 * trips more) once the receiver read its clients' requests in one pass
 * after each transaction (httpd_loop.c).
 */
#define STORE_EXACT_MAX 64
#define STORE_EXACT_SPLIT (2 * STORE_EXACT_MAX)	/* see store_insert */

/* What one row's bound values need besides the record itself. */
struct store_aux {
	MYSQL_TIME sampled;
	unsigned long id_len;
	unsigned long host_len;
	unsigned long collector_len;
	my_bool host_null;	/* also a bulk indicator: 1 = NULL */
	my_bool collector_null;
	my_bool threads_null;
};

/*
 * One row of an array execution, bound row-wise: every value of a row sits
 * at the same offset from the row's start, so the record is copied in.
 */
struct store_brow {
	struct record rec;
	struct store_aux aux;
	char source[SCHEMA_SOURCE_MAX + 1];
	unsigned long source_len;
	/* ram_percentage, cpu_usage, cpu_free as text (store_sql.c) */
	char pct[3][sizeof("100.00")];
	unsigned long pct_len[3];
};

struct store {
	struct store_config cfg;
	char source[SCHEMA_SOURCE_MAX + 1];
	unsigned long source_len;

	pthread_t thread;
	pthread_mutex_t lock;
	int wake_fd;			/* eventfd: work queued, or stop */
	struct store_group *head;	/* queued groups, oldest first */
	struct store_group *tail;
	bool stopping;
	bool waiting;			/* the committer sleeps in store_wait */
	bool plugged;			/* store_plug: submit does not wake */
	bool busy;			/* atomic: a transaction in flight */
	/* written under lock, read atomically */
	bool up;
	bool gave_up;
	int64_t down_since_ms;		/* the outage began; 0 when up */
	int64_t next_attempt_ms;	/* the next reconnection attempt */

	/* the committer thread's own */
	MYSQL *m;
	MYSQL_STMT *stmt[STORE_NSTMT];	/* stmt[k] inserts 1 << k rows */
	bool bulk;			/* array executions (MariaDB) */
	bool bulk_bound;		/* stmt[0] bound to brows[0] */
	bool bulk_text;			/* ... its percentages as text */
	MYSQL_STMT *exact[STORE_EXACT_MAX + 1];	/* exact[n]: n rows, bound */
	bool dup_dirty;			/* SCHEMA_DUP_VAR may be set */
	MYSQL_BIND *binds;		/* STORE_CHUNK_MAX rows of binds */
	struct store_aux *aux;
	/* STORE_BULK_MAX rows once needed: 9 MB, touched as far as used */
	struct store_brow *brows;
	struct backoff backoff;		/* between reconnection attempts */
	unsigned attempt;		/* failed attempts in a row */
	bool warned;			/* the outage has been reported */
	int64_t warned_ms;		/* ... last, for the reminders */
	char desc[160];			/* the database, for messages */
};

/* The bind buffers (s->binds, s->aux): 0, or -1 out of memory. */
int store_sql_alloc(struct store *s);

/* Free the buffers store_sql_alloc and the inserts took. */
void store_sql_free(struct store *s);

/* Close the prepared statements (before the connection goes). */
void store_sql_close(struct store *s);

/*
 * Store the groups (a NULL-terminated list) in one transaction, redone
 * after deadlocks, and set each group's outcome; after a fault, the
 * transaction is rolled back and nothing is stored.
 */
enum db_fault store_sql_commit(struct store *s, struct store_group *first,
    struct why *why);

/*
 * Mark in dup[0..total) the rows of the groups (a NULL-terminated list, in
 * order) that list (modified) makes duplicates: with before, the ids that
 * were stored before the transaction (each once), else SCHEMA_DUP_VAR's
 * value (the ids of the rows found stored, one per row); 0, or -1 out of
 * memory.
 */
int store_dup_mark(struct store_group *first, size_t total, char *list,
    bool before, bool *dup);

#endif
