/*
 * Reading system_metrics back: the history, then following new rows by
 * polling or through the binary log (tail.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <mysql.h>
#include <mysqld_error.h>

#include "backoff.h"
#include "binlog.h"
#include "clock.h"
#include "follow.h"
#include "schema.h"
#include "tail.h"
#include "tail_impl.h"
#include "timefmt.h"
#include "uuid.h"

struct tail {
	struct tail_config cfg;
	MYSQL *m;
	char *filter_sql;	/* " AND ..." for the history; per connection */
	char *poll_sql;		/* a poll's statement */
	size_t poll_sql_size;
	struct follow follow;
	struct backoff backoff;
	enum tail_state state;
	bool started;		/* the history has been read */
	unsigned attempts;	/* failed connects in a row */
	int64_t retry_ms;	/* the next connect, monotonic */
	enum db_fault fault;	/* of the last failure */
	struct why why;	/* the last failure */
	unsigned long long rows_read;	/* rows polled, filtered or not */
	unsigned long long rows_shown;
	unsigned long long bad_rows;
	bool no_table;		/* the table does not exist (yet) */
	bool next_id_live;	/* the server's AUTO_INCREMENT is not cached */
	int64_t reset_check_ms;	/* the next look for a TRUNCATE, monotonic */
	uint64_t anchor;	/* id of the newest row seen (0: none) ... */
	char anchor_sid[UUID_STR_LEN];	/* ... and its sample_id */
	bool anchor_lost;	/* the anchor's row was not there */
	unsigned long long resets;	/* times the table's ids restarted */
	struct binlog binlog;
	bool binlog_on;		/* following the binary log (t->m reads it) */
	int64_t binlog_retry_ms;	/* back to the log then, monotonic */
	unsigned server_id;	/* as a replica: one of our own */
	unsigned long long via_changes;	/* how rows are read changed ... */
	struct why via_why;	/* ... to this, and why */
};

int
tail_via_parse(const char *name, enum tail_via *via)
{
	if (strcmp(name, "auto") == 0)
		*via = TAIL_VIA_AUTO;
	else if (strcmp(name, "binlog") == 0)
		*via = TAIL_VIA_BINLOG;
	else if (strcmp(name, "poll") == 0)
		*via = TAIL_VIA_POLL;
	else
		return -1;
	return 0;
}

static long tail_poll(struct tail *t, int64_t now_ms);

/*
 * A replica's server id of our own: the server ends an older dump with
 * the same id, so two followers must not share one.  The top half of the
 * range, which replicas numbered by hand rarely use.
 */
static unsigned
tail_server_id(void)
{
	uint32_t r;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
		r = (uint32_t)getpid() ^ (uint32_t)time(NULL);
	return 0x80000000u | (r & 0x7fffffffu);
}

/* Does tail_step wait for new rows itself (the binary log)? */
static bool
tail_self_paced(const struct tail *t)
{
	return t->binlog_on && t->m != NULL;
}

int64_t
tail_next_ms(const struct tail *t, int64_t next, int64_t now_ms)
{
	if (next < now_ms || tail_self_paced(t))
		next = now_ms;	/* a slow poll is not made up for */
	if (t->m == NULL && t->retry_ms > next)
		next = t->retry_ms;
	return next;
}

struct tail *
tail_new(const struct tail_config *cfg)
{
	struct tail *t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->cfg = *cfg;
	/* the anchor's row and a page (tail_poll) */
	t->poll_sql_size = FOLLOW_WHERE_LEN +
	    2 * strlen(schema_select_columns) + 256;
	if ((t->poll_sql = malloc(t->poll_sql_size)) == NULL)
		goto out_tail;
	if (follow_init(&t->follow, 0, cfg->gap_timeout_ms) == -1)
		goto out_poll_sql;
	if (binlog_init(&t->binlog) == -1)
		goto out_follow;
	t->server_id = tail_server_id();
	backoff_init(&t->backoff, BACKOFF_BASE_MS, TAIL_RETRY_CAP_MS, 0);
	t->state = TAIL_CONNECTING;
	return t;
out_follow:
	follow_free(&t->follow);
out_poll_sql:
	free(t->poll_sql);
out_tail:
	free(t);
	return NULL;
}

