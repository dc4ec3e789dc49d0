#include <ctype.h>
#include <err.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "backoff.h"
#include "schema.h"
#include "store.h"
#include "timefmt.h"
#include "uuid.h"

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
#define STORE_BULK_MAX 1023	/* rows per array execution (2^k - 1) */
/*
 * A transaction of at most this many rows (what group commit makes of
 * single-record requests) is one INSERT of exactly its rows: one round
 * trip, where array executions of 2^k - 1 rows take two to four (30 rows
 * are 15 + 15, 20 are 15 + 3 + 1 + 1).  A statement for each size,
 * prepared when first needed, bound once to the rows of brows.  Each
 * holds a copy of its binds in Connector/C (19 x 112 bytes a row): 32
 * sizes cost 1.1 MB, 64 would cost 4.4 MB.
 */
#define STORE_EXACT_MAX 32

#define STORE_IDLE_PING_MS 1000	/* how soon an idle committer notices */
#define STORE_BACKOFF_BASE_MS 100
#define STORE_BACKOFF_CAP_MS 2000
#define STORE_RETRIES 5		/* deadlocks before reconnecting instead */

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
	bool up;			/* written under lock, read atomically */
	bool gave_up;
	int64_t down_since_ms;		/* the outage began; 0 when up */
	int64_t next_attempt_ms;	/* the next reconnection attempt */

	/* the committer thread's own */
	MYSQL *m;
	MYSQL_STMT *stmt[STORE_NSTMT];	/* stmt[k] inserts 1 << k rows */
	bool bulk;			/* array executions (MariaDB) */
	bool bulk_bound;		/* stmt[0] bound to brows[0] */
	MYSQL_STMT *exact[STORE_EXACT_MAX + 1];	/* exact[n]: n rows, bound */
	MYSQL_BIND *binds;		/* STORE_CHUNK_MAX rows of binds */
	struct store_aux *aux;
	struct store_brow *brows;	/* STORE_BULK_MAX, once needed */
	struct backoff backoff;		/* between reconnection attempts */
	unsigned attempt;		/* failed attempts in a row */
	bool warned;			/* the outage has been reported */
};

