/*
 * Unit tests for lib/dash.c (what the dashboard shows) and the filters of
 * lib/tail.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "dash.h"
#include "tail_impl.h"

static struct rowfmt_row
row(unsigned long long id, const char *host, const char *source,
    int64_t ts_ms, double cpu, double ram)
{
	struct rowfmt_row r;

	memset(&r, 0, sizeof(r));
	r.id = id;
	snprintf(r.rec.host, sizeof(r.rec.host), "%s", host);
	snprintf(r.source, sizeof(r.source), "%s", source);
	r.rec.ts_ms = ts_ms;
	r.rec.cpu_usage = cpu;
	r.rec.cpu_free = 100 - cpu;
	r.rec.ram_percentage = ram;
	r.rec.threads = -1;
	return r;
}

static void
add(struct dash *d, struct rowfmt_row r, bool live, int64_t now)
{
	dash_add(d, &r, live, now);
}

static void
test_hosts_and_selection(void **state)
{
	struct dash d;
	const struct dash_host *h;

	(void)state;
	assert_int_equal(dash_init(&d, 75, 0), 0);
	assert_null(dash_selected(&d));
	assert_int_equal(dash_selected_index(&d), -1);
	/* the history: the host of its newest row is shown */
	add(&d, row(1, "b", "s1", 1000, 10, 20), false, 0);
	add(&d, row(2, "a", "s1", 1000, 11, 21), false, 0);
	add(&d, row(3, "b", "s1", 2000, 12, 22), false, 0);
	assert_int_equal(d.nhosts, 2);
	assert_string_equal(d.hosts[0].name, "a");
	assert_string_equal(d.hosts[1].name, "b");
	h = dash_selected(&d);
	assert_non_null(h);
	assert_string_equal(h->name, "b");
	assert_int_equal(h->last.id, 3);
	assert_int_equal(h->nhist, 2);
	/* live rows do not move the view */
	add(&d, row(4, "a", "s2", 3000, 13, 23), true, 10);
	add(&d, row(5, "c", "s2", 3000, 13, 23), true, 10);
	assert_string_equal(dash_selected(&d)->name, "b");
	/* a row filling a hole is older: it is history, not the newest */
	add(&d, row(6, "b", "s1", 1500, 99, 99), true, 10);
	h = dash_selected(&d);
	assert_int_equal(h->last.id, 3);
	assert_int_equal(h->nhist, 3);
	/* the user picks another, in name order, round */
	dash_select(&d, 1);
	assert_string_equal(dash_selected(&d)->name, "c");
	dash_select(&d, 1);
	assert_string_equal(dash_selected(&d)->name, "a");
	dash_select(&d, -1);
	assert_string_equal(dash_selected(&d)->name, "c");
	assert_int_equal(dash_selected_index(&d), 2);
	/* rows without a host are a host of their own */
	add(&d, row(7, "", "s1", 4000, 1, 2), true, 10);
	assert_int_equal(d.nhosts, 4);
	assert_string_equal(d.hosts[0].name, "");
	assert_string_equal(dash_selected(&d)->name, "c");
	dash_free(&d);
}

static void
test_live_selects_first(void **state)
{
	struct dash d;

	(void)state;
	assert_int_equal(dash_init(&d, 75, 0), 0);
	add(&d, row(1, "x", "s", 1000, 10, 20), true, 5);
	assert_string_equal(dash_selected(&d)->name, "x");
	add(&d, row(2, "y", "s", 2000, 10, 20), true, 5);
	assert_string_equal(dash_selected(&d)->name, "x");
	dash_free(&d);
}

static void
test_host_bound(void **state)
{
	char name[16];
	struct dash d;
	int i;

	(void)state;
	assert_int_equal(dash_init(&d, 75, 0), 0);
	add(&d, row(1, "shown", "s", 0, 1, 1), true, 0);
	for (i = 0; i < DASH_HOSTS + 10; i++) {
		snprintf(name, sizeof(name), "h%03d", i);
		add(&d, row((unsigned long long)i + 2, name, "s", 0, 1, 1),
		    true, 1000 + i);
	}
	assert_int_equal(d.nhosts, DASH_HOSTS);
	/* the idle ones went, never the one on show */
	assert_string_equal(dash_selected(&d)->name, "shown");
	assert_string_equal(d.hosts[0].name, "h011");
	assert_string_equal(d.hosts[DASH_HOSTS - 2].name, "h073");
	dash_free(&d);
}