void
tail_close(struct tail *t)
{
	binlog_close(&t->binlog);
	if (t->m != NULL) {
		mysql_close(t->m);
		t->m = NULL;
	}
}

void
tail_free(struct tail *t)
{
	if (t == NULL)
		return;
	tail_close(t);
	free(t->filter_sql);
	free(t->poll_sql);
	follow_free(&t->follow);
	binlog_free(&t->binlog);
	free(t);
}

void
tail_status(const struct tail *t, struct tail_status *st)
{
	st->state = t->state;
	st->connected = t->m != NULL;
	st->no_table = t->no_table;
	st->attempts = t->attempts;
	st->fault = t->fault;
	st->why = t->why.msg;
	st->bad_rows = t->bad_rows;
	st->resets = t->resets;
	st->via_changes = t->via_changes;
	st->via_why = t->via_why.msg;
}

int
tail_socket(const struct tail *t)
{
	return t->m != NULL ? (int)mysql_get_socket(t->m) : -1;
}

bool
tail_filter_match(const struct tail_filter *f, const struct rowfmt_row *row)
{
	if (f->host != NULL && strcmp(row->rec.host, f->host) != 0)
		return false;
	if (f->source != NULL && strcmp(row->source, f->source) != 0)
		return false;
	if (f->since_ms >= 0 && row->rec.ts_ms < f->since_ms)
		return false;
	if (f->until_ms >= 0 && row->rec.ts_ms >= f->until_ms)
		return false;
	return true;
}

/* Note the failure of the last statement on t->m; -1. */
static int
tail_fail(struct tail *t, const char *what)
{
	t->fault = db_error(t->m, what, &t->why);
	if (mysql_errno(t->m) == ER_BAD_FIELD_ERROR) {
		/* a replaced-system table sm-store has not migrated yet */
		why_append(&t->why, "; run sm-store "
		    "once to add sm's columns to " SCHEMA_TABLE);
		t->fault = DB_FAULT_CONFIG;
	}
	return -1;
}

/* Append " AND [BINARY ]column = 'value'" (escaped) at p; the new end. */
static char *
tail_sql_equal(MYSQL *m, char *p, const char *binary, const char *column,
    const char *value)
{
	unsigned long n;

	p += sprintf(p, " AND %s%s = '", binary, column);
	n = mysql_real_escape_string(m, p, value, strlen(value));
	if (n == (unsigned long)-1)
		return NULL;
	p += n;
	return stpcpy(p, "'");
}

/*
 * Append " AND sample time OP 'ms'" at p (nothing when ms is -1); the new
 * end, NULL when ms cannot be written.
 */
static char *
tail_sql_time(char *p, int64_t ms, const char *op)
{
	char ts[TIMEFMT_RFC3339_LEN];

	if (ms < 0)
		return p;
	if (timefmt_rfc3339(ms, ts, sizeof(ts)) == -1)
		return NULL;
	/* "YYYY-MM-DDTHH:MM:SS.mmmZ" as a DATETIME(3) literal */
	ts[10] = ' ';
	ts[23] = '\0';
	return p + sprintf(p, " AND COALESCE(sampled_at, created_at) %s "
	    "'%s'", op, ts);
}

/*
 * The filters as SQL (" AND ..."), the same test as tail_filter_match:
 * exact byte comparison, and the sample time as schema_record_from_row
 * reads it (sampled_at, else created_at).
 */
