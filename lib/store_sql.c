/*
 * The committer's SQL: the INSERT statements, prepared once and bound to
 * fixed row buffers, and one transaction of groups (store_impl.h).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "schema.h"
#include "store_impl.h"

#define STORE_RETRIES 5		/* deadlocks before reconnecting instead */

int
store_sql_alloc(struct store *s)
{
	s->binds = calloc((size_t)STORE_CHUNK_MAX * SCHEMA_INSERT_NCOLS,
	    sizeof(*s->binds));
	s->aux = calloc(STORE_CHUNK_MAX, sizeof(*s->aux));
	return s->binds == NULL || s->aux == NULL ? -1 : 0;
}

void
store_sql_free(struct store *s)
{
	free(s->brows);
	free(s->aux);
	free(s->binds);
	s->brows = NULL;
	s->aux = NULL;
	s->binds = NULL;
}

void
store_sql_close(struct store *s)
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
}

static MYSQL_STMT *
store_stmt(struct store *s, unsigned k, enum db_fault *f, struct why *why)
{
	char *sql;

	if (s->stmt[k] != NULL)
		return s->stmt[k];
	if ((sql = schema_insert_sql((size_t)1 << k, false)) == NULL) {
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

/*
 * A percentage as text ("12.34") into buf, when it is a whole number of
 * hundredths (as sm-read writes them, and the columns keep them): then the
 * server parses a decimal, where a double costs it a binary-to-decimal
 * conversion of its own (dtoa), about a tenth of its CPU in a stdin batch
 * (bench/RESULTS.md, issue 28).  The double is the nearest one to that
 * decimal, so whatever digits the server would make of it round to the
 * same DECIMAL(5,2): the row stored is the same.  Returns false otherwise.
 */
static bool
store_cents(double v, char *buf, unsigned long *len)
{
	long long m;
	char *p = buf;

	if (!(v >= 0 && v <= 100))
		return false;
	m = llround(v * 100);
	if ((double)m / 100 != v)
		return false;
	if (m >= 10000)
		*p++ = '1';
	if (m >= 1000)
		*p++ = (char)('0' + m / 1000 % 10);
	*p++ = (char)('0' + m / 100 % 10);
	*p++ = '.';
	*p++ = (char)('0' + m / 10 % 10);
	*p++ = (char)('0' + m % 10);
	*len = (unsigned long)(p - buf);
	return true;
}

/*
 * The next n rows of the cursor into brows[0..n), with what they need;
 * whether every row's percentages are text (store_cents).
 */
static bool
store_brows_fill(struct store *s, struct store_cursor *c, size_t n)
{
	bool text = true;
	size_t r;

	for (r = 0; r < n; r++) {
		struct store_brow *b = &s->brows[r];

		b->rec = store_cursor_next(c)->rec;
		store_aux_fill(&b->aux, &b->rec);
		memcpy(b->source, s->source, s->source_len + 1);
		b->source_len = s->source_len;
		text = text && store_cents(b->rec.ram_percentage, b->pct[0],
		    &b->pct_len[0]) && store_cents(b->rec.cpu_usage,
		    b->pct[1], &b->pct_len[1]) && store_cents(b->rec.cpu_free,
		    b->pct[2], &b->pct_len[2]);
	}
	return text;
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
	bool text;

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

		text = store_brows_fill(s, c, rows);
		if (mysql_stmt_attr_set(st, STMT_ATTR_ARRAY_SIZE, &rows) != 0)
			return db_stmt_error(st, "binding rows", why);
		/*
		 * Bound once per prepared statement (and again when the
		 * percentages change between text and doubles): the rows are
		 * always copied to brows, so the addresses do not change,
		 * and the types go to the server once, not with every batch.
		 */
		if (!s->bulk_bound || s->bulk_text != text) {
			struct store_brow *b = &s->brows[0];

			store_bind_row(s->binds, &b->rec, &b->aux, b->source,
			    &b->source_len, true);
			if (text) {
				bind_str(&s->binds[SCHEMA_I_RAM_PERCENTAGE],
				    b->pct[0], &b->pct_len[0]);
				bind_str(&s->binds[SCHEMA_I_CPU_USAGE],
				    b->pct[1], &b->pct_len[1]);
				bind_str(&s->binds[SCHEMA_I_CPU_FREE],
				    b->pct[2], &b->pct_len[2]);
			}
			if (mysql_stmt_attr_set(st, STMT_ATTR_ROW_SIZE,
			    &row_size) != 0 ||
			    mysql_stmt_bind_param(st, s->binds) != 0)
				return db_stmt_error(st, "binding rows", why);
			s->bulk_bound = true;
			s->bulk_text = text;
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
		if ((sql = schema_insert_sql(n, true)) == NULL) {
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

/*
 * Whether n rows (more than STORE_EXACT_MAX) are one array execution,
 * which InnoDB applies all or nothing like any one statement.
 */
static bool
store_bulk_once(const struct store *s, size_t n)
{
	return s->bulk && n <= STORE_BULK_MAX && (n & (n + 1)) == 0;
}

/*
 * Whether n rows go in exact INSERTs, which name their duplicates in
 * SCHEMA_DUP_VAR.  Group commit under load makes transactions of up to
 * about as many rows as connections: up to STORE_EXACT_SPLIT rows, exact
 * INSERTs of at most STORE_EXACT_MAX rows each (two round trips at most),
 * where array executions of 2^k - 1 take up to six (45 rows are 31 + 7 +
 * 7) -- unless one array execution takes them all.
 */
static bool
store_exact(const struct store *s, size_t n)
{
	return n <= STORE_EXACT_SPLIT && !(n > STORE_EXACT_MAX &&
	    store_bulk_once(s, n));
}

/* Insert n rows from the cursor; add those really inserted to *affected. */
static enum db_fault
store_insert(struct store *s, struct store_cursor *c, size_t n,
    size_t *affected, struct why *why)
{
	enum db_fault f = DB_FAULT_NONE;
	size_t k;

	if (store_exact(s, n)) {
		for (; n > 0 && f == DB_FAULT_NONE; n -= k) {
			k = n < STORE_EXACT_MAX ? n : STORE_EXACT_MAX;
			f = store_insert_exact(s, c, k, affected, why);
		}
		return f;
	}
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
	/* row by row: each one's count is its own, SCHEMA_DUP_VAR unread */
	s->dup_dirty = true;
	if ((f = store_sql(s, "START TRANSACTION", why)) != DB_FAULT_NONE)
		return f;
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

/* A row of the transaction, for store_attribute. */
struct store_dup_row {
	const char *id;
	size_t row;
};

static int
store_dup_row_cmp(const void *a, const void *b)
{
	const struct store_dup_row *x = a, *y = b;
	int c = strcmp(x->id, y->id);

	if (c != 0)
		return c;
	return x->row < y->row ? -1 : x->row > y->row;
}

static int
store_dup_name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Mark in dup[] the rows (in the transaction's order) that list, a
 * comma-separated list of sample_ids, makes duplicates.  An id on k rows
 * of the transaction (a request and its retry in one commit) and c times
 * in the list: when before (list: the ids stored before the transaction,
 * each once), all k of its rows if c > 0, else all but the first; else
 * (SCHEMA_DUP_VAR: the ids of the rows found stored, in the same order)
 * the last c of its rows (the first was stored, unless it was there
 * before).  0, or -1 out of memory.
 */
int
store_dup_mark(struct store_group *first, size_t total, char *list,
    bool before, bool *dup)
{
	struct store_dup_row *rows;
	struct store_group *g;
	size_t nnames = 0, i, j, r = 0;
	char **names, *p;

	if ((rows = calloc(total, sizeof(*rows))) == NULL)
		return -1;
	for (p = list; *p != '\0'; p++)
		nnames += *p == ',';
	if ((names = calloc(nnames + 1, sizeof(*names))) == NULL) {
		free(rows);
		return -1;
	}
	nnames = 0;
	for (p = strtok(list, ","); p != NULL; p = strtok(NULL, ","))
		names[nnames++] = p;
	for (g = first; g != NULL; g = g->next)
		for (i = 0; i < g->n; i++, r++)
			rows[r] = (struct store_dup_row){
				g->rows[i].rec.id, r };
	qsort(rows, total, sizeof(*rows), store_dup_row_cmp);
	qsort(names, nnames, sizeof(*names), store_dup_name_cmp);
	for (i = 0, j = 0; i < total; ) {
		size_t k = 1, c = 0, m;

		while (i + k < total && strcmp(rows[i + k].id, rows[i].id) == 0)
			k++;
		while (j < nnames && strcmp(names[j], rows[i].id) < 0)
			j++;
		for (; j < nnames && strcmp(names[j], rows[i].id) == 0; j++)
			c++;
		if (before)
			c = c > 0 ? k : k - 1;
		for (m = 0; m < k; m++)
			dup[rows[i + m].row] = m + (c < k ? c : k) >= k;
		i += k;
	}
	free(names);
	free(rows);
	return 0;
}

/*
 * Each group's counts from the duplicates list (store_dup_mark); the
 * number of rows that are not duplicates into *stored.  0, or -1 out of
 * memory.
 */
static int
store_count(struct store_group *first, size_t total, char *list,
    bool before, size_t *stored)
{
	struct store_group *g;
	size_t r = 0, i;
	bool *dup;

	if ((dup = calloc(total, sizeof(*dup))) == NULL ||
	    store_dup_mark(first, total, list, before, dup) == -1) {
		free(dup);
		return -1;
	}
	*stored = 0;
	for (g = first; g != NULL; g = g->next) {
		g->duplicates = 0;
		for (i = 0; i < g->n; i++)
			g->duplicates += dup[r++];
		g->stored = g->n - g->duplicates;
		*stored += g->stored;
	}
	free(dup);
	return 0;
}

/*
 * Some rows of several groups were duplicates, in exact INSERTs: which,
 * from the names they left in SCHEMA_DUP_VAR (one more round trip, only
 * then; the rows may be committed already, so nothing is redone).
 */
static enum db_fault
store_attribute(struct store *s, struct store_group *first, size_t total,
    size_t affected, struct why *why)
{
	enum db_fault f = DB_FAULT_NONE;
	size_t stored;
	MYSQL_RES *res;
	MYSQL_ROW row;
	char *list;

	if (mysql_query(s->m, "SELECT " SCHEMA_DUP_VAR) != 0 ||
	    (res = mysql_store_result(s->m)) == NULL)
		return db_error(s->m, "reading the duplicates", why);
	row = mysql_fetch_row(res);
	list = strdup(row != NULL && row[0] != NULL ? row[0] : "");
	mysql_free_result(res);
	if (list == NULL || store_count(first, total, list, false,
	    &stored) == -1) {
		why_set(why, "out of memory");
		f = DB_FAULT_OTHER;
		goto out_free;
	}
	if (stored != affected) {
		why_set(why, "the server stored %zu rows of %zu, the "
		    "duplicates it named leave %zu", affected, total, stored);
		f = DB_FAULT_OTHER;
	}
out_free:
	free(list);
	return f;
}

/*
 * Append to list (a comma-separated string of *len bytes) the sample_ids
 * of the groups' rows that are stored already, asked for STORE_CHUNK_MAX
 * at a time, locked until the transaction ends so that they stay.
 */
static enum db_fault
store_stored_ids(struct store *s, struct store_group *first, char **list,
    struct why *why)
{
	static const char head[] = "SELECT LOWER(sample_id) FROM "
	    SCHEMA_TABLE " WHERE sample_id IN (";
	static const char tail[] = ") LOCK IN SHARE MODE";
	struct store_cursor c = { first, 0 };
	size_t len = 0, cap = 1, n;
	struct store_row *row;
	char *sql, *p, *nl;
	MYSQL_RES *res;
	MYSQL_ROW r;

	if ((sql = malloc(sizeof(head) + STORE_CHUNK_MAX *
	    (2 * sizeof(row->rec.id) + 3) + sizeof(tail))) == NULL ||
	    (*list = calloc(1, 1)) == NULL)
		goto out_nomem;
	for (row = store_cursor_next(&c); row != NULL; ) {
		p = stpcpy(sql, head);
		for (n = 0; n < STORE_CHUNK_MAX && row != NULL; n++) {
			p = stpcpy(p, n > 0 ? ",'" : "'");
			p += mysql_real_escape_string(s->m, p, row->rec.id,
			    (unsigned long)strlen(row->rec.id));
			*p++ = '\'';
			row = store_cursor_next(&c);
		}
		p = stpcpy(p, tail);
		if (mysql_real_query(s->m, sql, (unsigned long)(p - sql)) !=
		    0 || (res = mysql_store_result(s->m)) == NULL) {
			free(sql);
			return db_error(s->m, "reading the stored ids", why);
		}
		while ((r = mysql_fetch_row(res)) != NULL) {
			size_t l = strlen(r[0]);

			if (len + l + 2 > cap) {
				cap = 2 * (len + l + 2);
				if ((nl = realloc(*list, cap)) == NULL) {
					mysql_free_result(res);
					goto out_nomem;
				}
				*list = nl;
			}
			if (len > 0)
				(*list)[len++] = ',';
			memcpy(*list + len, r[0], l + 1);
			len += l;
		}
		mysql_free_result(res);
	}
	free(sql);
	return DB_FAULT_NONE;
out_nomem:
	free(sql);
	why_set(why, "out of memory");
	return DB_FAULT_OTHER;
}

/*
 * Some rows of several groups were duplicates, in statements too large to
 * name them (each name appended costs the server a copy of the list): roll
 * back, read which of the rows' sample_ids are stored, locked, and insert
 * again.  Only then: the common case, no duplicates or a single group,
 * keeps its one statement.  The rows are in a transaction (more than
 * STORE_EXACT_MAX of them): nothing is committed yet.
 */
static enum db_fault
store_known(struct store *s, struct store_group *first, size_t total,
    struct why *why)
{
	struct store_cursor c = { first, 0 };
	size_t affected = 0, stored;
	enum db_fault f;
	char *list = NULL;

	store_rollback(s);
	if ((f = store_sql(s, "START TRANSACTION", why)) != DB_FAULT_NONE ||
	    (f = store_stored_ids(s, first, &list, why)) != DB_FAULT_NONE)
		goto out_free;
	if (store_count(first, total, list, true, &stored) == -1) {
		why_set(why, "out of memory");
		f = DB_FAULT_OTHER;
		goto out_free;
	}
	if ((f = store_insert(s, &c, total, &affected, why)) != DB_FAULT_NONE)
		goto out_free;
	/* a writer that does not take our locks (another Galera node) */
	if (affected != stored) {
		why_set(why, "the server stored %zu rows of %zu where %zu "
		    "were new: stored meanwhile by another writer", affected,
		    total, stored);
		f = DB_FAULT_RETRY;
	}
out_free:
	free(list);
	return f;
}

/*
 * One transaction for a NULL-terminated list of groups.  Autocommit is on,
 * so the common case, the one INSERT of at most STORE_EXACT_MAX rows that
 * group commit makes under load, is committed by the server with the
 * statement: one round trip, where an INSERT and a COMMIT took two.  More
 * rows are wrapped in START TRANSACTION and COMMIT.  When some rows turn
 * out to be duplicates and several groups share the transaction, the
 * names the INSERTs left tell each group its own count.
 */
static enum db_fault
store_transaction(struct store *s, struct store_group *first, struct why *why)
{
	struct store_cursor c = { first, 0 };
	size_t total = 0, affected = 0, ngroups = 0;
	struct store_group *g;
	enum db_fault f;
	bool once;

	for (g = first; g != NULL; g = g->next) {
		total += g->n;
		ngroups++;
	}
	if (s->dup_dirty) {
		if ((f = store_sql(s, "SET " SCHEMA_DUP_VAR " = NULL", why)) !=
		    DB_FAULT_NONE)
			return f;
		s->dup_dirty = false;
	}
	/*
	 * One statement, atomic alone and committed with autocommit: one
	 * exact INSERT, or one group's rows in one array execution (stdin's
	 * batches of 4095); anything else in a transaction.  Several groups
	 * in an array execution keep the transaction: store_known redoes it.
	 */
	once = total <= STORE_EXACT_MAX || (ngroups == 1 &&
	    store_bulk_once(s, total));
	if (!once && (f = store_sql(s, "START TRANSACTION", why)) !=
	    DB_FAULT_NONE)
		return f;
	f = store_insert(s, &c, total, &affected, why);
	if (f != DB_FAULT_NONE || affected != total)
		s->dup_dirty = true;
	if (f == DB_FAULT_DATA) {
		/* one statement was undone by the server on its own */
		if (!once)
			store_rollback(s);
		return store_isolate(s, first, why);
	}
	if (f != DB_FAULT_NONE)
		return f;
	if (affected == total || ngroups == 1) {
		for (g = first; g != NULL; g = g->next) {
			g->stored = ngroups == 1 ? affected : g->n;
			g->duplicates = g->n - g->stored;
		}
	} else if ((f = store_exact(s, total) ? store_attribute(s, first,
	    total, affected, why) : store_known(s, first, total, why)) !=
	    DB_FAULT_NONE) {
		return f;
	}
	if (!once && mysql_commit(s->m) != 0)
		return db_error(s->m, "commit", why);
	for (g = first; g != NULL; g = g->next)
		g->status = STORE_DONE;
	return DB_FAULT_NONE;
}

/* The transaction, redone after deadlocks and lock wait time-outs. */
enum db_fault
store_sql_commit(struct store *s, struct store_group *first, struct why *why)
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