static void
test_rate_and_shares(void **state)
{
	struct dash_share sh[DASH_SOURCES + 1];
	struct dash d;
	int i;

	(void)state;
	assert_int_equal(dash_init(&d, 75, 100000), 0);
	/* history counts for neither */
	for (i = 0; i < 50; i++)
		add(&d, row((unsigned long long)i, "h", "old", 0, 1, 1), false,
		    100000);
	assert_int_equal(dash_shares(&d, 100000, sh, DASH_SOURCES + 1), 0);
	/* 30 rows a second for 4 s: 2 of "a" to 1 of "b" */
	for (i = 0; i < 120; i++)
		add(&d, row(100 + (unsigned long long)i, "h", i % 3 ? "a" : "b",
		    0, 1, 1), true, 101000 + i * 4000 / 120);
	/* whole seconds 101-104 over 5 s since the start (100) */
	assert_true(dash_rate(&d, 105500) > 23.9 &&
	    dash_rate(&d, 105500) < 24.1);
	/* after 10 s the window is 10 s */
	assert_true(dash_rate(&d, 110500) > 11.9 &&
	    dash_rate(&d, 110500) < 12.1);
	assert_int_equal(dash_shares(&d, 105000, sh, DASH_SOURCES + 1), 2);
	assert_string_equal(sh[0].source, "a");
	assert_int_equal(sh[0].rows, 80);
	assert_true(sh[0].percent > 66.6 && sh[0].percent < 66.7);
	assert_string_equal(sh[1].source, "b");
	assert_int_equal(sh[1].rows, 40);
	/* max entries */
	assert_int_equal(dash_shares(&d, 105000, sh, 1), 1);
	/* a minute later they have aged out */
	assert_int_equal(dash_shares(&d, 165000, sh, DASH_SOURCES + 1), 0);
	assert_true(dash_rate(&d, 165000) == 0);
	dash_free(&d);
}

static void
test_many_sources(void **state)
{
	struct dash_share sh[DASH_SOURCES + 1];
	char name[16];
	struct dash d;
	int i;

	(void)state;
	assert_int_equal(dash_init(&d, 75, 0), 0);
	for (i = 0; i < DASH_SOURCES + 3; i++) {
		snprintf(name, sizeof(name), "s%02d", i);
		add(&d, row((unsigned long long)i, "h", name, 0, 1, 1), true,
		    500);
	}
	assert_int_equal(dash_shares(&d, 900, sh, DASH_SOURCES + 1),
	    DASH_SOURCES + 1);
	/* the most rows first: the sources past the bound, together */
	assert_string_equal(sh[0].source, DASH_OTHER);
	assert_int_equal(sh[0].rows, 3);
	assert_string_equal(sh[1].source, "s00");
	dash_free(&d);
}

static void
test_warn(void **state)
{
	struct dash d;

	(void)state;
	assert_int_equal(dash_init(&d, 75, 0), 0);
	assert_false(dash_warns(&d, 75));
	assert_true(dash_warns(&d, 75.01));
	assert_false(dash_warns(&d, 0));
	dash_free(&d);
}

static void
test_spark(void **state)
{
	float ring[DASH_HISTORY];
	char out[DASH_HISTORY * 4 + 1];
	size_t i;

	(void)state;
	memset(ring, 0, sizeof(ring));
	ring[0] = 0;
	ring[1] = 50;
	ring[2] = 100;
	ring[3] = 120;	/* clamped */
	/* 4 samples, next slot 4; 6 cells: 2 blanks, oldest on the left */
	assert_int_equal(dash_spark(ring, 4, 4, 6, false, out, sizeof(out)),
	    6);
	assert_string_equal(out, "  _=##");
	dash_spark(ring, 4, 4, 3, false, out, sizeof(out));
	assert_string_equal(out, "=##");
	dash_spark(ring, 4, 4, 2, true, out, sizeof(out));
	assert_string_equal(out, "\u2588\u2588");
	dash_spark(ring, 4, 4, 4, true, out, sizeof(out));
	assert_string_equal(out, "\u2581\u2585\u2588\u2588");
	/* a full ring wraps: the newest is just before head */
	for (i = 0; i < DASH_HISTORY; i++)
		ring[i] = (float)(i == 9 ? 100 : 0);
	dash_spark(ring, DASH_HISTORY, 10, 3, false, out, sizeof(out));
	assert_string_equal(out, "__#");
	dash_spark(ring, DASH_HISTORY, 0, 2, false, out, sizeof(out));
	assert_string_equal(out, "__");
	/* never past the buffer */
	assert_int_equal(dash_spark(ring, 4, 4, 10, true, out, 8), 6);
}

