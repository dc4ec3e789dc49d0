/*
 * Two threads: the poller owns the tail state and the connection and runs
 * tail_step on the schedule; the UI thread draws and reads keys.  A server
 * that stops answering (stopped, or its packets dropped) blocks a query
 * until the client's I/O time-out; that blocks the poller only, so the
 * screen keeps redrawing, says how long it has waited, and q quits at once.
 *
 * The lock guards what both see: dash, link, sock and stop.  The poller
 * never holds it while it talks to the server: dv_emit takes it per row.
 */
#include <err.h>
#include <fcntl.h>
#include <langinfo.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <curses.h>

#include "clock.h"
#include "dash.h"
#include "dashview.h"
#include "feed.h"
#include "schema.h"
#include "exitcode.h"
#include "followrun.h"
#include "rowfmt.h"
#include "timefmt.h"

#define DV_TICK_MS 100		/* a redraw, and getch's wait for a key */
#define DV_HUNG_MS 2000		/* a step this long waits on the server */
#define DV_QUIT_MS 100		/* q lets a step the server answers end */
#define DV_JOIN_MS 1000		/* and waits no longer than this in all */

enum { DV_OK = 1, DV_WARN, DV_ALERT, DV_LABEL };

/* What the view shows of the poller: its copy of the tail's state. */
struct dv_link {
	enum tail_state state;
	bool no_table;
	unsigned attempts;
	struct why why;
	unsigned long long bad_rows;
	int64_t busy_since;	/* a step running since (monotonic); -1: none */
	bool fatal;		/* the poller gave up: why says why */
	bool done;		/* the poller has ended */
};

struct dashview {
	const struct dashview_config *cfg;	/* the UI thread's only */
	struct db_config db;	/* the caller's, copied; our time-outs */
	int64_t step;		/* milliseconds between polls */
	pthread_mutex_t lock;
	pthread_cond_t cv;	/* stop for the poller, link.done for the UI */
	struct dash dash;
	struct dv_link link;
	int sock;		/* a duplicate of the connection's socket; -1 */
	bool stop;		/* the UI is quitting */
	struct tail *tail;	/* the poller's alone while it runs */
	char desc[256];		/* the database, for the status line */
	bool utf8;		/* the terminal takes UTF-8 */
	bool color;
};

static int
dv_emit(const struct rowfmt_row *row, bool history, void *arg)
{
	struct dashview *v = arg;
	bool stop;

	pthread_mutex_lock(&v->lock);
	dash_add(&v->dash, row, !history, clock_mono_ms());
	stop = v->stop;
	pthread_mutex_unlock(&v->lock);
	/* a long read-back ends early when the view quits */
	return stop ? -1 : 0;
}

static void
dv_bad(unsigned long long id, const char *why, void *arg)
{
	/* counted in the tail's bad_rows; stderr would tear the screen */
	(void)id;
	(void)why;
	(void)arg;
}

static void
dv_attr(const struct dashview *v, int pair, bool bold, bool on)
{
	attr_t a = (v->color && pair > 0 ? COLOR_PAIR(pair) : 0) |
	    (bold ? A_BOLD : 0);

	if (on)
		attron(a);
	else
		attroff(a);
}

/* Text at y, x, cut to the screen's width, in pair (0: plain). */
static void __attribute__((format(printf, 6, 7)))
dv_put(const struct dashview *v, int y, int x, int pair, bool bold,
    const char *fmt, ...)
{
	char raw[1024], cell[4096];
	va_list ap;

	if (y < 0 || y >= LINES || x >= COLS)
		return;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	rowfmt_cell(cell, sizeof(cell), raw, (unsigned)(COLS - x), false);
	dv_attr(v, pair, bold, true);
	mvaddstr(y, x, cell);
	dv_attr(v, pair, bold, false);
}

/* "3 s", "5 min", "2 h", "4 d". */
static void
dv_age(int64_t ms, char *buf, size_t size)
{
	int64_t s = ms > 0 ? ms / 1000 : 0;

	if (s < 120)
		snprintf(buf, size, "%lld s", (long long)s);
	else if (s < 7200)
		snprintf(buf, size, "%lld min", (long long)(s / 60));
	else if (s < 172800)
		snprintf(buf, size, "%lld h", (long long)(s / 3600));
	else
		snprintf(buf, size, "%lld d", (long long)(s / 86400));
}

