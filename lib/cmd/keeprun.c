/*
 * sm-keep's body (keeprun.h): one pass, or passes every interval, each on
 * a connection kept between passes and made again when it fails.
 */
#include <err.h>
#include <time.h>

#include "backoff.h"
#include "clock.h"
#include "exitcode.h"
#include "keeprun.h"
#include "timefmt.h"

/* Sleep up to ms on the monotonic clock, or until stopped. */
static void
keeprun_sleep(volatile const sig_atomic_t *stop, int64_t ms)
{
	int64_t end = clock_mono_ms() + ms, left;
	struct timespec ts;

	while (*stop == 0 && (left = end - clock_mono_ms()) > 0) {
		if (left > 200)
			left = 200;
		ts.tv_sec = left / 1000;
		ts.tv_nsec = (long)(left % 1000) * 1000000;
		nanosleep(&ts, NULL);
	}
}

/* What retention by size did, in the words of keeprun_report. */
static void
keeprun_report_size(const struct keeprun_config *c,
    const struct keepsize_stats *sz)
{
	if (sz->parts_busy)
		warnx("the table stayed locked (a long transaction on it?): "
		    "days over --raw-size are dropped on the next pass");
	if (sz->parts_dropped > 0)
		warnx("dropped %llu daily partitions over --raw-size (about "
		    "%llu rows, %llu MiB) in %lld ms", sz->parts_dropped,
		    sz->parts_rows, sz->parts_bytes >> 20,
		    (long long)sz->drop_ms);
	if (sz->today_over)
		warnx("today's partition and those ahead alone are over "
		    "--raw-size: they go once their days are past");
	if (sz->held)
		warnx("raw rows over --raw-size are kept until rolled up");
	if (sz->newest_held)
		warnx("the day over --raw-size that holds the newest id stays "
		    "until a newer row is stored (dropping it would hand its "
		    "ids out again)");
	if (!c->verbose && sz->deleted[TIER_RAW] == 0 &&
	    sz->deleted[TIER_1M] == 0 && sz->deleted[TIER_1H] == 0)
		return;
	if (c->size.limit[TIER_RAW] == 0 && c->size.limit[TIER_1M] == 0 &&
	    c->size.limit[TIER_1H] == 0)
		return;
	warnx("deleted by size %llu raw rows, %llu minute and %llu hour "
	    "buckets in %llu statements (about %llu, %llu and %llu KiB)",
	    sz->deleted[TIER_RAW], sz->deleted[TIER_1M],
	    sz->deleted[TIER_1H], sz->statements[TIER_RAW] +
	    sz->statements[TIER_1M] + sz->statements[TIER_1H],
	    sz->freed[TIER_RAW] >> 10,
	    sz->freed[TIER_1M] >> 10, sz->freed[TIER_1H] >> 10);
}

static void
keeprun_report(const struct keeprun_config *c, const struct keep_stats *st)
{
	if (st->restarted)
		warnx("the table's ids started again (TRUNCATE, or DROP and "
		    "CREATE): rolling up its rows from the first");
	if (st->parts_busy)
		warnx("the table stayed locked (a long transaction on it?): "
		    "its partitions are changed on the next pass");
	if (st->parts_made > 0 || st->parts_dropped > 0)
		warnx("made %llu daily partitions ahead; dropped %llu past "
		    "retention (about %llu rows) in %lld ms", st->parts_made,
		    st->parts_dropped, st->parts_rows,
		    (long long)st->drop_ms);
	if (!c->verbose && st->rows == 0 && st->deleted[TIER_RAW] == 0 &&
	    st->deleted[TIER_1M] == 0 && st->deleted[TIER_1H] == 0 &&
	    st->alerts_deleted == 0)
		return;
	warnx("rolled up %llu rows into %llu minute buckets (to id %llu); "
	    "deleted %llu raw rows, %llu minute and %llu hour buckets, "
	    "%llu alert events",
	    st->rows, st->buckets[TIER_1M], st->rolled_id,
	    st->deleted[TIER_RAW], st->deleted[TIER_1M],
	    st->deleted[TIER_1H], st->alerts_deleted);
}

/* One pass on m: SM_EXIT_OK, or the fault with the reason in why. */
static enum db_fault
keeprun_pass(const struct keeprun_config *c, MYSQL *m, struct why *why)
{
	struct keepsize_stats sz = { 0 };
	struct keep_stats st = { 0 };
	enum db_fault f;

	f = keep_rollup(m, &c->keep, c->stop, &st, why);
	if (f == DB_FAULT_NONE && *c->stop == 0)
		f = keep_retain(m, &c->keep, timefmt_now_ms(), c->stop, &st,
		    why);
	if (f == DB_FAULT_NONE && *c->stop == 0)
		f = keepsize_retain(m, &c->size, timefmt_now_ms(), c->stop,
		    &sz, why);
	keeprun_report(c, &st);
	keeprun_report_size(c, &sz);
	return f;
}

int
keeprun(const struct keeprun_config *c)
{
	struct backoff bo;
	enum db_fault f = DB_FAULT_NONE;
	MYSQL *m = NULL;
	struct why why;
	char desc[512];
	unsigned round = 0;
	int64_t next;

	db_describe(c->db, desc, sizeof(desc));
	backoff_init(&bo, 500, 30000, 0);
	while (*c->stop == 0) {
		next = clock_mono_ms() + c->interval_ms;
		if (m == NULL && ((m = db_connect(c->db, &why, &f)) == NULL ||
		    (f = keep_prepare(m, &why)) != DB_FAULT_NONE))
			goto failed;
		if ((f = keeprun_pass(c, m, &why)) != DB_FAULT_NONE)
			goto failed;
		round = 0;
		if (!c->follow)
			break;
		keeprun_sleep(c->stop, next - clock_mono_ms());
		continue;
failed:
		warnx("%s: %s", desc, why.msg);
		if (m != NULL)
			mysql_close(m);
		m = NULL;
		if (f == DB_FAULT_CONFIG || f == DB_FAULT_DATA || !c->follow)
			break;
		keeprun_sleep(c->stop, backoff_delay_ms(&bo, round++));
		f = DB_FAULT_NONE;
	}
	if (m != NULL)
		mysql_close(m);
	switch (f) {
	case DB_FAULT_NONE:
		return SM_EXIT_OK;
	case DB_FAULT_CONFIG:
		return SM_EXIT_USAGE;
	default:
		return SM_EXIT_UNAVAILABLE;
	}
}