static char *
tail_filter_sql(MYSQL *m, const struct tail_filter *f)
{
	size_t size = 256;
	char *sql, *p;

	if (f->host != NULL)
		size += 4 * strlen(f->host) + 128;
	if (f->source != NULL)
		size += 2 * strlen(f->source) + 64;
	if ((sql = malloc(size)) == NULL)
		return NULL;
	p = sql;
	*p = '\0';
	/* the plain comparison lets the server use the host's index */
	if (f->host != NULL && ((p = tail_sql_equal(m, p, "", "host",
	    f->host)) == NULL || (p = tail_sql_equal(m, p, "BINARY ", "host",
	    f->host)) == NULL))
		goto out_free;
	if (f->source != NULL && (p = tail_sql_equal(m, p, "BINARY ",
	    "data_source", f->source)) == NULL)
		goto out_free;
	if ((p = tail_sql_time(p, f->since_ms, ">=")) == NULL ||
	    tail_sql_time(p, f->until_ms, "<") == NULL)
		goto out_free;
	return sql;
out_free:
	free(sql);
	return NULL;
}

/*
 * The first column of the first row of sql, as a number; *found tells
 * whether there was a row (and a non-NULL value).  0, or -1.
 */
static int
tail_scalar(struct tail *t, const char *sql, const char *what, uint64_t *v,
    bool *found)
{
	MYSQL_RES *res;
	MYSQL_ROW row;

	*v = 0;
	*found = false;
	if (mysql_query(t->m, sql) != 0 ||
	    (res = mysql_store_result(t->m)) == NULL)
		return tail_fail(t, what);
	if ((row = mysql_fetch_row(res)) != NULL && row[0] != NULL) {
		*v = strtoull(row[0], NULL, 10);
		*found = true;
	}
	mysql_free_result(res);
	return 0;
}

/*
 * The ids below high not in the snapshot, in the window under it, may
 * belong to transactions still open: watch them as holes.
 */
static int
tail_start_holes(struct tail *t, uint64_t high, int64_t now_ms)
{
	uint64_t lo = high > TAIL_START_WINDOW ? high - TAIL_START_WINDOW : 0;
	uint64_t prev = lo;
	char sql[128];
	MYSQL_RES *res;
	MYSQL_ROW row;

	snprintf(sql, sizeof(sql), "SELECT id FROM " SCHEMA_TABLE
	    " WHERE id > %" PRIu64 " AND id <= %" PRIu64 " ORDER BY id", lo,
	    high);
	if (mysql_query(t->m, sql) != 0 ||
	    (res = mysql_use_result(t->m)) == NULL)
		return tail_fail(t, "reading the newest ids");
	while ((row = mysql_fetch_row(res)) != NULL) {
		uint64_t id = row[0] != NULL ? strtoull(row[0], NULL, 10) : 0;

		if (id > prev + 1)
			follow_hole_add(&t->follow, prev + 1, id - 1, now_ms);
		if (id > prev)
			prev = id;
		follow_mark(&t->follow, id);
	}
	if (mysql_errno(t->m) != 0) {
		tail_fail(t, "reading the newest ids");
		mysql_free_result(res);
		return -1;
	}
	mysql_free_result(res);
	/* ids of classes no node writes (Galera) are no holes */
	follow_prune(&t->follow);
	return 0;
}

/*
 * Decode one row of schema_select_columns.  The id is taken even when the
 * rest cannot be read, so that the row is not read again.  0 or -1 (why).
 */
static int
tail_decode(MYSQL_ROW row, MYSQL_RES *res, struct rowfmt_row *r,
    struct why *why)
{
	unsigned long long ignored;

	memset(r, 0, sizeof(*r));
	r->id = row[0] != NULL ? strtoull(row[0], NULL, 10) : 0;
	return schema_record_from_row(row, mysql_fetch_lengths(res), &r->rec,
	    &ignored, r->source, why);
}

/*
 * A new row read (is_new: not seen before), whether shown or not: bad
 * (not NULL) says why it cannot be read back.  1 when emitted, 0 when not,
 * -1 when emit asked to stop.
 */
static int
tail_take(struct tail *t, const struct rowfmt_row *r, const char *bad,
    bool is_new)
{
	t->rows_read++;
	if (!is_new)
		return 0;
	if (bad != NULL) {
		t->bad_rows++;
		if (t->cfg.bad != NULL)
			t->cfg.bad(r->id, bad, t->cfg.arg);
		return 0;
	}
	if (!tail_filter_match(&t->cfg.filter, r))
		return 0;
	t->rows_shown++;
	return t->cfg.emit(r, false, t->cfg.arg) == -1 ? -1 : 1;
}

