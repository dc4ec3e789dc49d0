/*
 * Alert history in table sm_alerts (alertstore.h): the writer's queue and
 * thread, and the range query over the table.
 */
#include <err.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>
#include <mysqld_error.h>

#include "alertstore.h"
#include "backoff.h"
#include "clock.h"
#include "timefmt.h"

const char alertstore_create_sql[] =
	"CREATE TABLE IF NOT EXISTS " ALERTSTORE_TABLE " (\n"
	"  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,\n"
	"  origin VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,\n"
	"  host VARCHAR(255) COLLATE utf8mb4_bin NOT NULL,\n"
	"  rule VARCHAR(127) COLLATE utf8mb4_bin NOT NULL,\n"
	"  state ENUM('firing','resolved') NOT NULL,\n"
	"  since DATETIME(3) NOT NULL,\n"
	"  at DATETIME(3) NOT NULL,\n"
	"  value DOUBLE NULL,\n"
	"  UNIQUE KEY uq_event (origin, host, rule, since, state),\n"
	"  KEY ix_host_at (host, at),\n"
	"  KEY ix_at (at)\n"
	") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4";

/* ms since the epoch of a DATETIME(3) column, whatever the time zone */
#define ALERTSTORE_MS(col) \
	"TIMESTAMPDIFF(MICROSECOND, '1970-01-01', " col ") DIV 1000"

