#include <err.h>
#include <langinfo.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curses.h>

#include "dash.h"
#include "dashview.h"
#include "exitcode.h"
#include "timefmt.h"

enum { DV_OK = 1, DV_WARN, DV_ALERT, DV_LABEL };

struct dashview {
	const struct dashview_config *cfg;
	struct dash dash;
	struct tail tail;
	char desc[256];		/* the database, for the status line */
	bool utf8;		/* the terminal takes UTF-8 */
	bool color;
};

static int
dv_emit(const struct rowfmt_row *row, bool history, void *arg)
{
	struct dashview *v = arg;

	dash_add(&v->dash, row, !history, tail_now_ms());
	return 0;
}

static void
dv_bad(unsigned long long id, const char *why, void *arg)
{
	/* counted in tail.bad_rows; stderr would tear the screen */
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
dv_status(const struct dashview *v, int y)
{
	const struct tail *t = &v->tail;

	dv_put(v, y, 0, DV_LABEL, true, "database");
	dv_put(v, y, 10, 0, false, "%s", v->desc);
	switch (t->state) {
	case TAIL_UP:
		dv_put(v, y, 11 + (int)strlen(v->desc), DV_OK, true,
		    "connected%s", t->no_table ? ", no table " SCHEMA_TABLE
		    " yet" : "");
		break;
	case TAIL_CONNECTING:
	case TAIL_DOWN:
		dv_put(v, y, 11 + (int)strlen(v->desc), DV_ALERT, true,
		    "%s (attempt %u): %s", t->state == TAIL_DOWN ?
		    "reconnecting" : "connecting", t->attempts + 1, t->why);
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

static void
dv_hosts(const struct dashview *v, int y)
{
	long sel = dash_selected_index(&v->dash);
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

		if (timefmt_seed(r->ts_ms, when, sizeof(when)) == -1)
			snprintf(when, sizeof(when), "?");
		rowfmt_cell(name, sizeof(name), h->name[0] != '\0' ?
		    h->name : "(no host)", 20, true);
		dv_put(v, y, 0, warn ? DV_WARN : 0, (long)i == sel,
		    "%c %s %-19s %7.2f %7.2f  %s", (long)i == sel ? '>' : ' ',
		    name, when, r->cpu_usage, r->ram_percentage,
		    h->last.source);
	}
}

static void
dv_draw(struct dashview *v)
{
	const struct dash_host *h = dash_selected(&v->dash);
	int64_t now = tail_now_ms();
	char when[TIMEFMT_SEED_LEN], age[32], spark[DASH_HISTORY * 4 + 1];
	const struct record *r;
	int y;

	erase();
	if (COLS < DASHVIEW_MIN_COLS || LINES < DASHVIEW_MIN_LINES) {
		dv_put(v, 0, 0, DV_ALERT, true, "too small: %dx%d", COLS,
		    LINES);
		dv_put(v, 1, 0, 0, false, "need %dx%d", DASHVIEW_MIN_COLS,
		    DASHVIEW_MIN_LINES);
		refresh();
		return;
	}
	attron(A_REVERSE);
	mvhline(0, 0, ' ', COLS);
	dv_put(v, 0, 1, 0, true, "sm-tail dashboard");
	dv_put(v, 0, COLS - 32, 0, false, "q quit  Tab/arrows: other host");
	attroff(A_REVERSE);
	dv_status(v, 1);
	if (h == NULL) {
		dv_put(v, 3, 0, 0, false, "waiting for rows%s",
		    v->cfg->tail.filter.host != NULL ||
		    v->cfg->tail.filter.source != NULL ||
		    v->cfg->tail.filter.since_ms >= 0 ?
		    " that pass the filters" : "");
		refresh();
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
	dv_sources(v, ++y, now);
	y += 2;
	dv_hosts(v, y);
	refresh();
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

int
dashview_run(const struct dashview_config *cfg)
{
	struct tail_config tc = cfg->tail;
	struct db_config db = *cfg->tail.db;
	struct dashview *v;
	SCREEN *scr;
	int64_t step = (int64_t)(cfg->interval * 1000 + 0.5), next, now;
	int status = SM_EXIT_OK, ch;

	if ((v = calloc(1, sizeof(*v))) == NULL) {
		warnx("out of memory");
		return SM_EXIT_PARTIAL;
	}
	v->cfg = cfg;
	/* a dead server must not freeze the screen for long */
	db.connect_timeout = DASHVIEW_CONNECT_TIMEOUT;
	db.io_timeout = DASHVIEW_IO_TIMEOUT;
	db_describe(&db, v->desc, sizeof(v->desc));
	tc.db = &db;
	tc.follow = true;
	tc.emit = dv_emit;
	tc.bad = dv_bad;
	tc.arg = v;
	if (dash_init(&v->dash, cfg->warn, tail_now_ms()) == -1 ||
	    tail_init(&v->tail, &tc) == -1) {
		warnx("out of memory");
		status = SM_EXIT_PARTIAL;
		goto out_free;
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
	if (step < 1)
		step = 1;
	next = tail_now_ms();
	while (!*cfg->stop) {
		now = tail_now_ms();
		if (now >= next) {
			if (tail_step(&v->tail, now) == TAIL_STEP_FATAL) {
				endwin();
				warnx("%s: %s", v->desc, v->tail.why);
				status = SM_EXIT_USAGE;
				goto out_delscreen;
			}
			next += step;
			now = tail_now_ms();
			if (next < now)
				next = now;
			if (v->tail.m == NULL && v->tail.retry_ms > next)
				next = v->tail.retry_ms;
		}
		dv_draw(v);
		/* wake for the next poll, and at least each second (ages) */
		timeout((int)(next - now > 1000 ? 1000 : next - now));
		ch = getch();
		switch (ch) {
		case 'q':
		case 'Q':
			goto out_endwin;
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
out_endwin:
	endwin();
	if (v->tail.bad_rows > 0)
		warnx("%llu rows could not be read back (NULL values)",
		    v->tail.bad_rows);
out_delscreen:
	delscreen(scr);
out_free:
	tail_free(&v->tail);
	dash_free(&v->dash);
	free(v);
	return status;
}