/* The row id, sample_id sid, is the newest seen: the anchor. */
static void
tail_anchor_set(struct tail *t, uint64_t id, const char *sid)
{
	if (id == 0 || id != t->follow.high)
		return;
	t->anchor = id;
	snprintf(t->anchor_sid, sizeof(t->anchor_sid), "%s",
	    sid != NULL ? sid : "");
	t->anchor_lost = false;
}

/* The table started again: follow it from its first row. */
static void
tail_restarted(struct tail *t)
{
	follow_start(&t->follow, 0);
	t->anchor = 0;
	t->anchor_lost = false;
	t->resets++;
}

/* The binary log's failure as ours; -1. */
static int
tail_binlog_fail(struct tail *t)
{
	t->why = t->binlog.why;
	t->fault = t->binlog.fault;
	return -1;
}

/*
 * At the first connect: follow the binary log, or poll?  Under auto, a log
 * that cannot be followed means polls (via_why says why); under binlog, a
 * configuration fault.  0, or -1 (why, fault).
 */
static int
tail_binlog_choose(struct tail *t)
{
	struct why why;
	int rc;

	t->binlog_on = false;
	if (!t->cfg.follow || t->cfg.via == TAIL_VIA_POLL)
		return 0;
	if ((rc = binlog_check(t->m, &why, &t->fault)) == -1) {
		t->why = why;
		return -1;
	}
	if (rc == 1 && t->cfg.via == TAIL_VIA_BINLOG) {
		why_set(&t->why, "--via binlog: %.400s", why.msg);
		t->fault = DB_FAULT_CONFIG;
		return -1;
	}
	if (rc == 1) {
		why_set(&t->via_why, "following by polls: "
		    "%.400s", why.msg);
		t->via_changes++;
		return 0;
	}
	t->binlog_on = true;
	return 0;
}

/* In the history's snapshot: where the log is, the table's columns. */
static int
tail_binlog_snapshot(struct tail *t)
{
	return binlog_snapshot(&t->binlog, t->m) == -1 ?
	    tail_binlog_fail(t) : 0;
}

/*
 * Read the log on t->m from where it was left; say so when again is not
 * NULL ("" the first time).  0, or -1 (why, fault; the connection closed).
 */
static int
tail_binlog_join(struct tail *t, const char *again)
{
	if (binlog_open(&t->binlog, t->m, t->server_id) == -1) {
		tail_binlog_fail(t);
		tail_close(t);
		return -1;
	}
	if (again != NULL) {
		why_set(&t->via_why, "following the binary "
		    "log%s from %.400s:%llu", again, t->binlog.pos.file,
		    t->binlog.pos.pos);
		t->via_changes++;
	}
	return 0;
}

/*
 * The log cannot serve (t->binlog.why): poll from the last row seen, on a
 * new connection, and try the log again later.
 */
static void
tail_binlog_fallback(struct tail *t, int64_t now_ms)
{
	t->binlog_on = false;
	t->binlog_retry_ms = now_ms + TAIL_BINLOG_RETRY_MS;
	why_set(&t->via_why, "following by polls after "
	    "id %" PRIu64 ": %.400s", t->follow.high, t->binlog.why.msg);
	t->via_changes++;
	tail_close(t);
	t->retry_ms = now_ms;
}