/* "CPU  [#####.....] 42.50% WARN" across the screen. */
static void
dv_gauge(const struct dashview *v, int y, const char *label, double pct)
{
	bool warn = dash_warns(&v->dash, pct);
	int width = COLS - 22, filled, i;
	double p = pct < 0 ? 0 : pct > 100 ? 100 : pct;

	if (width < 10)
		width = 10;
	filled = (int)(p / 100.0 * width + 0.5);
	dv_put(v, y, 0, DV_LABEL, true, "%s", label);
	mvaddstr(y, 4, " [");
	dv_attr(v, warn ? DV_WARN : DV_OK, true, true);
	for (i = 0; i < filled; i++)
		addch('#');
	dv_attr(v, warn ? DV_WARN : DV_OK, true, false);
	for (; i < width; i++)
		addch('.');
	addstr("] ");
	dv_attr(v, warn ? DV_WARN : 0, warn, true);
	printw("%6.2f%%", pct);
	if (warn)
		addstr(" WARN");
	dv_attr(v, warn ? DV_WARN : 0, warn, false);
}

static void
dv_status(const struct dashview *v, int y, int64_t now)
{
	const struct dv_link *l = &v->link;
	bool busy = l->busy_since >= 0;
	bool hung = busy && now - l->busy_since >= DV_HUNG_MS;
	char waiting[64] = "", age[32];

	if (busy) {
		dv_age(now - l->busy_since, age, sizeof(age));
		snprintf(waiting, sizeof(waiting), "waiting for the server "
		    "(%s)", age);
	}
	dv_put(v, y, 0, DV_LABEL, true, "database");
	dv_put(v, y, 10, 0, false, "%s", v->desc);
	switch (l->state) {
	case TAIL_UP:
		if (hung) {
			/* connected, but a query has had no answer */
			dv_put(v, y, 11 + (int)strlen(v->desc), DV_ALERT,
			    true, "%s", waiting);
			break;
		}
		dv_put(v, y, 11 + (int)strlen(v->desc), DV_OK, true,
		    "connected%s", l->no_table ? ", no table " SCHEMA_TABLE
		    " yet" : "");
		break;
	case TAIL_CONNECTING:
	case TAIL_DOWN:
		/* before any failure there is no reason, only the wait */
		dv_put(v, y, 11 + (int)strlen(v->desc), DV_ALERT, true,
		    "%s (attempt %u): %s", l->state == TAIL_DOWN ?
		    "reconnecting" : "connecting", l->attempts + 1,
		    hung || l->why.msg[0] == '\0' ? waiting : l->why.msg);
		break;
	}
}

static void
dv_sources(const struct dashview *v, int y, int64_t now)
{
	struct dash_share shares[DASH_SOURCES + 1];
	size_t n, i;
	int x;

	dv_put(v, y, 0, DV_LABEL, true, "rows/s");
	dv_put(v, y, 10, 0, false, "%.1f", dash_rate(&v->dash, now));
	x = 20;
	dv_put(v, y, x, DV_LABEL, true, "sources (%d s)", DASH_SPLIT_SECONDS);
	x += 16;
	n = dash_shares(&v->dash, now, shares, DASH_SOURCES + 1);
	if (n == 0)
		dv_put(v, y, x, 0, false, "no new rows yet");
	for (i = 0; i < n && x < COLS; i++) {
		char line[128];

		snprintf(line, sizeof(line), "%s %.1f%% (%u)",
		    shares[i].source[0] != '\0' ? shares[i].source : "-",
		    shares[i].percent, shares[i].rows);
		dv_put(v, y, x, 0, false, "%s", line);
		x += (int)strlen(line) + 3;
	}
}

/*
 * Under the sparklines, the time they cover (one cell a sample): "span
 * 4 min, 26 samples: 12:01:05 to 12:05:15 UTC", the dates too when the
 * two differ.
 */
