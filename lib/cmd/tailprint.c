/*
 * sm-tail's printer (tailprint.h): rows formatted onto stdout, the
 * follower driven by followrun with poll(2) on stdout as its wait.
 */
#include <err.h>
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "clock.h"
#include "exitcode.h"
#include "followrun.h"
#include "schema.h"
#include "tailprint.h"

struct tail_printer {
	struct rowfmt fmt;
	enum rowfmt_kind kind;
	bool tty;
	int err;		/* errno of the first failed write, or 0 */
	struct tail *t;
	const char *desc;	/* the database, for messages */
	volatile sig_atomic_t *stop;
	bool said_down;		/* the outage was said */
	bool out_done;		/* stdout failed or went away: no more */
	int status;
	struct followrun_said said;
	char line[ROWFMT_LINE_MAX];
};

static int
tail_print_emit(const struct rowfmt_row *row, bool history, void *arg)
{
	struct tail_printer *p = arg;
	int n;

	(void)history;
	if ((n = rowfmt_row(&p->fmt, row, p->line, sizeof(p->line))) == -1) {
		warnx("row %llu: cannot format it", row->id);
		return 0;
	}
	if (fwrite(p->line, 1, (size_t)n, stdout) != (size_t)n) {
		/* kept now: by the flush, other calls may have changed it */
		if (p->err == 0)
			p->err = errno != 0 ? errno : EIO;
		return -1;	/* tail_print_flush tells why */
	}
	return 0;
}

static void
tail_print_bad(unsigned long long id, const char *why, void *arg)
{
	(void)arg;
	warnx("row %llu: %s; skipped", id, why);
}

/* Rows a table header covers on this terminal: its height less one. */
static unsigned
tail_screen_rows(void)
{
	struct winsize ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == -1 || ws.ws_row < 3)
		return 23;
	return ws.ws_row - 1;
}

/*
 * Flush stdout: true when no more can be written, the reader gone or an
 * error (said; the status set).  The error is the first failed write's,
 * else the flush's: ferror() alone keeps no errno.
 */
static bool
tail_print_flush(struct tail_printer *p)
{
	int e;

	if (p->out_done)
		return true;
	if (fflush(stdout) != EOF && !ferror(stdout) && p->err == 0)
		return false;
	p->out_done = true;
	e = p->err != 0 ? p->err : errno;
	if (e == EPIPE)
		return true;
	warnx("stdout: %s", strerror(e));
	p->status = SM_EXIT_PARTIAL;
	return true;
}

/*
 * followrun's wait: until when_ms (monotonic) watching stdout; true when
 * stopped or when its reader has gone (a pipe whose reader closed reports
 * POLLERR), so that "sm-tail -f | head" ends without waiting for a row to
 * fail to write.  A signal cuts the wait short; then *stop is set.
 */
static bool
tail_print_wait(void *arg, int64_t when_ms)
{
	struct tail_printer *p = arg;
	struct pollfd pfd = { .fd = STDOUT_FILENO, .events = 0 };
	int64_t left = when_ms - clock_mono_ms();

	if (*p->stop)
		return true;
	if (left < 0)
		left = 0;
	if (poll(&pfd, 1, (int)(left > 3600000 ? 3600000 : left)) == 1 &&
	    (pfd.revents & (POLLERR | POLLHUP)) != 0)
		return true;
	if (*p->stop)
		return true;
	if (p->tty && p->kind == ROWFMT_TABLE)
		p->fmt.header_every = tail_screen_rows();
	return false;
}

/* followrun's stepped: say what changed, flush. */
static bool
tail_print_stepped(void *arg, enum tail_step st)
{
	struct tail_printer *p = arg;
	struct tail_status ts;

	switch (st) {
	case TAIL_STEP_OK:
		if (p->said_down) {
			warnx("%s: connected again", p->desc);
			p->said_down = false;
		}
		followrun_news(p->t, p->desc, &p->said);
		break;
	case TAIL_STEP_DOWN:
		/* a signal cuts a read of the log short: no outage */
		if (!p->said_down && !*p->stop) {
			tail_status(p->t, &ts);
			warnx("%s: %s; reconnecting", p->desc, ts.why);
			p->said_down = true;
		}
		break;
	case TAIL_STEP_STOP:
	case TAIL_STEP_FATAL:
		return true;
	}
	return tail_print_flush(p);
}

/*
 * The first connect and the history: 0 to go on, 1 when done (the status
 * set).
 */
static int
tail_print_start(struct tail_printer *p, const struct tail_config *cfg)
{
	struct tail_status ts;
	struct why why;

	switch (tail_connect(p->t, clock_mono_ms())) {
	case TAIL_STEP_FATAL:
	case TAIL_STEP_DOWN:
		tail_status(p->t, &ts);
		followrun_why(p->t, p->desc, &why);
		if (!cfg->follow || ts.fault == DB_FAULT_CONFIG) {
			warnx("%s", why.msg);
			p->status = ts.fault == DB_FAULT_CONFIG ?
			    SM_EXIT_USAGE : SM_EXIT_UNAVAILABLE;
			return 1;
		}
		warnx("%s; retrying", why.msg);
		p->said_down = true;
		break;
	case TAIL_STEP_STOP:
		tail_print_flush(p);
		return 1;
	case TAIL_STEP_OK:
		tail_status(p->t, &ts);
		if (ts.no_table && !cfg->follow)
			warnx("%s: no table " SCHEMA_TABLE " yet", p->desc);
		break;
	}
	followrun_news(p->t, p->desc, &p->said);
	return tail_print_flush(p) || !cfg->follow;
}

int
tail_print(const struct tail_config *cfg, enum rowfmt_kind kind,
    int64_t interval_ms, volatile sig_atomic_t *stop)
{
	struct tail_config c = *cfg;
	struct tail_printer p;
	struct followrun fr;
	struct why why;
	char desc[512];

	memset(&p, 0, sizeof(p));
	p.kind = kind;
	p.tty = isatty(STDOUT_FILENO);
	p.stop = stop;
	p.desc = desc;
	p.status = SM_EXIT_OK;
	rowfmt_init(&p.fmt, kind, p.tty ? tail_screen_rows() : 0);
	c.emit = tail_print_emit;
	c.bad = tail_print_bad;
	c.arg = &p;
	db_describe(cfg->db, desc, sizeof(desc));
	if ((p.t = tail_new(&c)) == NULL) {
		warnx("out of memory");
		return SM_EXIT_PARTIAL;
	}
	if (tail_print_start(&p, cfg) != 0)
		goto out_free;
	fr = (struct followrun){ .tail = p.t, .desc = desc,
	    .interval_ms = interval_ms,
	    .first_ms = clock_mono_ms() + (interval_ms < 1 ? 1 : interval_ms),
	    .wait = tail_print_wait, .stepped = tail_print_stepped,
	    .arg = &p };
	if (followrun(&fr, &why) != SM_EXIT_OK) {
		warnx("%s", why.msg);
		p.status = SM_EXIT_USAGE;
	}
	tail_print_flush(&p);
out_free:
	tail_free(p.t);
	return p.status;
}