/* One event of the log: rows at their commit. */
static enum tail_step
tail_binlog_step(struct tail *t, int64_t now_ms)
{
	const struct binlog_row *row;
	size_t i;

	switch (binlog_next(&t->binlog)) {
	case BINLOG_IDLE:
		break;
	case BINLOG_ROWS:
		follow_expire(&t->follow, now_ms);
		for (i = 0; i < t->binlog.nrows; i++) {
			row = &t->binlog.rows[i];
			/*
			 * The log has each commit once: shown whatever the
			 * holes say, which are kept for a fall back to polls.
			 */
			follow_see(&t->follow, row->r.id, now_ms);
			if (row->ok)
				tail_anchor_set(t, row->r.id, row->r.rec.id);
			if (tail_take(t, &row->r, row->ok ? NULL : row->why.msg,
			    true) == -1)
				return TAIL_STEP_STOP;
		}
		break;
	case BINLOG_RESET:
		tail_restarted(t);
		break;
	case BINLOG_CHANGED:
	case BINLOG_LOST:
		tail_binlog_fallback(t, now_ms);
		break;
	case BINLOG_DOWN:
		tail_binlog_fail(t);
		tail_close(t);
		t->state = TAIL_DOWN;
		t->retry_ms = now_ms;
		return TAIL_STEP_DOWN;
	}
	return TAIL_STEP_OK;
}

/*
 * Back from polls to the log: in one snapshot, poll what committed before
 * it and note the log's position, then read the log from there.  0 (also
 * when the log still cannot be followed), -1 (why, fault; the connection
 * closed) or -2 (emit asked to stop).
 */
static int
tail_binlog_rejoin(struct tail *t, int64_t now_ms)
{
	struct why why;
	enum db_fault fault;
	long n;
	int rc;

	t->binlog_retry_ms = now_ms + TAIL_BINLOG_RETRY_MS;
	if ((rc = binlog_check(t->m, &why, &fault)) == 1)
		return 0;
	if (rc == -1) {
		t->why = why;
		t->fault = fault;
		tail_close(t);
		return -1;
	}
	if (mysql_query(t->m, "START TRANSACTION WITH CONSISTENT SNAPSHOT, "
	    "READ ONLY") != 0) {
		tail_fail(t, "starting a snapshot");
		tail_close(t);
		return -1;
	}
	if (tail_binlog_snapshot(t) == -1) {
		tail_close(t);
		return -1;
	}
	if ((n = tail_poll(t, now_ms)) < 0) {
		tail_close(t);
		return (int)n;
	}
	if (mysql_query(t->m, "COMMIT") != 0) {
		tail_fail(t, "ending the snapshot");
		tail_close(t);
		return -1;
	}
	t->binlog_on = true;
	return tail_binlog_join(t, " again");
}

/*
 * The rows of the history: ids above after that pass the filters, in
 * pages, emitted oldest first.  0, -1 or -2 (stop).
 */
static int
tail_history_rows(struct tail *t, uint64_t after)
{
	size_t size = strlen(t->filter_sql) + strlen(schema_select_columns) +
	    256;
	struct why why;
	char *sql;
	unsigned long nrows;
	MYSQL_RES *res;
	MYSQL_ROW row;
	int rc = 0;

	if ((sql = malloc(size)) == NULL) {
		why_set(&t->why, "out of memory");
		t->fault = DB_FAULT_OTHER;
		return -1;
	}
	do {
		snprintf(sql, size, "SELECT %s FROM " SCHEMA_TABLE " WHERE "
		    "id > %" PRIu64 "%s ORDER BY id LIMIT %d",
		    schema_select_columns, after, t->filter_sql, TAIL_PAGE);
		if (mysql_query(t->m, sql) != 0 ||
		    (res = mysql_store_result(t->m)) == NULL) {
			rc = tail_fail(t, "reading the newest rows");
			break;
		}
		nrows = 0;
		while ((row = mysql_fetch_row(res)) != NULL) {
			struct rowfmt_row r;
			int ok = tail_decode(row, res, &r, &why);

			nrows++;
			after = r.id;
			if (ok == -1) {
				t->bad_rows++;
				if (t->cfg.bad != NULL)
					t->cfg.bad(r.id, why.msg, t->cfg.arg);
				continue;
			}
			t->rows_shown++;
			if (rc == 0 && t->cfg.emit(&r, true, t->cfg.arg) == -1)
				rc = -2;
		}
		mysql_free_result(res);
	} while (rc == 0 && nrows == TAIL_PAGE);
	free(sql);
	return rc;
}