static void
dv_span(const struct dashview *v, int y, const struct dash_host *h,
    size_t width)
{
	size_t shown = h->nhist < width ? h->nhist : width;
	int64_t lo, span = dash_spark_span(h, width, &lo);
	char from[TIMEFMT_SEED_LEN], to[TIMEFMT_SEED_LEN], age[32];
	bool days;

	if (timefmt_seed(lo, from, sizeof(from)) == -1 ||
	    timefmt_seed(lo + span, to, sizeof(to)) == -1)
		return;
	days = strncmp(from, to, 10) != 0;
	dv_age(span, age, sizeof(age));
	dv_put(v, y, 0, DV_LABEL, true, "span");
	if (shown < 2)
		dv_put(v, y, 10, 0, false, "1 sample: %s UTC", from);
	else
		dv_put(v, y, 10, 0, false, "%s, %zu samples: %s to %s UTC",
		    age, shown, days ? from : from + 11, days ? to : to + 11);
}

static void
dv_hosts(const struct dashview *v, int y)
{
	long sel = dash_selected_index(&v->dash);
	int64_t wall = timefmt_now_ms();
	size_t i, first = 0, rows;

	if (LINES - y - 1 < 1)
		return;
	rows = (size_t)(LINES - y - 1);

	dv_put(v, y++, 0, DV_LABEL, true, "  %-20s %-19s %7s %7s  %s",
	    "HOST", "NEWEST(UTC)", "CPU%", "RAM%", "SOURCE");
	/* keep the selected host in sight */
	if (sel >= 0 && (size_t)sel >= rows)
		first = (size_t)sel - rows + 1;
	for (i = first; i < v->dash.nhosts && y < LINES; i++, y++) {
		const struct dash_host *h = &v->dash.hosts[i];
		const struct record *r = &h->last.rec;
		char when[TIMEFMT_SEED_LEN], name[RECORD_HOST_MAX * 4 + 1];
		bool warn = dash_warns(&v->dash, r->cpu_usage) ||
		    dash_warns(&v->dash, r->ram_percentage);
		bool stale = dash_stale(h, wall);

		if (timefmt_seed(r->ts_ms, when, sizeof(when)) == -1)
			snprintf(when, sizeof(when), "?");
		rowfmt_cell(name, sizeof(name), h->name[0] != '\0' ?
		    h->name : "(no host)", 20, true);
		dv_put(v, y, 0, stale ? DV_ALERT : warn ? DV_WARN : 0,
		    (long)i == sel, "%c %s %-19s %7.2f %7.2f  %s%s",
		    (long)i == sel ? '>' : ' ', name, when, r->cpu_usage,
		    r->ram_percentage, h->last.source, stale ? "  STALE" : "");
	}
}