/* stale by the page's rule: 3 of its usual intervals, 10 s at least */
static void
test_stale(void **state)
{
	const struct dash_host *a, *b;
	struct dash d;
	int i;

	(void)state;
	assert_int_equal(dash_init(&d, 75, 0), 0);
	/* a every 5 s: stale 15 s after its newest row */
	for (i = 0; i < 4; i++)
		add(&d, row(i + 1, "a", "s", 100000 + 5000 * i, 1, 1), true, 0);
	/* b once: no interval yet, so 10 s; its late row is no gap */
	add(&d, row(9, "b", "s", 100000, 1, 1), true, 0);
	add(&d, row(10, "b", "s", 90000, 1, 1), true, 0);
	a = &d.hosts[0];
	b = &d.hosts[1];
	assert_int_equal(a->interval_ms, 5000);
	assert_int_equal(dash_stale_after(a), 15000);
	assert_false(dash_stale(a, 130000));
	assert_true(dash_stale(a, 130001));
	assert_int_equal(b->interval_ms, 0);
	assert_int_equal(dash_stale_after(b), 10000);
	assert_false(dash_stale(b, 110000));
	assert_true(dash_stale(b, 110001));
	/* a host silent for 3 minutes, every 10 s before: stale */
	add(&d, row(11, "c", "s", 1000000, 1, 1), true, 0);
	add(&d, row(12, "c", "s", 1010000, 1, 1), true, 0);
	assert_true(dash_stale(&d.hosts[2], 1010000 + 180000));
	assert_false(dash_stale(&d.hosts[2], 1010000 + 30000));
	/* the interval: a moving average; an hour's gap is an outage */
	add(&d, row(13, "c", "s", 1030000, 1, 1), true, 0);
	assert_int_equal(d.hosts[2].interval_ms, (3 * 10000 + 20000) / 4);
	add(&d, row(14, "c", "s", 1030000 + 3600001, 1, 1), true, 0);
	assert_int_equal(d.hosts[2].interval_ms, (3 * 10000 + 20000) / 4);
	dash_free(&d);
}

/* the sparkline's span: the times of the samples it shows */
static void
test_spark_span(void **state)
{
	const struct dash_host *h;
	struct dash d;
	int64_t oldest;
	int i;

	(void)state;
	assert_int_equal(dash_init(&d, 75, 0), 0);
	add(&d, row(1, "a", "s", 100000, 1, 1), true, 0);
	h = &d.hosts[0];
	assert_int_equal(dash_spark_span(h, 50, &oldest), 0);
	assert_int_equal(oldest, 100000);
	for (i = 1; i < 300; i++)
		add(&d, row(i + 1, "a", "s", 100000 + 10000 * i, 1, 1), true,
		    0);
	assert_int_equal(h->nhist, DASH_HISTORY);
	/* 50 cells: the last 50 samples, 49 gaps of 10 s */
	assert_int_equal(dash_spark_span(h, 50, &oldest), 490000);
	assert_int_equal(oldest, 100000 + 10000 * 250);
	/* wider than the history: all 240 held */
	assert_int_equal(dash_spark_span(h, 1000, &oldest), 239 * 10000);
	/* a row filling a hole, arriving last: still oldest to newest */
	add(&d, row(400, "a", "s", 100000, 1, 1), true, 0);
	assert_int_equal(dash_spark_span(h, 3, &oldest), 10000 * 299);
	assert_int_equal(oldest, 100000);
	dash_free(&d);
}

static void
test_filter(void **state)
{
	struct tail_filter f = { NULL, NULL, -1, -1 };
	struct rowfmt_row r = row(1, "web-1", "python_api", 5000, 1, 1);

	(void)state;
	assert_true(tail_filter_match(&f, &r));
	f.host = "web-1";
	assert_true(tail_filter_match(&f, &r));
	f.host = "WEB-1";	/* exact, as the SQL of the history */
	assert_false(tail_filter_match(&f, &r));
	f.host = "web-1";
	f.source = "python_api";
	assert_true(tail_filter_match(&f, &r));
	f.source = "nodejs_api1";
	assert_false(tail_filter_match(&f, &r));
	f.source = NULL;
	f.since_ms = 5000;
	assert_true(tail_filter_match(&f, &r));
	f.since_ms = 5001;
	assert_false(tail_filter_match(&f, &r));
	/* until: before it, not at it */
	f.since_ms = -1;
	f.until_ms = 5001;
	assert_true(tail_filter_match(&f, &r));
	f.until_ms = 5000;
	assert_false(tail_filter_match(&f, &r));
	f.until_ms = -1;
	/* no host never matches a host */
	r.rec.host[0] = '\0';
	f.since_ms = -1;
	assert_false(tail_filter_match(&f, &r));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hosts_and_selection),
		cmocka_unit_test(test_live_selects_first),
		cmocka_unit_test(test_host_bound),
		cmocka_unit_test(test_rate_and_shares),
		cmocka_unit_test(test_many_sources),
		cmocka_unit_test(test_warn),
		cmocka_unit_test(test_spark),
		cmocka_unit_test(test_stale),
		cmocka_unit_test(test_spark_span),
		cmocka_unit_test(test_filter),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