/* The newest row's id (0: none) and sample_id.  0, or -1. */
static int
tail_newest(struct tail *t, uint64_t *id, char sid[UUID_STR_LEN])
{
	MYSQL_RES *res;
	MYSQL_ROW row;

	*id = 0;
	if (mysql_query(t->m, "SELECT id, sample_id FROM " SCHEMA_TABLE
	    " ORDER BY id DESC LIMIT 1") != 0 ||
	    (res = mysql_store_result(t->m)) == NULL)
		return tail_fail(t, "reading the newest id");
	if ((row = mysql_fetch_row(res)) != NULL && row[0] != NULL) {
		*id = strtoull(row[0], NULL, 10);
		snprintf(sid, UUID_STR_LEN, "%s", row[1] != NULL ? row[1] :
		    "");
	}
	mysql_free_result(res);
	return 0;
}

/*
 * The history and where following starts, from one snapshot: the rows the
 * history shows are then exactly those the follower takes as seen.
 */
static int
tail_history(struct tail *t, int64_t now_ms)
{
	char sid[UUID_STR_LEN] = "";
	uint64_t high = 0, first = 0;
	bool found, no_table;
	char *sql = NULL;
	int rc = -1;

	if (mysql_query(t->m, "START TRANSACTION WITH CONSISTENT SNAPSHOT, "
	    "READ ONLY") != 0)
		return tail_fail(t, "starting a snapshot");
	/* where the binary log is at this snapshot: the seam is exact */
	if (t->binlog_on && tail_binlog_snapshot(t) == -1)
		goto out_end;
	if (t->cfg.follow) {
		if (tail_newest(t, &high, sid) == -1)
			goto out_end;
		follow_start(&t->follow, high);
		tail_anchor_set(t, high, sid);
		if (high > 0 && tail_start_holes(t, high, now_ms) == -1)
			goto out_end;
	}
	if (t->cfg.lines > 0) {
		size_t size = strlen(t->filter_sql) + 256;

		if ((sql = malloc(size)) == NULL) {
			why_set(&t->why, "out of memory");
			t->fault = DB_FAULT_OTHER;
			goto out_end;
		}
		/* the id of the Nth newest row passing the filters */
		snprintf(sql, size, "SELECT id FROM " SCHEMA_TABLE " WHERE 1%s"
		    " ORDER BY id DESC LIMIT 1 OFFSET %llu", t->filter_sql,
		    t->cfg.lines - 1);
		if (tail_scalar(t, sql, "reading the newest rows", &first,
		    &found) == -1)
			goto out_end;
		/* fewer rows than asked for: all of them */
		if ((rc = tail_history_rows(t, found ? first - 1 : 0)) != 0)
			goto out_end;
	}
	rc = 0;
out_end:
	free(sql);
	no_table = rc == -1 && mysql_errno(t->m) == ER_NO_SUCH_TABLE;
	if (rc == -1 && t->fault == DB_FAULT_CONNECTION)
		return -1;
	if (mysql_query(t->m, "COMMIT") != 0 && rc == 0)
		rc = tail_fail(t, "ending the snapshot");
	if (no_table) {
		/* no table yet: nothing to show, everything to follow */
		follow_start(&t->follow, 0);
		t->no_table = true;
		rc = 0;
	}
	return rc;
}