/* Under the lock; the caller writes the terminal (doupdate) without it. */
static void
dv_draw(struct dashview *v)
{
	const struct dash_host *h = dash_selected(&v->dash);
	int64_t now = clock_mono_ms();
	char when[TIMEFMT_SEED_LEN], age[32], spark[DASH_HISTORY * 4 + 1];
	const struct record *r;
	int y;

	erase();
	if (COLS < DASHVIEW_MIN_COLS || LINES < DASHVIEW_MIN_LINES) {
		dv_put(v, 0, 0, DV_ALERT, true, "too small: %dx%d", COLS,
		    LINES);
		dv_put(v, 1, 0, 0, false, "need %dx%d", DASHVIEW_MIN_COLS,
		    DASHVIEW_MIN_LINES);
		wnoutrefresh(stdscr);
		return;
	}
	attron(A_REVERSE);
	mvhline(0, 0, ' ', COLS);
	dv_put(v, 0, 1, 0, true, "sm-tail dashboard");
	dv_put(v, 0, COLS - 32, 0, false, "q quit  Tab/arrows: other host");
	attroff(A_REVERSE);
	dv_status(v, 1, now);
	if (h == NULL) {
		dv_put(v, 3, 0, 0, false, "waiting for rows%s",
		    v->cfg->tail.filter.host != NULL ||
		    v->cfg->tail.filter.source != NULL ||
		    v->cfg->tail.filter.since_ms >= 0 ?
		    " that pass the filters" : "");
		wnoutrefresh(stdscr);
		return;
	}
	r = &h->last.rec;
	dv_put(v, 2, 0, DV_LABEL, true, "host");
	dv_put(v, 2, 10, 0, true, "%s", h->name[0] != '\0' ? h->name :
	    "(no host)");
	if (v->dash.nhosts > 1)
		dv_put(v, 2, 12 + (int)strlen(h->name), 0, false,
		    "(%ld of %zu)", dash_selected_index(&v->dash) + 1,
		    v->dash.nhosts);
	if (timefmt_seed(r->ts_ms, when, sizeof(when)) == -1)
		snprintf(when, sizeof(when), "?");
	dv_age(timefmt_now_ms() - r->ts_ms, age, sizeof(age));
	dv_put(v, 3, 0, DV_LABEL, true, "newest");
	dv_put(v, 3, 10, 0, false, "%s UTC (%s ago)  id %llu  source %s",
	    when, age, h->last.id, h->last.source[0] != '\0' ?
	    h->last.source : "-");
	/* silent past its rule (as on the page): a line of its own */
	if (dash_stale(h, timefmt_now_ms())) {
		dv_age(dash_stale_after(h), age, sizeof(age));
		dv_put(v, 4, 10, DV_ALERT, true, "STALE: no row for more "
		    "than %s (%d times its interval, %d s at least)", age,
		    FEED_STALE_TIMES, FEED_STALE_MIN_MS / 1000);
	}
	dv_gauge(v, 5, "CPU", r->cpu_usage);
	dv_gauge(v, 6, "RAM", r->ram_percentage);
	dv_put(v, 8, 0, DV_LABEL, true, "RAM MiB");
	dv_put(v, 8, 10, 0, false, "total %lld   used %lld   free %lld   "
	    "available %lld", (long long)r->ram_total, (long long)r->ram_used,
	    (long long)r->ram_free, (long long)r->ram_available);
	dv_put(v, 9, 0, DV_LABEL, true, "processes");
	dv_put(v, 9, 10, 0, false, "total %lld   running %lld   sleeping %lld"
	    "   stopped %lld   zombie %lld", (long long)r->total_processes,
	    (long long)r->running_processes,
	    (long long)r->sleeping_processes,
	    (long long)r->stopped_processes,
	    (long long)r->zombie_processes);
	y = 11;
	dash_spark(h->cpu, h->nhist, h->head, (size_t)(COLS - 10), v->utf8,
	    spark, sizeof(spark));
	dv_put(v, y, 0, DV_LABEL, true, "CPU %%");
	dv_put(v, y++, 10, 0, false, "%s", spark);
	dash_spark(h->ram, h->nhist, h->head, (size_t)(COLS - 10), v->utf8,
	    spark, sizeof(spark));
	dv_put(v, y, 0, DV_LABEL, true, "RAM %%");
	dv_put(v, y++, 10, 0, false, "%s", spark);
	dv_span(v, y, h, (size_t)(COLS - 10));
	dv_sources(v, ++y, now);
	y += 2;
	dv_hosts(v, y);
	wnoutrefresh(stdscr);
}

static void
dv_colors(struct dashview *v)
{
	if (!has_colors() || start_color() == ERR)
		return;
	use_default_colors();
	init_pair(DV_OK, COLOR_GREEN, -1);
	init_pair(DV_WARN, COLOR_RED, -1);
	init_pair(DV_ALERT, COLOR_YELLOW, -1);
	init_pair(DV_LABEL, COLOR_CYAN, -1);
	v->color = true;
}

/* Copy what the view shows of the tail; under the lock. */
static void
dv_link_update(struct dashview *v)
{
	struct tail_status st;

	tail_status(v->tail, &st);
	v->link.state = st.state;
	v->link.no_table = st.no_table;
	v->link.attempts = st.attempts;
	why_set(&v->link.why, "%s", st.why);
	v->link.bad_rows = st.bad_rows;
}

/*
 * Keep a duplicate of the connection's socket, for dv_stop to shut down:
 * that wakes the poller from a read the server does not answer.  A
 * duplicate, because the poller closes the connection without the lock
 * (inside tail_step), and the number could be reused by then; the
 * duplicate keeps the socket itself until the next update.  Under the
 * lock.
 */