int
alertstore_datetime(int64_t ms, char *buf, size_t size)
{
	char s[TIMEFMT_SEED_LEN];
	int n;

	if (ms < 0 || timefmt_seed(ms, s, sizeof(s)) == -1)
		return -1;
	n = snprintf(buf, size, "%s.%03d", s, (int)(ms % 1000));
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

/* One event, copied. */
struct alertstore_event {
	char host[RECORD_HOST_MAX + 1];
	char rule[ALERT_RULE_TEXT_MAX];
	int64_t ts_ms, since_ms;
	double value;
	bool has_value, firing;
};

struct alertstore {
	const struct db_config *db;
	char origin[ALERTSTORE_ORIGIN_MAX + 1];
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t work;	/* an event queued, or stopping */
	pthread_cond_t room;	/* an event taken off the queue */
	volatile const sig_atomic_t *stop;	/* NULL: puts never wait */
	/* under lock: a ring of events */
	struct alertstore_event q[ALERTSTORE_QUEUE];
	size_t head, n;
	bool stopping, db_up;
	bool said;		/* the first write's message */
	int64_t drain_until_ms;	/* stopping: the writer's last moment */
	unsigned long long stored, dropped;
	char desc[512];		/* the database, for messages */
};

void
alertstore_put(struct alertstore *s, const struct alert_event *ev)
{
	struct alertstore_event *e;

	pthread_mutex_lock(&s->lock);
	while (s->stop != NULL && !*s->stop && s->n == ALERTSTORE_QUEUE &&
	    !s->stopping) {
		struct timespec ts = clock_mono_timespec(clock_mono_ms() +
		    200);

		pthread_cond_timedwait(&s->room, &s->lock, &ts);
	}
	if (s->n == ALERTSTORE_QUEUE || s->stopping) {
		s->dropped++;
		pthread_mutex_unlock(&s->lock);
		return;
	}
	e = &s->q[(s->head + s->n) % ALERTSTORE_QUEUE];
	snprintf(e->host, sizeof(e->host), "%s", ev->host);
	snprintf(e->rule, sizeof(e->rule), "%s", ev->rule);
	e->ts_ms = ev->ts_ms;
	e->since_ms = ev->since_ms;
	e->has_value = ev->has_value && isfinite(ev->value);
	e->value = ev->value;
	e->firing = ev->firing;
	s->n++;
	pthread_cond_signal(&s->work);
	pthread_mutex_unlock(&s->lock);
}

void
alertstore_counts(struct alertstore *s, struct alertstore_counts *c)
{
	pthread_mutex_lock(&s->lock);
	c->stored = s->stored;
	c->dropped = s->dropped;
	c->queued = s->n;
	c->db_up = s->db_up;
	pthread_mutex_unlock(&s->lock);
}

void
alertstore_metrics(struct alertstore *s, FILE *out)
{
	struct alertstore_counts c;

	alertstore_counts(s, &c);
	fprintf(out, "# HELP sm_tail_alerts_stored_total Alert events "
	    "written to " ALERTSTORE_TABLE " (--keep-alerts).\n"
	    "# TYPE sm_tail_alerts_stored_total counter\n"
	    "sm_tail_alerts_stored_total %llu\n"
	    "# HELP sm_tail_alerts_dropped_total Alert events not stored: "
	    "the queue was full while the database was away, or refused.\n"
	    "# TYPE sm_tail_alerts_dropped_total counter\n"
	    "sm_tail_alerts_dropped_total %llu\n"
	    "# HELP sm_tail_alerts_queued Alert events waiting for the "
	    "database.\n# TYPE sm_tail_alerts_queued gauge\n"
	    "sm_tail_alerts_queued %zu\n", c.stored, c.dropped, c.queued);
}

/* Append src to *p, escaped for a quoted literal; false when no room. */
static bool
alertstore_quote(MYSQL *m, char **p, char *end, const char *src)
{
	size_t len = strlen(src);

	if ((size_t)(end - *p) < 2 * len + 3)
		return false;
	*(*p)++ = '\'';
	*p += mysql_real_escape_string(m, *p, src, (unsigned long)len);
	*(*p)++ = '\'';
	**p = '\0';
	return true;
}

/* Write e (INSERT IGNORE): the fault, the reason in why. */
static enum db_fault
alertstore_insert(struct alertstore *s, MYSQL *m,
    const struct alertstore_event *e, struct why *why)
{
	char sql[2048], since[ALERTSTORE_DATETIME_LEN];
	char at[ALERTSTORE_DATETIME_LEN], *p = sql, *end = sql + sizeof(sql);
	int n;

	if (alertstore_datetime(e->since_ms, since, sizeof(since)) == -1 ||
	    alertstore_datetime(e->ts_ms, at, sizeof(at)) == -1) {
		why_set(why, "a time out of range");
		return DB_FAULT_DATA;
	}
	p += snprintf(p, (size_t)(end - p), "INSERT IGNORE INTO "
	    ALERTSTORE_TABLE " (origin, host, rule, state, since, at, value) "
	    "VALUES (");
	if (!alertstore_quote(m, &p, end, s->origin) || (*p++ = ',',
	    !alertstore_quote(m, &p, end, e->host)) || (*p++ = ',',
	    !alertstore_quote(m, &p, end, e->rule))) {
		why_set(why, "too long");
		return DB_FAULT_DATA;
	}
	if (e->has_value)
		n = snprintf(p, (size_t)(end - p), ",'%s','%s','%s',%.17g)",
		    e->firing ? "firing" : "resolved", since, at, e->value);
	else
		n = snprintf(p, (size_t)(end - p), ",'%s','%s','%s',NULL)",
		    e->firing ? "firing" : "resolved", since, at);
	if (n < 0 || n >= end - p) {
		why_set(why, "too long");
		return DB_FAULT_DATA;
	}
	if (mysql_query(m, sql) != 0)
		return db_error(m, "storing an alert", why);
	return DB_FAULT_NONE;
}

/* Say when the writer's connection changes; under lock. */
static void
alertstore_say(struct alertstore *s, bool up, const struct why *why)
{
	if (up && (!s->db_up || !s->said))
		warnx("%s: storing alerts in " ALERTSTORE_TABLE, s->desc);
	else if (!up && s->db_up)
		warnx("%s: cannot store alerts: %s; %zu waiting, retrying",
		    s->desc, why->msg, s->n);
	s->db_up = up;
	s->said |= up;
}

/* Wait on work until ms (monotonic) or stopping; under lock. */
static void
alertstore_wait(struct alertstore *s, int64_t ms)
{
	struct timespec ts = clock_mono_timespec(ms);

	while (!s->stopping && pthread_cond_timedwait(&s->work, &s->lock,
	    &ts) == 0)
		;
}

/* Connected, the table there: the connection, or NULL (why). */
static MYSQL *
alertstore_connect(struct alertstore *s, struct why *why)
{
	enum db_fault f;
	MYSQL *m;

	if ((m = db_connect(s->db, why, &f)) == NULL)
		return NULL;
	if (mysql_query(m, alertstore_create_sql) != 0) {
		db_error(m, "creating " ALERTSTORE_TABLE, why);
		mysql_close(m);
		return NULL;
	}
	return m;
}

static void *
alertstore_thread(void *arg)
{
	struct alertstore *s = arg;
	struct alertstore_event e;
	struct backoff bo;
	unsigned round = 0;
	enum db_fault f;
	MYSQL *m = NULL;
	struct why why = { 0 };

	mysql_thread_init();
	backoff_init(&bo, 500, 30000, 0);
	pthread_mutex_lock(&s->lock);
	for (;;) {
		while (s->n == 0 && !s->stopping)
			pthread_cond_wait(&s->work, &s->lock);
		/* stopping: a filter writes all, unless stopped itself */
		if (s->n == 0 || (s->stopping && (s->stop != NULL ?
		    *s->stop != 0 : clock_mono_ms() >= s->drain_until_ms)))
			break;
		e = s->q[s->head];
		pthread_mutex_unlock(&s->lock);
		if (m == NULL && (m = alertstore_connect(s, &why)) == NULL)
			f = DB_FAULT_CONNECTION;
		else
			f = alertstore_insert(s, m, &e, &why);
		pthread_mutex_lock(&s->lock);
		if (f == DB_FAULT_NONE || f == DB_FAULT_DATA) {
			if (f == DB_FAULT_NONE)
				s->stored++;
			else {
				warnx("alert %s on %s: not stored: %s", e.rule,
				    e.host, why.msg);
				s->dropped++;
			}
			s->head = (s->head + 1) % ALERTSTORE_QUEUE;
			s->n--;
			pthread_cond_signal(&s->room);
			alertstore_say(s, true, &why);
			round = 0;
			continue;
		}
		alertstore_say(s, false, &why);
		if (m != NULL) {
			mysql_close(m);
			m = NULL;
		}
		if (s->stopping)
			break;
		alertstore_wait(s, clock_mono_ms() +
		    backoff_delay_ms(&bo, round));
		if (round < 16)
			round++;
	}
	s->dropped += s->n;
	if (s->n > 0)
		warnx("%s: %zu alert events not stored", s->desc, s->n);
	s->n = 0;
	pthread_mutex_unlock(&s->lock);
	if (m != NULL)
		mysql_close(m);
	mysql_thread_end();
	return NULL;
}

struct alertstore *
alertstore_new(const struct db_config *db, const char *origin,
    volatile const sig_atomic_t *stop)
{
	struct alertstore *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->db = db;
	s->stop = stop;
	snprintf(s->origin, sizeof(s->origin), "%s", origin);
	db_describe(db, s->desc, sizeof(s->desc));
	s->db_up = true;	/* said only when it is not */
	pthread_mutex_init(&s->lock, NULL);
	clock_cond_init(&s->work);
	clock_cond_init(&s->room);
	if (pthread_create(&s->thread, NULL, alertstore_thread, s) != 0) {
		pthread_cond_destroy(&s->room);
		pthread_cond_destroy(&s->work);
		pthread_mutex_destroy(&s->lock);
		free(s);
		return NULL;
	}
	return s;
}

void
alertstore_free(struct alertstore *s, struct alertstore_counts *last)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->lock);
	s->stopping = true;
	s->drain_until_ms = clock_mono_ms() + ALERTSTORE_DRAIN_MS;
	pthread_cond_signal(&s->work);
	pthread_mutex_unlock(&s->lock);
	pthread_join(s->thread, NULL);
	if (last != NULL)
		alertstore_counts(s, last);
	pthread_cond_destroy(&s->room);
	pthread_cond_destroy(&s->work);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/* Add name: the time ms as RFC 3339, or null when text is NULL. */