int
tail_open(struct tail *t, int64_t now_ms)
{
	bool first = !t->started;
	int rc = -1;

	if ((t->m = db_connect(t->cfg.db, &t->why, &t->fault)) == NULL)
		return -1;
	/*
	 * MariaDB reads information_schema's AUTO_INCREMENT from the table;
	 * MySQL 8 caches it for a day unless told not to for the session.
	 */
	t->next_id_live = strstr(mysql_get_server_info(t->m), "MariaDB") !=
	    NULL || mysql_query(t->m,
	    "SET SESSION information_schema_stats_expiry = 0") == 0;
	free(t->filter_sql);
	if ((t->filter_sql = tail_filter_sql(t->m, &t->cfg.filter)) == NULL) {
		why_set(&t->why, "out of memory");
		t->fault = DB_FAULT_OTHER;
		tail_close(t);
		return -1;
	}
	if (!t->started && t->cfg.follow) {
		uint64_t step;
		bool found;

		/* Galera: each node's ids in a class of their own */
		if (tail_scalar(t, "SELECT @@auto_increment_increment",
		    "reading the auto-increment step", &step, &found) == -1) {
			tail_close(t);
			return -1;
		}
		if (found)
			follow_set_step(&t->follow, step);
	}
	if (!t->started) {
		if (tail_binlog_choose(t) == -1 ||
		    (rc = tail_history(t, now_ms)) != 0) {
			tail_close(t);
			return rc;
		}
		t->started = true;
	}
	return t->binlog_on ? tail_binlog_join(t, first ? "" : NULL) : 0;
}

static int tail_reset_check(struct tail *t);

/*
 * What a poll's first page says of the table (res: the page, the anchor's
 * row among it): 0 the same table, 1 one that started again (TRUNCATE,
 * or dropped and made again, then refilled past the anchor's id: its row
 * there is another), -1 the server failed (tail_reset_check).  The
 * anchor's row gone: the table's next id tells, looked at at once, the
 * first time only (the row may have been deleted).
 */
static int
tail_anchor_check(struct tail *t, MYSQL_RES *res)
{
	MYSQL_ROW row;
	uint64_t resets = t->resets;

	while ((row = mysql_fetch_row(res)) != NULL) {
		if (row[0] == NULL || strtoull(row[0], NULL, 10) != t->anchor)
			continue;
		mysql_data_seek(res, 0);
		/* as the log decodes it: NULL (an old row) is "" */
		if (strcasecmp(row[1] != NULL ? row[1] : "",
		    t->anchor_sid) == 0)
			return 0;
		tail_restarted(t);
		return 1;
	}
	mysql_data_seek(res, 0);
	if (t->anchor_lost)
		return 0;
	t->anchor_lost = true;
	if (tail_reset_check(t) == -1)
		return -1;
	return t->resets != resets;
}

/*
 * One poll: give up holes past the gap timeout, then read every page of
 * new rows and emit those that pass the filters.  Returns the rows
 * emitted, -1 on a database failure (tail_status: why, fault; the
 * connection is closed) or -2 when emit asked to stop.
 */
static long
tail_poll(struct tail *t, int64_t now_ms)
{
	char where[FOLLOW_WHERE_LEN];
	struct why why;
	uint64_t after = 0;
	unsigned long nrows;
	long shown = 0;
	bool stop = false;
	MYSQL_RES *res;
	MYSQL_ROW row;
	int rc;

	/* holes at the gap timeout are asked for once more, then given up */
	follow_round(&t->follow, now_ms);
again:
	do {
		uint64_t anchor = after == 0 ? t->anchor : 0;
		int n;

		follow_where(&t->follow, after, where, sizeof(where));
		/*
		 * The first page brings the newest row seen along, in the
		 * same statement: a table started again shows at once.
		 */
		n = anchor == 0 ? 0 : snprintf(t->poll_sql,
		    t->poll_sql_size, "(SELECT %s FROM " SCHEMA_TABLE
		    " WHERE id = %" PRIu64 ") UNION ALL (",
		    schema_select_columns, anchor);
		snprintf(t->poll_sql + n, t->poll_sql_size - (size_t)n,
		    "SELECT %s FROM " SCHEMA_TABLE " WHERE %s ORDER BY id "
		    "LIMIT %d%s", schema_select_columns, where, TAIL_PAGE,
		    anchor == 0 ? "" : ")");
		if (mysql_query(t->m, t->poll_sql) != 0) {
			/* a table not created yet holds no rows */
			if (mysql_errno(t->m) == ER_NO_SUCH_TABLE)
				return 0;
			tail_fail(t, "reading new rows");
			tail_close(t);
			return -1;
		}
		if ((res = mysql_store_result(t->m)) == NULL) {
			tail_fail(t, "reading new rows");
			tail_close(t);
			return -1;
		}
		t->no_table = false;
		if (anchor != 0 && (rc = tail_anchor_check(t, res)) != 0) {
			mysql_free_result(res);
			if (rc == -1)
				return -1;
			goto again;
		}
		nrows = 0;
		while ((row = mysql_fetch_row(res)) != NULL) {
			struct rowfmt_row r;
			int ok = tail_decode(row, res, &r, &why);

			if (anchor != 0 && r.id == anchor)
				continue;
			nrows++;
			after = r.id;
			if (stop)
				continue;
			/* filtered-out rows fill holes too */
			rc = tail_take(t, &r, ok == -1 ? why.msg : NULL,
			    follow_see(&t->follow, r.id, now_ms));
			tail_anchor_set(t, r.id, row[1]);
			shown += rc != 0;
			stop = rc == -1;
		}
		mysql_free_result(res);
	} while (!stop && nrows == TAIL_PAGE);
	follow_expire(&t->follow, now_ms);
	return stop ? -2 : shown;
}