static void
dv_sock_update(struct dashview *v)
{
	if (v->sock != -1) {
		close(v->sock);
		v->sock = -1;
	}
	if (tail_socket(v->tail) != -1)
		v->sock = fcntl(tail_socket(v->tail), F_DUPFD_CLOEXEC, 0);
}

/* Wait on cv until when_ms (monotonic) at most; under the lock. */
static void
dv_wait(struct dashview *v, int64_t when_ms)
{
	struct timespec ts = clock_mono_timespec(when_ms);

	pthread_cond_timedwait(&v->cv, &v->lock, &ts);
}

/*
 * followrun's wait: on cv until when_ms or stop; the step about to run
 * noted for the status line.
 */
static bool
dv_poll_wait(void *arg, int64_t when_ms)
{
	struct dashview *v = arg;
	bool stop;

	pthread_mutex_lock(&v->lock);
	while (!v->stop && clock_mono_ms() < when_ms)
		dv_wait(v, when_ms);
	if (!(stop = v->stop))
		v->link.busy_since = clock_mono_ms();
	pthread_mutex_unlock(&v->lock);
	return stop;
}

/* followrun's stepped: the tail's state copied for the UI. */
static bool
dv_poll_stepped(void *arg, enum tail_step st)
{
	struct dashview *v = arg;

	(void)st;
	pthread_mutex_lock(&v->lock);
	v->link.busy_since = -1;
	dv_link_update(v);
	dv_sock_update(v);
	pthread_mutex_unlock(&v->lock);
	return false;
}

/*
 * The poller: followrun, tail_step at the interval or at the retry time
 * after a failed connect, until stop or a fatal step.  The server is
 * never talked to under the lock.  Every signal it can is blocked
 * (dv_start).
 */
static void *
dv_poll(void *arg)
{
	struct dashview *v = arg;
	struct followrun fr = {
		.tail = v->tail, .desc = v->desc, .interval_ms = v->step,
		.first_ms = clock_mono_ms(), .wait = dv_poll_wait,
		.stepped = dv_poll_stepped, .arg = v
	};
	struct why why;
	int rc;

	mysql_thread_init();
	rc = followrun(&fr, &why);
	pthread_mutex_lock(&v->lock);
	if (rc != SM_EXIT_OK) {
		v->link.busy_since = -1;
		dv_link_update(v);
		v->link.why = why;
		v->link.fatal = true;
	}
	if (v->sock != -1) {
		close(v->sock);
		v->sock = -1;
	}
	pthread_mutex_unlock(&v->lock);
	/* in the thread that opened it; a write at most, never a read */
	tail_close(v->tail);
	pthread_mutex_lock(&v->lock);
	v->link.done = true;
	pthread_cond_broadcast(&v->cv);
	pthread_mutex_unlock(&v->lock);
	mysql_thread_end();
	return NULL;
}

/*
 * Start the poller with every signal blocked but the faults: SIGINT,
 * SIGTERM and SIGHUP (stop) and SIGWINCH (resize) must reach the UI
 * thread, where they cut getch's wait short.  0 or an errno.
 */
static int
dv_start(struct dashview *v, pthread_t *poller)
{
	static const int faults[] = {
		SIGABRT, SIGBUS, SIGFPE, SIGILL, SIGSEGV, SIGSYS, SIGTRAP
	};
	sigset_t mask, old;
	size_t i;
	int rc;

	sigfillset(&mask);
	for (i = 0; i < sizeof(faults) / sizeof(faults[0]); i++)
		sigdelset(&mask, faults[i]);
	pthread_sigmask(SIG_SETMASK, &mask, &old);
	rc = pthread_create(poller, NULL, dv_poll, v);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}

/* Wait until the poller has ended or until when_ms; under the lock. */
static void
dv_wait_done(struct dashview *v, int64_t when_ms)
{
	while (!v->link.done && clock_mono_ms() < when_ms)
		dv_wait(v, when_ms);
}

/*
 * Tell the poller to stop and join it: true, or false when it is still
 * blocked in the server after DV_JOIN_MS.  A step the server answers ends
 * by itself; a read it does not answer ends when its socket is shut down
 * (the connection is lost, which quitting loses anyway).  What remains is
 * a connect or the history read on a connection made in the same step,
 * with no socket to shut down yet: the poller is then left blocked.
 */