static void
alertstore_json_time(struct json_object *o, const char *name,
    const char *text)
{
	char buf[TIMEFMT_RFC3339_LEN];

	if (text == NULL || timefmt_rfc3339(strtoll(text, NULL, 10), buf,
	    sizeof(buf)) == -1) {
		json_object_object_add(o, name, NULL);
		return;
	}
	json_object_object_add(o, name, json_object_new_string(buf));
}

static void
alertstore_json_number(struct json_object *o, const char *name,
    const char *text)
{
	json_object_object_add(o, name, text == NULL ? NULL :
	    json_object_new_double_s(strtod(text, NULL), text));
}

/* Column positions of alertstore_list's SELECT. */
enum { AL_ORIGIN, AL_HOST, AL_RULE, AL_SINCE, AL_FIRED, AL_VALUE,
	AL_RESOLVED, AL_RVALUE };

/* One row as a JSON object on out; 0, or -1 when out of memory. */
static int
alertstore_row(MYSQL_ROW row, unsigned long *len, FILE *out, size_t i)
{
	static const struct { int col; const char *name; } text[] = {
		{ AL_HOST, "host" }, { AL_RULE, "rule" },
		{ AL_ORIGIN, "origin" },
	};
	struct json_object *o;
	size_t k;

	if ((o = json_object_new_object()) == NULL)
		return -1;
	for (k = 0; k < sizeof(text) / sizeof(text[0]); k++)
		json_object_object_add(o, text[k].name,
		    json_object_new_string_len(row[text[k].col],
		    (int)len[text[k].col]));
	alertstore_json_time(o, "since", row[AL_SINCE]);
	alertstore_json_time(o, "fired", row[AL_FIRED]);
	alertstore_json_time(o, "resolved", row[AL_RESOLVED]);
	alertstore_json_number(o, "value", row[AL_VALUE]);
	alertstore_json_number(o, "resolved_value", row[AL_RVALUE]);
	fprintf(out, "%s%s", i > 0 ? "," : "",
	    json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return 0;
}

enum db_fault
alertstore_list(MYSQL *m, const struct alertstore_query *q, FILE *out,
    struct why *why)
{
	char from[ALERTSTORE_DATETIME_LEN], to[ALERTSTORE_DATETIME_LEN];
	char sql[2048], *p = sql, *end = sql + sizeof(sql);
	unsigned long *len;
	MYSQL_RES *res;
	MYSQL_ROW row;
	size_t i = 0;

	if (alertstore_datetime(q->from_ms < 0 ? 0 : q->from_ms, from,
	    sizeof(from)) == -1 || alertstore_datetime(q->to_ms, to,
	    sizeof(to)) == -1) {
		why_set(why, "a time out of range");
		return DB_FAULT_DATA;
	}
	/* an alert and its end: the pair shares origin, host, rule, since */
	p += snprintf(p, (size_t)(end - p), "SELECT f.origin, f.host, "
	    "f.rule, " ALERTSTORE_MS("f.since") ", " ALERTSTORE_MS("f.at")
	    ", f.value, " ALERTSTORE_MS("r.at") ", r.value FROM "
	    ALERTSTORE_TABLE " f LEFT JOIN " ALERTSTORE_TABLE " r ON "
	    "r.origin = f.origin AND r.host = f.host AND r.rule = f.rule AND "
	    "r.since = f.since AND r.state = 'resolved' WHERE f.state = "
	    "'firing' AND f.at < '%s' AND (r.at IS NULL OR r.at >= '%s')",
	    to, from);
	if (q->host != NULL) {
		p += snprintf(p, (size_t)(end - p), " AND f.host = ");
		if (!alertstore_quote(m, &p, end, q->host)) {
			why_set(why, "host: too long");
			return DB_FAULT_DATA;
		}
	}
	snprintf(p, (size_t)(end - p), " ORDER BY f.at DESC, f.id DESC "
	    "LIMIT %zu", q->limit);
	fputc('[', out);
	if (mysql_query(m, sql) != 0) {
		if (mysql_errno(m) == ER_NO_SUCH_TABLE) {
			fputc(']', out);	/* nothing stored yet */
			return DB_FAULT_NONE;
		}
		return db_error(m, "reading " ALERTSTORE_TABLE, why);
	}
	if ((res = mysql_store_result(m)) == NULL)
		return db_error(m, "reading " ALERTSTORE_TABLE, why);
	while ((row = mysql_fetch_row(res)) != NULL) {
		if ((len = mysql_fetch_lengths(res)) == NULL ||
		    row[AL_HOST] == NULL || row[AL_RULE] == NULL ||
		    row[AL_ORIGIN] == NULL)
			continue;
		if (alertstore_row(row, len, out, i) == -1) {
			mysql_free_result(res);
			why_set(why, "out of memory");
			return DB_FAULT_OTHER;
		}
		i++;
	}
	mysql_free_result(res);
	fputc(']', out);
	return DB_FAULT_NONE;
}