int
store_row_init(struct store_row *row, unsigned long where)
{
	char *p;

	row->where = where;
	if (row->rec.id[0] == '\0')
		return uuid7_generate(row->rec.id);
	for (p = row->rec.id; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	return 0;
}

void
store_group_reset(struct store_group *g)
{
	free(g->rejects);
	g->rejects = NULL;
	g->nrejects = 0;
	g->stored = g->duplicates = 0;
	g->status = STORE_QUEUED;
	g->next = NULL;
}

static void
store_wake(struct store *s)
{
	uint64_t one = 1;

	/* a full counter still wakes the reader: nothing to handle */
	if (write(s->wake_fd, &one, sizeof(one)) == -1 && errno != EAGAIN)
		warn("store: eventfd");
}

static void
store_drain_wake(struct store *s)
{
	uint64_t v;

	if (read(s->wake_fd, &v, sizeof(v)) == -1 && errno != EAGAIN)
		warn("store: eventfd");
}

/* Statements and connection: both go when the connection goes. */
static void
store_disconnect(struct store *s)
{
	size_t k;

	for (k = 0; k < STORE_NSTMT; k++)
		if (s->stmt[k] != NULL) {
			mysql_stmt_close(s->stmt[k]);
			s->stmt[k] = NULL;
		}
	s->bulk_bound = false;
	for (k = 0; k <= STORE_EXACT_MAX; k++)
		if (s->exact[k] != NULL) {
			mysql_stmt_close(s->exact[k]);
			s->exact[k] = NULL;
		}
	if (s->m != NULL) {
		mysql_close(s->m);
		s->m = NULL;
	}
}

/* Whether the server takes array executions (MariaDB 10.2 and later). */
static bool
store_bulk_supported(MYSQL *m)
{
	unsigned long caps = 0, ext = 0;
	const char *env = getenv("SM_STORE_BULK");

	if (env != NULL && strcmp(env, "0") == 0)
		return false;
	if (mariadb_get_infov(m, MARIADB_CONNECTION_SERVER_CAPABILITIES,
	    &caps) != 0 || mariadb_get_infov(m,
	    MARIADB_CONNECTION_EXTENDED_SERVER_CAPABILITIES, &ext) != 0)
		return false;
	return !(caps & CLIENT_MYSQL) &&
	    (ext & (MARIADB_CLIENT_STMT_BULK_OPERATIONS >> 32)) != 0;
}

/* Connect, check the table, turn autocommit off. */
static enum db_fault
store_connect(struct store *s, struct why *why)
{
	enum db_fault f;
	int changed;

	if ((s->m = db_connect(s->cfg.db, why, &f)) == NULL)
		return f;
	/* a joining Galera node accepts connections long before writes */
	if ((f = db_node_ready(s->m, why)) != DB_FAULT_NONE)
		goto out_disconnect;
	if ((f = schema_ensure(s->m, s->cfg.migrate, &changed, why)) !=
	    DB_FAULT_NONE)
		goto out_disconnect;
	if (changed & SCHEMA_CREATED)
		warnx("created table " SCHEMA_TABLE);
	if (changed & SCHEMA_MIGRATED)
		warnx("migrated table " SCHEMA_TABLE " of an older sm to the "
		    "replaced system's column names");
	if (changed & SCHEMA_ADDED)
		warnx("added sm's columns and keys to table " SCHEMA_TABLE);
	if (mysql_autocommit(s->m, 0) != 0) {
		f = db_error(s->m, "autocommit", why);
		goto out_disconnect;
	}
	s->bulk = store_bulk_supported(s->m);
	return DB_FAULT_NONE;
out_disconnect:
	store_disconnect(s);
	/* no right to create or alter the table will not mend by itself */
	return f == DB_FAULT_OTHER ? DB_FAULT_CONFIG : f;
}

static MYSQL_STMT *
store_stmt(struct store *s, unsigned k, enum db_fault *f, struct why *why)
{
	char *sql;

	if (s->stmt[k] != NULL)
		return s->stmt[k];
	if ((sql = schema_insert_sql((size_t)1 << k)) == NULL) {
		why_set(why, "out of memory");
		*f = DB_FAULT_OTHER;
		return NULL;
	}
	if ((s->stmt[k] = mysql_stmt_init(s->m)) == NULL) {
		*f = db_error(s->m, "preparing the insert", why);
		goto out_free_sql;
	}
	if (mysql_stmt_prepare(s->stmt[k], sql, strlen(sql)) != 0) {
		*f = db_stmt_error(s->stmt[k], "preparing the insert", why);
		mysql_stmt_close(s->stmt[k]);
		s->stmt[k] = NULL;
	}
out_free_sql:
	free(sql);
	return s->stmt[k];
}

static void
store_time(int64_t ms, MYSQL_TIME *t)
{
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;

	memset(t, 0, sizeof(*t));
	gmtime_r(&secs, &tm);
	t->year = (unsigned)tm.tm_year + 1900;
	t->month = (unsigned)tm.tm_mon + 1;
	t->day = (unsigned)tm.tm_mday;
	t->hour = (unsigned)tm.tm_hour;
	t->minute = (unsigned)tm.tm_min;
	t->second = (unsigned)tm.tm_sec;
	t->second_part = (unsigned long)(ms % 1000) * 1000;
	t->time_type = MYSQL_TIMESTAMP_DATETIME;
}

/* The values a row needs besides its record: times, lengths, NULLs. */
static void
store_aux_fill(struct store_aux *a, const struct record *r)
{
	store_time(r->ts_ms, &a->sampled);
	a->id_len = strlen(r->id);
	a->host_len = strlen(r->host);
	a->collector_len = strlen(r->collector);
	a->host_null = a->host_len == 0;
	a->collector_null = a->collector_len == 0;
	a->threads_null = r->threads < 0;
}

static void
bind_num(MYSQL_BIND *b, enum enum_field_types type, void *p)
{
	b->buffer_type = type;
	b->buffer = p;
}

static void
bind_str(MYSQL_BIND *b, char *p, unsigned long *len)
{
	b->buffer_type = MYSQL_TYPE_STRING;
	b->buffer = p;
	b->buffer_length = *len;
	b->length = len;
}

/* A NULL flag: per row in an array execution (indicator), else is_null. */
static void
bind_null(MYSQL_BIND *b, my_bool *null, bool bulk)
{
	b->is_null = bulk ? NULL : null;
	b->u.indicator = bulk ? (char *)null : NULL;
}

/*
 * Bind one row's values as placeholders b[0..SCHEMA_INSERT_NCOLS); for an
 * array execution, the first row's, the others following row-wise.
 */
static void
store_bind_row(MYSQL_BIND *b, struct record *r, struct store_aux *a,
    char *source, unsigned long *source_len, bool bulk)
{
	bind_num(&b[SCHEMA_I_RAM_TOTAL], MYSQL_TYPE_LONGLONG, &r->ram_total);
	bind_num(&b[SCHEMA_I_RAM_FREE], MYSQL_TYPE_LONGLONG, &r->ram_free);
	bind_num(&b[SCHEMA_I_RAM_USED], MYSQL_TYPE_LONGLONG, &r->ram_used);
	bind_num(&b[SCHEMA_I_RAM_PERCENTAGE], MYSQL_TYPE_DOUBLE,
	    &r->ram_percentage);
	bind_num(&b[SCHEMA_I_CPU_USAGE], MYSQL_TYPE_DOUBLE, &r->cpu_usage);
	bind_num(&b[SCHEMA_I_CPU_FREE], MYSQL_TYPE_DOUBLE, &r->cpu_free);
	bind_num(&b[SCHEMA_I_RUNNING], MYSQL_TYPE_LONGLONG,
	    &r->running_processes);
	bind_num(&b[SCHEMA_I_TOTAL_PROCESSES], MYSQL_TYPE_LONGLONG,
	    &r->total_processes);
	bind_num(&b[SCHEMA_I_SLEEPING], MYSQL_TYPE_LONGLONG,
	    &r->sleeping_processes);
	bind_num(&b[SCHEMA_I_ZOMBIE], MYSQL_TYPE_LONGLONG,
	    &r->zombie_processes);
	bind_num(&b[SCHEMA_I_STOPPED], MYSQL_TYPE_LONGLONG,
	    &r->stopped_processes);
	bind_str(&b[SCHEMA_I_DATA_SOURCE], source, source_len);
	bind_str(&b[SCHEMA_I_SAMPLE_ID], r->id, &a->id_len);
	bind_str(&b[SCHEMA_I_HOST], r->host, &a->host_len);
	bind_null(&b[SCHEMA_I_HOST], &a->host_null, bulk);
	bind_str(&b[SCHEMA_I_COLLECTOR], r->collector, &a->collector_len);
	bind_null(&b[SCHEMA_I_COLLECTOR], &a->collector_null, bulk);
	bind_num(&b[SCHEMA_I_SAMPLED_AT], MYSQL_TYPE_DATETIME, &a->sampled);
	bind_num(&b[SCHEMA_I_RAM_AVAILABLE], MYSQL_TYPE_LONGLONG,
	    &r->ram_available);
	bind_num(&b[SCHEMA_I_THREADS], MYSQL_TYPE_LONGLONG, &r->threads);
	bind_null(&b[SCHEMA_I_THREADS], &a->threads_null, bulk);
}

/* A walk over the rows of consecutive groups. */
struct store_cursor {
	struct store_group *g;
	size_t i;
};

static struct store_row *
store_cursor_next(struct store_cursor *c)
{
	while (c->g != NULL && c->i >= c->g->n) {
		c->g = c->g->next;
		c->i = 0;
	}
	if (c->g == NULL)
		return NULL;
	return &c->g->rows[c->i++];
}

/* Multi-row INSERTs of powers of two rows. */
static enum db_fault
store_insert_rows(struct store *s, struct store_cursor *c, size_t n,
    size_t *affected, struct why *why)
{
	enum db_fault f = DB_FAULT_NONE;

	while (n > 0) {
		unsigned k = STORE_CHUNK_LOG2;
		MYSQL_STMT *st;
		size_t rows, r;

		while (((size_t)1 << k) > n)
			k--;
		rows = (size_t)1 << k;
		if ((st = store_stmt(s, k, &f, why)) == NULL)
			return f;
		for (r = 0; r < rows; r++) {
			struct store_row *row = store_cursor_next(c);

			store_aux_fill(&s->aux[r], &row->rec);
			store_bind_row(&s->binds[r * SCHEMA_INSERT_NCOLS],
			    &row->rec, &s->aux[r], s->source, &s->source_len,
			    false);
		}
		if (mysql_stmt_bind_param(st, s->binds) != 0)
			return db_stmt_error(st, "binding rows", why);
		if (mysql_stmt_execute(st) != 0)
			return db_stmt_error(st, "insert", why);
		*affected += (size_t)mysql_stmt_affected_rows(st);
		n -= rows;
	}
	return f;
}

/* The next n rows of the cursor into brows[0..n), with what they need. */
static void
store_brows_fill(struct store *s, struct store_cursor *c, size_t n)
{
	size_t r;

	for (r = 0; r < n; r++) {
		struct store_brow *b = &s->brows[r];

		b->rec = store_cursor_next(c)->rec;
		store_aux_fill(&b->aux, &b->rec);
		memcpy(b->source, s->source, s->source_len + 1);
		b->source_len = s->source_len;
	}
}

/* brows for copies of the rows, once needed. */
static enum db_fault
store_brows(struct store *s, struct why *why)
{
	if (s->brows == NULL && (s->brows = calloc(STORE_BULK_MAX,
	    sizeof(struct store_brow))) == NULL) {
		why_set(why, "out of memory");
		return DB_FAULT_OTHER;
	}
	return DB_FAULT_NONE;
}

/* The single-row INSERT executed for arrays of rows. */
static enum db_fault
store_insert_bulk(struct store *s, struct store_cursor *c, size_t n,
    size_t *affected, struct why *why)
{
	const size_t row_size = sizeof(struct store_brow);
	enum db_fault f;
	MYSQL_STMT *st;

	if ((f = store_brows(s, why)) != DB_FAULT_NONE)
		return f;
	if ((st = store_stmt(s, 0, &f, why)) == NULL)
		return f;
	while (n > 0) {
		unsigned int rows = STORE_BULK_MAX;

		/*
		 * 2^k - 1 rows: InnoDB reserves AUTO_INCREMENT ids for an
		 * array execution 1, 2, 4, ... at a time, so such a count
		 * uses them all, and the table's ids stay without gaps.
		 */
		while (rows > n)
			rows /= 2;

		store_brows_fill(s, c, rows);
		if (mysql_stmt_attr_set(st, STMT_ATTR_ARRAY_SIZE, &rows) != 0)
			return db_stmt_error(st, "binding rows", why);
		/*
		 * Bound once per prepared statement: the rows are always
		 * copied to brows, so the addresses do not change, and the
		 * types go to the server once, not with every batch.
		 */
		if (!s->bulk_bound) {
			store_bind_row(s->binds, &s->brows[0].rec,
			    &s->brows[0].aux, s->brows[0].source,
			    &s->brows[0].source_len, true);
			if (mysql_stmt_attr_set(st, STMT_ATTR_ROW_SIZE,
			    &row_size) != 0 ||
			    mysql_stmt_bind_param(st, s->binds) != 0)
				return db_stmt_error(st, "binding rows", why);
			s->bulk_bound = true;
		}
		if (mysql_stmt_execute(st) != 0)
			return db_stmt_error(st, "insert", why);
		*affected += (size_t)mysql_stmt_affected_rows(st);
		n -= rows;
	}
	return f;
}

/* One INSERT of exactly n rows (n <= STORE_EXACT_MAX), see above. */
static enum db_fault
store_insert_exact(struct store *s, struct store_cursor *c, size_t n,
    size_t *affected, struct why *why)
{
	MYSQL_STMT *st = s->exact[n];
	enum db_fault f;
	char *sql;
	size_t r;

	if ((f = store_brows(s, why)) != DB_FAULT_NONE)
		return f;
	if (st == NULL) {
		if ((sql = schema_insert_sql(n)) == NULL) {
			why_set(why, "out of memory");
			return DB_FAULT_OTHER;
		}
		if ((st = mysql_stmt_init(s->m)) == NULL) {
			free(sql);
			return db_error(s->m, "preparing the insert", why);
		}
		if (mysql_stmt_prepare(st, sql, strlen(sql)) != 0) {
			f = db_stmt_error(st, "preparing the insert", why);
			mysql_stmt_close(st);
			free(sql);
			return f;
		}
		free(sql);
		for (r = 0; r < n; r++) {
			struct store_brow *b = &s->brows[r];

			store_bind_row(&s->binds[r * SCHEMA_INSERT_NCOLS],
			    &b->rec, &b->aux, b->source, &b->source_len,
			    false);
		}
		if (mysql_stmt_bind_param(st, s->binds) != 0) {
			f = db_stmt_error(st, "binding rows", why);
			mysql_stmt_close(st);
			return f;
		}
		s->exact[n] = st;
	}
	store_brows_fill(s, c, n);
	if (mysql_stmt_execute(st) != 0)
		return db_stmt_error(st, "insert", why);
	*affected += (size_t)mysql_stmt_affected_rows(st);
	return DB_FAULT_NONE;
}

/* Insert n rows from the cursor; add those really inserted to *affected. */
static enum db_fault
store_insert(struct store *s, struct store_cursor *c, size_t n,
    size_t *affected, struct why *why)
{
	if (n <= STORE_EXACT_MAX)
		return store_insert_exact(s, c, n, affected, why);
	if (s->bulk)
		return store_insert_bulk(s, c, n, affected, why);
	return store_insert_rows(s, c, n, affected, why);
}

static enum db_fault
store_sql(struct store *s, const char *sql, struct why *why)
{
	if (mysql_query(s->m, sql) != 0)
		return db_error(s->m, sql, why);
	return DB_FAULT_NONE;
}

static void
store_rollback(struct store *s)
{
	/* a failed rollback means a lost connection: found out next */
	if (s->m != NULL)
		mysql_rollback(s->m);
}

static int
store_add_reject(struct store_group *g, size_t row, const char *why)
{
	struct store_reject *nr;

	nr = realloc(g->rejects, (g->nrejects + 1) * sizeof(*g->rejects));
	if (nr == NULL)
		return -1;
	g->rejects = nr;
	nr[g->nrejects].row = row;
	why_set(&nr[g->nrejects].reason, "%s", why);
	g->nrejects++;
	return 0;
}

/*
 * A statement was refused for a value: redo the groups (a NULL-terminated
 * list) row by row, each row behind a savepoint, leaving out the rows the
 * server refuses; an atomic group with a refused row leaves out all of its
 * rows.  Then commit.
 */
static enum db_fault
store_isolate(struct store *s, struct store_group *first, struct why *why)
{
	struct why rwhy;
	struct store_group *g;
	enum db_fault f;
	size_t i;

	for (g = first; g != NULL; g = g->next) {
		free(g->rejects);
		g->rejects = NULL;
		g->nrejects = g->stored = g->duplicates = 0;
	}
	for (g = first; g != NULL; g = g->next) {
		if (g->atomic && (f = store_sql(s, "SAVEPOINT sm_group",
		    why)) != DB_FAULT_NONE)
			return f;
		for (i = 0; i < g->n; i++) {
			struct store_group one = { .rows = &g->rows[i],
			    .n = 1 };
			struct store_cursor c = { &one, 0 };
			size_t affected = 0;

			if ((f = store_sql(s, "SAVEPOINT sm_row", why)) !=
			    DB_FAULT_NONE)
				return f;
			f = store_insert(s, &c, 1, &affected, &rwhy);
			if (f == DB_FAULT_DATA) {
				if (store_add_reject(g, i, rwhy.msg) == -1) {
					why_set(why, "out of memory");
					return DB_FAULT_OTHER;
				}
				f = store_sql(s, "ROLLBACK TO SAVEPOINT sm_row",
				    why);
				if (f != DB_FAULT_NONE)
					return f;
				continue;
			}
			if (f != DB_FAULT_NONE) {
				*why = rwhy;
				return f;
			}
			g->stored += affected;
			g->duplicates += 1 - affected;
		}
		if (g->atomic && g->nrejects > 0) {
			if ((f = store_sql(s, "ROLLBACK TO SAVEPOINT sm_group",
			    why)) != DB_FAULT_NONE)
				return f;
			g->stored = g->duplicates = 0;
		}
	}
	if (mysql_commit(s->m) != 0)
		return db_error(s->m, "commit", why);
	for (g = first; g != NULL; g = g->next)
		g->status = g->atomic && g->nrejects > 0 ? STORE_REFUSED :
		    STORE_DONE;
	return DB_FAULT_NONE;
}

/*
 * One transaction for a NULL-terminated list of groups.  The common case
 * is one round of inserts and a COMMIT.  When some rows turn out to be
 * duplicates and several groups share the transaction, it is redone group
 * by group, so that each group learns its own count.
 */
static enum db_fault
store_transaction(struct store *s, struct store_group *first, struct why *why)
{
	struct store_cursor c = { first, 0 };
	size_t total = 0, affected = 0, ngroups = 0;
	struct store_group *g;
	enum db_fault f;

	for (g = first; g != NULL; g = g->next) {
		total += g->n;
		ngroups++;
	}
	f = store_insert(s, &c, total, &affected, why);
	if (f == DB_FAULT_NONE && affected != total && ngroups > 1) {
		store_rollback(s);
		for (g = first; g != NULL && f == DB_FAULT_NONE; g = g->next) {
			struct store_group one = *g;
			struct store_cursor gc = { &one, 0 };
			size_t ga = 0;

			one.next = NULL;
			f = store_insert(s, &gc, g->n, &ga, why);
			g->stored = ga;
			g->duplicates = g->n - ga;
		}
	} else if (f == DB_FAULT_NONE) {
		for (g = first; g != NULL; g = g->next) {
			g->stored = ngroups == 1 ? affected : g->n;
			g->duplicates = g->n - g->stored;
		}
	}
	if (f == DB_FAULT_DATA) {
		store_rollback(s);
		return store_isolate(s, first, why);
	}
	if (f != DB_FAULT_NONE)
		return f;
	if (mysql_commit(s->m) != 0)
		return db_error(s->m, "commit", why);
	for (g = first; g != NULL; g = g->next)
		g->status = STORE_DONE;
	return DB_FAULT_NONE;
}

/* The transaction, redone after deadlocks and lock wait time-outs. */
static enum db_fault
store_commit_groups(struct store *s, struct store_group *first, struct why *why)
{
	enum db_fault f;
	unsigned tries;

	for (tries = 0; ; tries++) {
		f = store_transaction(s, first, why);
		if (f == DB_FAULT_NONE)
			return f;
		store_rollback(s);
		if (f != DB_FAULT_RETRY)
			return f;
		if (tries + 1 >= STORE_RETRIES)
			return DB_FAULT_OTHER;
	}
}

/* Hand a NULL-terminated list of groups back to their owners. */
static void
store_finish(struct store_group *g, enum store_status status)
{
	while (g != NULL) {
		struct store_group *next = g->next;

		if (status != STORE_QUEUED)
			g->status = status;
		g->next = NULL;
		g->done(g, g->done_arg);
		g = next;
	}
}

/*
 * Wait (lock held, released meanwhile) for a wake-up, for activity on fd2
 * (unless -1), or for timeout_ms.  Returns 0 on time-out, 1 on a wake-up,
 * 2 on activity on fd2.
 */
static int
store_wait(struct store *s, int fd2, int timeout_ms)
{
	struct pollfd pfd[2] = {
		{ .fd = s->wake_fd, .events = POLLIN },
		{ .fd = fd2, .events = POLLIN },
	};
	int n;

	s->waiting = true;
	pthread_mutex_unlock(&s->lock);
	n = poll(pfd, fd2 >= 0 ? 2 : 1, timeout_ms);
	if (n > 0 && (pfd[0].revents & POLLIN))
		store_drain_wake(s);
	pthread_mutex_lock(&s->lock);
	s->waiting = false;
	if (n > 0 && fd2 >= 0 && pfd[1].revents != 0)
		return 2;
	return n > 0 ? 1 : 0;
}

/* The connection failed (lock held): schedule the next attempt. */
static void
store_went_down(struct store *s, const char *why)
{
	int64_t now = clock_mono_ms();

	__atomic_store_n(&s->up, false, __ATOMIC_RELEASE);
	if (s->down_since_ms == 0)
		s->down_since_ms = now;
	if (!s->warned) {
		warnx("database: %s; reconnecting", why);
		s->warned = true;
	}
	s->next_attempt_ms = now + backoff_delay_ms(&s->backoff,
	    s->attempt++);
	if (!s->cfg.fail_fast && s->cfg.max_wait >= 0 &&
	    now - s->down_since_ms >= (int64_t)(s->cfg.max_wait * 1000)) {
		warnx("database: unreachable for %.1f s (--max-wait): "
		    "giving up: %s", (double)(now - s->down_since_ms) / 1000,
		    why);
		s->gave_up = true;
	}
}

/* The database proved healthy (lock held): the outage is over. */
static void
store_healthy(struct store *s)
{
	s->down_since_ms = 0;
	s->attempt = 0;
	s->warned = false;
}

/* Reconnect (lock held, released meanwhile). */
static void
store_reconnect(struct store *s)
{
	struct why why;
	enum db_fault f;

	pthread_mutex_unlock(&s->lock);
	f = store_connect(s, &why);
	pthread_mutex_lock(&s->lock);
	if (f != DB_FAULT_NONE) {
		store_went_down(s, why.msg);
		return;
	}
	if (s->warned)
		warnx("database: reconnected after %.1f s",
		    (double)(clock_mono_ms() - s->down_since_ms) / 1000);
	__atomic_store_n(&s->up, true, __ATOMIC_RELEASE);
}

/* Detach up to cfg.batch rows' worth of whole groups (lock held). */
static struct store_group *
store_take(struct store *s, bool all)
{
	struct store_group *first = s->head, *last = NULL, *g;
	size_t rows = 0;

	for (g = first; g != NULL; last = g, g = g->next) {
		if (!all && last != NULL && rows + g->n > s->cfg.batch)
			break;
		rows += g->n;
	}
	if (last != NULL)
		last->next = NULL;
	s->head = g;
	if (g == NULL)
		s->tail = NULL;
	return first;
}

/* Put a detached list back at the head of the queue (lock held). */
static void
store_requeue(struct store *s, struct store_group *first)
{
	struct store_group *last = first;

	while (last->next != NULL)
		last = last->next;
	last->next = s->head;
	s->head = first;
	if (s->tail == NULL)
		s->tail = last;
}

/* Idle: wait for work; meanwhile check that the server is still there. */
static void
store_idle(struct store *s)
{
	struct why why;
	int w;

	w = store_wait(s, (int)mysql_get_socket(s->m), STORE_IDLE_PING_MS);
	if (w == 1 || s->head != NULL)
		return;
	pthread_mutex_unlock(&s->lock);
	/*
	 * data from an idle server is its goodbye: ping reads it; a Galera
	 * node cut off from the primary component keeps its connections
	 * but refuses writes: /health must say so before a POST finds out
	 */
	if ((mysql_ping(s->m) == 0 ? db_node_ready(s->m, &why) :
	    db_error(s->m, "ping", &why)) == DB_FAULT_NONE) {
		pthread_mutex_lock(&s->lock);
		store_healthy(s);
		return;
	}
	store_disconnect(s);
	pthread_mutex_lock(&s->lock);
	store_went_down(s, why.msg);
}

static void *
store_main(void *arg)
{
	struct store *s = arg;

	mysql_thread_init();
	pthread_mutex_lock(&s->lock);
	for (;;) {
		struct store_group *first;
		struct why why;
		enum db_fault f;
		int64_t now;

		if (s->m == NULL && (s->gave_up || s->cfg.fail_fast) &&
		    s->head != NULL) {
			/* these cannot wait for the database */
			first = store_take(s, true);
			pthread_mutex_unlock(&s->lock);
			store_finish(first, STORE_UNAVAILABLE);
			pthread_mutex_lock(&s->lock);
			continue;
		}
		if (s->stopping && s->head == NULL)
			break;
		if (s->m == NULL) {
			now = clock_mono_ms();
			if (s->gave_up)
				store_wait(s, -1, -1);
			else if (now < s->next_attempt_ms)
				store_wait(s, -1,
				    (int)(s->next_attempt_ms - now));
			else
				store_reconnect(s);
			continue;
		}
		if (s->head == NULL) {
			store_idle(s);
			continue;
		}
		first = store_take(s, false);
		pthread_mutex_unlock(&s->lock);
		f = store_commit_groups(s, first, &why);
		if (f == DB_FAULT_NONE) {
			store_finish(first, STORE_QUEUED);
			pthread_mutex_lock(&s->lock);
			store_healthy(s);
			continue;
		}
		/*
		 * The transaction died with the connection (or the server
		 * refused it for a reason a new session may not have): the
		 * rows are not stored; if the COMMIT was lost in flight, a
		 * retry finds them as duplicates, never as new rows.
		 */
		store_disconnect(s);
		pthread_mutex_lock(&s->lock);
		store_went_down(s, why.msg);
		if (s->cfg.fail_fast || s->gave_up) {
			pthread_mutex_unlock(&s->lock);
			store_finish(first, STORE_UNAVAILABLE);
			pthread_mutex_lock(&s->lock);
		} else {
			store_requeue(s, first);
		}
	}
	pthread_mutex_unlock(&s->lock);
	store_disconnect(s);
	mysql_thread_end();
	return NULL;
}

struct store *
store_open(const struct store_config *cfg, struct why *why)
{
	sigset_t all, old;
	struct store *s;
	enum db_fault f;
	int rc;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		why_set(why, "out of memory");
		return NULL;
	}
	s->cfg = *cfg;
	if (s->cfg.batch == 0)
		s->cfg.batch = STORE_BATCH_DEFAULT;
	snprintf(s->source, sizeof(s->source), "%s", cfg->source);
	s->source_len = strlen(s->source);
	s->binds = calloc((size_t)STORE_CHUNK_MAX * SCHEMA_INSERT_NCOLS,
	    sizeof(*s->binds));
	s->aux = calloc(STORE_CHUNK_MAX, sizeof(*s->aux));
	if (s->binds == NULL || s->aux == NULL) {
		why_set(why, "out of memory");
		goto out_free;
	}
	if ((s->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1) {
		why_set(why, "eventfd: %s", strerror(errno));
		goto out_free;
	}
	pthread_mutex_init(&s->lock, NULL);
	backoff_init(&s->backoff, STORE_BACKOFF_BASE_MS, STORE_BACKOFF_CAP_MS,
	    0);
	f = store_connect(s, why);
	if (f == DB_FAULT_CONFIG)
		goto out_close_fd;
	if (f == DB_FAULT_NONE) {
		__atomic_store_n(&s->up, true, __ATOMIC_RELEASE);
	} else {
		pthread_mutex_lock(&s->lock);
		store_went_down(s, why->msg);
		pthread_mutex_unlock(&s->lock);
	}
	/* signals are for the main thread */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(&s->thread, NULL, store_main, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		why_set(why, "pthread_create: %s",
		    strerror(rc));
		store_disconnect(s);
		goto out_close_fd;
	}
	return s;
out_close_fd:
	pthread_mutex_destroy(&s->lock);
	close(s->wake_fd);
out_free:
	free(s->aux);
	free(s->binds);
	free(s);
	return NULL;
}

int
store_submit(struct store *s, struct store_group *g)
{
	bool wake;

	pthread_mutex_lock(&s->lock);
	if (s->gave_up || (s->cfg.fail_fast && !s->up) || s->stopping) {
		pthread_mutex_unlock(&s->lock);
		return -1;
	}
	g->status = STORE_QUEUED;
	g->next = NULL;
	if (s->tail != NULL)
		s->tail->next = g;
	else
		s->head = g;
	s->tail = g;
	/*
	 * A busy committer looks at the queue before it sleeps again: only
	 * a sleeping one needs the system call, and only once.
	 */
	wake = s->waiting;
	s->waiting = false;
	pthread_mutex_unlock(&s->lock);
	if (wake)
		store_wake(s);
	return 0;
}

bool
store_up(struct store *s)
{
	/* asked before every request: no lock */
	return __atomic_load_n(&s->up, __ATOMIC_ACQUIRE);
}

bool
store_gave_up(struct store *s)
{
	bool gave_up;

	pthread_mutex_lock(&s->lock);
	gave_up = s->gave_up;
	pthread_mutex_unlock(&s->lock);
	return gave_up;
}

unsigned
store_retry_after(struct store *s)
{
	int64_t left;

	pthread_mutex_lock(&s->lock);
	left = s->next_attempt_ms - clock_mono_ms();
	pthread_mutex_unlock(&s->lock);
	return left <= 1000 ? 1 : (unsigned)((left + 999) / 1000);
}

void
store_close(struct store *s)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->lock);
	s->stopping = true;
	pthread_mutex_unlock(&s->lock);
	store_wake(s);
	pthread_join(s->thread, NULL);
	pthread_mutex_destroy(&s->lock);
	close(s->wake_fd);
	free(s->brows);
	free(s->aux);
	free(s->binds);
	free(s);
}