static bool
dv_stop(struct dashview *v, pthread_t poller)
{
	int64_t start = clock_mono_ms();
	bool done;

	pthread_mutex_lock(&v->lock);
	v->stop = true;
	pthread_cond_broadcast(&v->cv);
	dv_wait_done(v, start + DV_QUIT_MS);
	if (!v->link.done && v->sock != -1)
		shutdown(v->sock, SHUT_RDWR);
	dv_wait_done(v, start + DV_JOIN_MS);
	done = v->link.done;
	pthread_mutex_unlock(&v->lock);
	if (done)
		pthread_join(poller, NULL);
	return done;
}

/* A key other than q; under the lock. */
static void
dv_key(struct dashview *v, int ch)
{
	switch (ch) {
	case '\t':
	case 'n':
	case KEY_RIGHT:
	case KEY_DOWN:
		dash_select(&v->dash, 1);
		break;
	case KEY_BTAB:
	case 'p':
	case KEY_LEFT:
	case KEY_UP:
		dash_select(&v->dash, -1);
		break;
	case 'L' & 0x1f:
		clearok(curscr, TRUE);
		break;
	default:
		/* KEY_RESIZE: the next draw takes the new size */
		break;
	}
}

/* Draw and read keys until q, *stop or a fatal step: true for the last. */
static bool
dv_loop(struct dashview *v)
{
	bool fatal = false;
	int ch;

	/* the poller's rows show within a tick, the ages every second */
	timeout(DV_TICK_MS);
	while (!*v->cfg->stop) {
		pthread_mutex_lock(&v->lock);
		fatal = v->link.fatal;
		if (!fatal)
			dv_draw(v);
		pthread_mutex_unlock(&v->lock);
		if (fatal)
			break;
		/* the terminal's pace must not hold up the poller */
		doupdate();
		if ((ch = getch()) == 'q' || ch == 'Q')
			break;
		pthread_mutex_lock(&v->lock);
		dv_key(v, ch);
		pthread_mutex_unlock(&v->lock);
	}
	return fatal;
}

/* Free a view whose poller has ended (or never started). */
static void
dv_free(struct dashview *v)
{
	tail_free(v->tail);
	dash_free(&v->dash);
	pthread_mutex_destroy(&v->lock);
	pthread_cond_destroy(&v->cv);
	db_config_free(&v->db);
	free(v);
}

/* *dst = a copy of s (NULL stays NULL); false when out of memory. */
static bool
dv_dup(char **dst, const char *s)
{
	return s == NULL || (*dst = strdup(s)) != NULL;
}

/*
 * dst = c with strings of its own (db_config_free frees them): a poller
 * left blocked in a connect (dashview_run) must not read the caller's,
 * freed after our return.  Every string of struct db_config and struct
 * dburl is copied here; one missed would be freed twice.  0 or -1.
 */
static int
dv_db_copy(struct db_config *dst, const struct db_config *c)
{
	struct dburl *u = &dst->url;

	*dst = *c;
	/* none of c's, so that db_config_free can undo a partial copy */
	u->user = u->password = u->host = u->database = u->socket = NULL;
	u->ssl_mode = u->ssl_ca = NULL;
	dst->password = dst->defaults_file = dst->ssl_ca = NULL;
	if (!dv_dup(&u->user, c->url.user) ||
	    !dv_dup(&u->password, c->url.password) ||
	    !dv_dup(&u->host, c->url.host) ||
	    !dv_dup(&u->database, c->url.database) ||
	    !dv_dup(&u->socket, c->url.socket) ||
	    !dv_dup(&u->ssl_mode, c->url.ssl_mode) ||
	    !dv_dup(&u->ssl_ca, c->url.ssl_ca) ||
	    !dv_dup(&dst->password, c->password) ||
	    !dv_dup(&dst->defaults_file, c->defaults_file) ||
	    !dv_dup(&dst->ssl_ca, c->ssl_ca)) {
		db_config_free(dst);
		return -1;
	}
	return 0;
}

