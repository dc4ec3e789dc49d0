/*
 * The committer thread: its queue of groups, its connection and the
 * reconnection with backoff; the SQL is in store_sql.c (store.h).
 */
#include <ctype.h>
#include <err.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
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
#include "store_impl.h"
#include "storemetrics.h"
#include "thread.h"
#include "timefmt.h"
#include "uuid.h"

#define STORE_IDLE_PING_MS 1000	/* how soon an idle committer notices */
#define STORE_BACKOFF_BASE_MS 100
#define STORE_BACKOFF_CAP_MS 2000
#define STORE_REMIND_MS 10000	/* an outage is told again this often */

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
	store_sql_close(s);
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

/* Connect, check the table, make sure autocommit is on (store_sql.c). */
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
	s->dup_dirty = false;
	if (mysql_autocommit(s->m, 1) != 0) {
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

/* Hand a NULL-terminated list of groups back to their owners. */
static void
store_finish(struct store_group *g, enum store_status status)
{
	while (g != NULL) {
		struct store_group *next = g->next;

		if (status != STORE_QUEUED)
			g->status = status;
		g->next = NULL;
		g->more = next != NULL;
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
		if (s->cfg.fail_fast)
			warnx("database %s: %s; reconnecting, answering 503 "
			    "meanwhile", s->desc, why);
		else if (s->cfg.max_wait_ms >= 0)
			warnx("database %s: %s; retrying for up to %.1f s "
			    "(--max-wait)", s->desc, why,
			    (double)s->cfg.max_wait_ms / 1000);
		else
			warnx("database %s: %s; retrying until it answers",
			    s->desc, why);
		s->warned = true;
		s->warned_ms = now;
	} else if (now - s->warned_ms >= STORE_REMIND_MS) {
		warnx("database %s: still unreachable after %.0f s: %s",
		    s->desc, (double)(now - s->down_since_ms) / 1000, why);
		s->warned_ms = now;
	}
	s->next_attempt_ms = now + backoff_delay_ms(&s->backoff,
	    s->attempt++);
	if (!s->cfg.fail_fast && s->cfg.max_wait_ms >= 0 &&
	    now - s->down_since_ms >= s->cfg.max_wait_ms) {
		warnx("database %s: unreachable for %.1f s (--max-wait): "
		    "giving up: %s", s->desc,
		    (double)(now - s->down_since_ms) / 1000, why);
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
		warnx("database %s: reconnected after %.1f s", s->desc,
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
		int64_t now, t0;

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
		__atomic_store_n(&s->busy, true, __ATOMIC_RELEASE);
		pthread_mutex_unlock(&s->lock);
		t0 = clock_mono_us();
		f = store_sql_commit(s, first, &why);
		/* before the answers ring the loop: it reads again (httpd) */
		__atomic_store_n(&s->busy, false, __ATOMIC_RELEASE);
		/* before store_finish: the groups are their owners' after */
		storemetrics_commit(first, clock_mono_us() - t0,
		    f == DB_FAULT_NONE);
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
	struct store *s;
	enum db_fault f;
	int rc;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		why_set(why, "out of memory");
		return NULL;
	}
	s->cfg = *cfg;
	db_describe(cfg->db, s->desc, sizeof(s->desc));
	if (s->cfg.batch == 0)
		s->cfg.batch = STORE_BATCH_DEFAULT;
	snprintf(s->source, sizeof(s->source), "%s", cfg->source);
	s->source_len = strlen(s->source);
	if (store_sql_alloc(s) == -1) {
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
	if ((rc = thread_start(&s->thread, store_main, s)) != 0) {
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
	/* "database user@host:port/db: ..." (storemain.c) */
	why_prefix(why, s->desc);
	store_sql_free(s);
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
	wake = s->waiting && !s->plugged;
	if (wake)
		s->waiting = false;
	pthread_mutex_unlock(&s->lock);
	if (wake)
		store_wake(s);
	return 0;
}

void
store_plug(struct store *s)
{
	pthread_mutex_lock(&s->lock);
	s->plugged = true;
	pthread_mutex_unlock(&s->lock);
}

void
store_unplug(struct store *s)
{
	bool wake;

	pthread_mutex_lock(&s->lock);
	s->plugged = false;
	wake = s->waiting && s->head != NULL;
	if (wake)
		s->waiting = false;
	pthread_mutex_unlock(&s->lock);
	if (wake)
		store_wake(s);
}

bool
store_busy(struct store *s)
{
	return __atomic_load_n(&s->busy, __ATOMIC_ACQUIRE);
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

void
store_queued(struct store *s, size_t *groups, size_t *rows)
{
	const struct store_group *g;

	*groups = *rows = 0;
	pthread_mutex_lock(&s->lock);
	for (g = s->head; g != NULL; g = g->next) {
		(*groups)++;
		*rows += g->n;
	}
	pthread_mutex_unlock(&s->lock);
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
	store_sql_free(s);
	free(s);
}