/*
 * TRUNCATE, or the table dropped and made again, restarts the ids: polls
 * for ids above the highest seen would wait for ever.  Once the table's
 * next id is no longer above that, follow the new table from its first
 * row.  0, or -1 when the server did not answer.
 */
static int
tail_reset_check(struct tail *t)
{
	uint64_t next;
	bool found;

	if (!t->next_id_live || t->follow.high == 0)
		return 0;
	if (tail_scalar(t, "SELECT AUTO_INCREMENT FROM information_schema."
	    "TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '"
	    SCHEMA_TABLE "'", "reading the table's next id", &next,
	    &found) == -1) {
		tail_close(t);
		return -1;
	}
	if (found && next <= t->follow.high)
		tail_restarted(t);
	return 0;
}

enum tail_step
tail_connect(struct tail *t, int64_t now_ms)
{
	int rc;

	if (t->m != NULL)
		return TAIL_STEP_OK;
	if (now_ms < t->retry_ms)
		return TAIL_STEP_DOWN;
	if ((rc = tail_open(t, now_ms)) == -2)
		return TAIL_STEP_STOP;
	if (rc == -1) {
		if (!t->started && t->fault == DB_FAULT_CONFIG)
			return TAIL_STEP_FATAL;
		t->retry_ms = now_ms + backoff_delay_ms(&t->backoff,
		    t->attempts < 16 ? t->attempts : 16);
		t->attempts++;
		return TAIL_STEP_DOWN;
	}
	/* an outage says nothing of the transactions holding holes */
	if (t->state == TAIL_DOWN)
		follow_touch(&t->follow, now_ms);
	t->state = TAIL_UP;
	t->attempts = 0;
	return TAIL_STEP_OK;
}

enum tail_step
tail_step(struct tail *t, int64_t now_ms)
{
	enum tail_step st;
	long n;
	int rc;

	if ((st = tail_connect(t, now_ms)) != TAIL_STEP_OK)
		return st;
	if (t->binlog_on)
		return tail_binlog_step(t, now_ms);
	if ((n = tail_poll(t, now_ms)) == -2)
		return TAIL_STEP_STOP;
	if (n == -1)
		goto out_down;
	if (now_ms >= t->reset_check_ms) {
		t->reset_check_ms = now_ms + TAIL_RESET_CHECK_MS;
		if (tail_reset_check(t) == -1)
			goto out_down;
	}
	/* last: back on the log, t->m runs no more queries */
	if (t->binlog.pos.file[0] != '\0' && now_ms >= t->binlog_retry_ms &&
	    (rc = tail_binlog_rejoin(t, now_ms)) != 0) {
		if (rc == -2)
			return TAIL_STEP_STOP;
		goto out_down;
	}
	return TAIL_STEP_OK;
out_down:
	/* try again at the next step, then back off */
	t->state = TAIL_DOWN;
	t->retry_ms = now_ms;
	return TAIL_STEP_DOWN;
}