/* A view, its tail not connected; NULL when out of memory. */
static struct dashview *
dv_new(const struct dashview_config *cfg)
{
	struct tail_config tc = cfg->tail;
	pthread_condattr_t ca;
	struct dashview *v;

	if ((v = calloc(1, sizeof(*v))) == NULL)
		return NULL;
	v->cfg = cfg;
	v->sock = -1;
	v->link.busy_since = -1;
	v->step = cfg->interval_ms;
	if (v->step < 1)
		v->step = 1;
	if (dv_db_copy(&v->db, cfg->tail.db) == -1)
		goto out_free;
	/* a dead server must not keep the poller for long */
	v->db.connect_timeout = DASHVIEW_CONNECT_TIMEOUT;
	v->db.io_timeout = DASHVIEW_IO_TIMEOUT;
	db_describe(&v->db, v->desc, sizeof(v->desc));
	tc.db = &v->db;
	tc.follow = true;
	tc.emit = dv_emit;
	tc.bad = dv_bad;
	tc.arg = v;
	if (pthread_condattr_init(&ca) != 0)
		goto out_db;
	/* the poller's schedule is on the monotonic clock */
	if (pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
	    pthread_cond_init(&v->cv, &ca) != 0)
		goto out_condattr;
	if (pthread_mutex_init(&v->lock, NULL) != 0)
		goto out_cond;
	if (dash_init(&v->dash, cfg->warn, clock_mono_ms()) == -1)
		goto out_mutex;
	if ((v->tail = tail_new(&tc)) == NULL)
		goto out_dash;
	dv_link_update(v);
	pthread_condattr_destroy(&ca);
	return v;
out_dash:
	dash_free(&v->dash);
out_mutex:
	pthread_mutex_destroy(&v->lock);
out_cond:
	pthread_cond_destroy(&v->cv);
out_condattr:
	pthread_condattr_destroy(&ca);
out_db:
	db_config_free(&v->db);
out_free:
	free(v);
	return NULL;
}

int
dashview_run(const struct dashview_config *cfg, bool *left)
{
	struct dashview *v;
	pthread_t poller;
	SCREEN *scr;
	int status = SM_EXIT_OK, rc;
	bool fatal, joined = true;

	*left = false;
	if ((v = dv_new(cfg)) == NULL) {
		warnx("out of memory");
		return SM_EXIT_PARTIAL;
	}
	v->utf8 = strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
	if ((scr = newterm(NULL, stdout, stdin)) == NULL) {
		warnx("cannot drive terminal type \"%s\"",
		    getenv("TERM") != NULL ? getenv("TERM") : "");
		status = SM_EXIT_USAGE;
		goto out_free;
	}
	cbreak();
	noecho();
	keypad(stdscr, TRUE);
	curs_set(0);
	set_escdelay(25);
	dv_colors(v);
	if ((rc = dv_start(v, &poller)) != 0) {
		endwin();
		warnx("cannot start the poller: %s", strerror(rc));
		status = SM_EXIT_PARTIAL;
		goto out_delscreen;
	}
	fatal = dv_loop(v);
	/* the terminal is the user's again, whatever the poller does */
	endwin();
	joined = dv_stop(v, poller);
	pthread_mutex_lock(&v->lock);
	if (fatal) {
		warnx("%s", v->link.why.msg);
		status = SM_EXIT_USAGE;
	} else if (v->link.bad_rows > 0) {
		warnx("%llu rows could not be read back (NULL values)",
		    v->link.bad_rows);
	}
	pthread_mutex_unlock(&v->lock);
out_delscreen:
	delscreen(scr);
out_free:
	/*
	 * A poller still blocked in the server (a connect, or the history
	 * read on the connection it has just made: dv_stop) is left to the
	 * process's exit, which follows our return.  It is not cancelled
	 * (Connector/C is not cancel-safe: a cancelled read leaves the
	 * handle and the library's state half-way), and v is not freed
	 * under it; it reads nothing of the caller's (v->db is a copy), and
	 * when the client's time-out wakes it, it sees stop and ends
	 * without connecting again.
	 */
	*left = !joined;
	if (joined)
		dv_free(v);
	return status;
}
