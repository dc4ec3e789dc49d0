/*
 * Unit tests for lib/feed.c: the ring sm-tail --listen serves from, its
 * SSE clients (cursors, resume, filters, cut-off), the newest row of each
 * host and source, and the JSON and Prometheus renderings.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "feed_impl.h"

static struct rowfmt_row
row(unsigned long long id, const char *host, const char *source,
    int64_t ts_ms, double cpu)
{
	struct rowfmt_row r;

	memset(&r, 0, sizeof(r));
	r.id = id;
	snprintf(r.rec.id, sizeof(r.rec.id), "00000000-0000-7000-8000-%012llu",
	    id);
	snprintf(r.rec.host, sizeof(r.rec.host), "%s", host);
	snprintf(r.source, sizeof(r.source), "%s", source);
	snprintf(r.rec.collector, sizeof(r.rec.collector), "procfs");
	r.rec.ts_ms = ts_ms;
	r.rec.cpu_usage = cpu;
	r.rec.cpu_free = 100 - cpu;
	r.rec.ram_total = 4000;
	r.rec.ram_used = 1000;
	r.rec.ram_free = 2500;
	r.rec.ram_available = 3000;
	r.rec.ram_percentage = 25;
	r.rec.threads = -1;
	return r;
}

static void
add(struct feed *f, unsigned long long id, const char *host,
    const char *source, int64_t ts_ms)
{
	struct rowfmt_row r = row(id, host, source, ts_ms, 10);

	assert_int_equal(feed_add_row(f, &r), 0);
}

/* Everything c has to read now, NUL-terminated, in reads of step bytes. */
static char *
drain(struct feed *f, struct feed_client *c, size_t step)
{
	static char out[1 << 16];
	size_t len = 0;
	long n;

	while ((n = feed_client_read(f, c, out + len, step)) > 0)
		len += (size_t)n;
	out[len] = '\0';
	return out;
}

/* The ids ("id: N") in text, space-separated. */
static const char *
ids(const char *text)
{
	static char out[4096];
	const char *p = text;
	size_t len = 0;

	out[0] = '\0';
	while ((p = strstr(p, "id: ")) != NULL) {
		p += 4;
		len += (size_t)snprintf(out + len, sizeof(out) - len, "%s%lu",
		    len > 0 ? " " : "", strtoul(p, NULL, 10));
	}
	return out;
}

static void
test_preamble_and_new_rows(void **state)
{
	struct feed f;
	struct feed_client *c;
	char *text;

	(void)state;
	assert_int_equal(feed_init(&f, 8, 0, 75), 0);
	assert_int_equal(feed_set_db(&f, true), 0);
	add(&f, 1, "a", "s", 1000);
	c = feed_client_new(&f, NULL, NULL, false, 0, 0);
	assert_non_null(c);
	text = drain(&f, c, 7);		/* small reads: entries split */
	assert_string_equal(text, "retry: 3000\n\nevent: status\ndata: "
	    "{\"database\":\"up\",\"stale_seconds\":0.000,"
	    "\"warn\":75.000}\n\n");
	add(&f, 2, "a", "s", 2000);
	text = drain(&f, c, 7);
	assert_non_null(strstr(text, "id: 2\ndata: {\"id\":"));
	assert_non_null(strstr(text, "\"host\":\"a\""));
	assert_non_null(strstr(text, "}\ndata: {\"source\":\"s\"}\n\n"));
	assert_string_equal(ids(text), "2");
	/* nothing more: 0, and the database going away is an event */
	assert_int_equal(feed_client_read(&f, c, text, 100), 0);
	assert_int_equal(feed_set_db(&f, false), 0);
	assert_non_null(strstr(drain(&f, c, 100), "\"database\":\"down\""));
	feed_ping(&f);
	assert_string_equal(drain(&f, c, 3), ": keepalive\n\n");
	f.ending = true;
	assert_int_equal(feed_client_read(&f, c, text, 100), -2);
	feed_free(&f);
}

static void
test_history_and_filters(void **state)
{
	struct feed f;
	struct feed_client *c;

	(void)state;
	assert_int_equal(feed_init(&f, 16, 0, 75), 0);
	add(&f, 1, "a", "s1", 1000);
	add(&f, 2, "b", "s1", 1000);
	add(&f, 3, "a", "s2", 2000);
	add(&f, 4, "b", "s2", 2000);
	add(&f, 5, "a", "s1", 3000);
	c = feed_client_new(&f, NULL, NULL, false, 0, 2);
	assert_string_equal(ids(drain(&f, c, 1000)), "4 5");
	c = feed_client_new(&f, "a", NULL, false, 0, 2);
	assert_string_equal(ids(drain(&f, c, 1000)), "3 5");
	c = feed_client_new(&f, NULL, "s2", false, 0, 100);
	assert_string_equal(ids(drain(&f, c, 1000)), "3 4");
	add(&f, 6, "b", "s2", 4000);
	add(&f, 7, "a", "s2", 4000);
	assert_string_equal(ids(drain(&f, c, 1000)), "6 7");
	assert_int_equal(f.nclients, 3);
	feed_free(&f);
}

static void
test_resume(void **state)
{
	struct feed f;
	struct feed_client *c;

	(void)state;
	assert_int_equal(feed_init(&f, 4, 0, 75), 0);
	/* commit order, not id order: 2 committed after 3 */
	add(&f, 1, "a", "s", 1000);
	add(&f, 3, "a", "s", 1000);
	add(&f, 2, "a", "s", 1000);
	add(&f, 4, "a", "s", 1000);
	/* the row is in the ring: exactly what came after it, n ignored */
	c = feed_client_new(&f, NULL, NULL, true, 3, 100);
	assert_string_equal(ids(drain(&f, c, 1000)), "2 4");
	c = feed_client_new(&f, NULL, NULL, true, 4, 0);
	assert_string_equal(ids(drain(&f, c, 1000)), "");
	add(&f, 5, "a", "s", 1000);		/* row 1 leaves the ring */
	/* gone from the ring: the ring's rows with higher ids */
	c = feed_client_new(&f, NULL, NULL, true, 1, 0);
	assert_string_equal(ids(drain(&f, c, 1000)), "3 2 4 5");
	c = feed_client_new(&f, NULL, NULL, true, 0, 0);
	assert_string_equal(ids(drain(&f, c, 1000)), "3 2 4 5");
	/* the higher-id rule is for catching up only */
	add(&f, 0, "a", "s", 1000);
	assert_string_equal(ids(drain(&f, c, 1000)), "0");
	feed_free(&f);
}

static void
test_slow_client_cut(void **state)
{
	struct feed f;
	struct feed_client *slow, *quick;
	char buf[64];
	unsigned long long id;

	(void)state;
	assert_int_equal(feed_init(&f, 4, 0, 75), 0);
	slow = feed_client_new(&f, NULL, NULL, false, 0, 0);
	quick = feed_client_new(&f, NULL, NULL, false, 0, 0);
	drain(&f, slow, 1000);
	/* half an entry sent: the rest of it must stay in the ring */
	add(&f, 1, "a", "s", 1000);
	assert_int_equal(feed_client_read(&f, slow, buf, 10), 10);
	for (id = 2; id <= 4; id++) {
		add(&f, id, "a", "s", 1000);
		drain(&f, quick, 1000);
	}
	assert_false(slow->cut);
	add(&f, 5, "a", "s", 1000);	/* overwrites entry 1, half sent */
	assert_true(slow->cut);
	assert_false(quick->cut);
	assert_int_equal(f.cut, 1);
	assert_int_equal(feed_client_read(&f, slow, buf, sizeof(buf)), -1);
	assert_string_equal(ids(drain(&f, quick, 1000)), "5");
	feed_client_free(&f, slow);
	assert_int_equal(f.nclients, 1);
	feed_free(&f);
}

static void
test_rows_json(void **state)
{
	struct feed f;
	char *json;

	(void)state;
	assert_int_equal(feed_init(&f, 3, 0, 75), 0);
	add(&f, 1, "a", "s", 1000);
	add(&f, 2, "b", "s", 2000);
	add(&f, 3, "a", "t", 3000);
	add(&f, 4, "a", "s", 4000);
	json = feed_rows_json(&f, 2, NULL, NULL, -1);
	assert_non_null(strstr(json, "[{\"row\":3,\"source\":\"t\",\"record\":"
	    "{\"id\":\"00000000-0000-7000-8000-000000000003\","));
	assert_null(strstr(json, "\"row\":2"));
	assert_non_null(strstr(json, "},{\"row\":4,"));
	free(json);
	json = feed_rows_json(&f, 10, "a", "s", -1);
	assert_non_null(strstr(json, "\"row\":4"));
	assert_null(strstr(json, "\"row\":3"));
	assert_null(strstr(json, "\"row\":1"));	/* left the ring */
	free(json);
	json = feed_rows_json(&f, 10, NULL, NULL, 3000);
	assert_null(strstr(json, "\"row\":2"));
	assert_non_null(strstr(json, "\"row\":3"));
	free(json);
	json = feed_rows_json(&f, 0, NULL, NULL, -1);
	assert_string_equal(json, "[]");
	free(json);
	feed_free(&f);
}

static void
test_hosts_stale(void **state)
{
	const struct feed_pair *a1, *a2, *b1;
	struct feed f;
	char *json;

	(void)state;
	assert_int_equal(feed_init(&f, 16, 0, 75), 0);
	/* a every 5 s, from two sources in turn: its interval is 5 s */
	add(&f, 1, "a", "s1", 100000);
	add(&f, 2, "a", "s2", 105000);
	add(&f, 3, "a", "s1", 110000);
	add(&f, 4, "a", "s2", 115000);
	/* b once: no interval, stale after the minimum */
	add(&f, 5, "b", "s1", 100000);
	/* late (a hole filled): not the newest */
	add(&f, 6, "a", "s1", 90000);
	assert_int_equal(f.npairs, 3);
	a1 = feed_pair_get(&f, "a", "s1");
	a2 = feed_pair_get(&f, "a", "s2");
	b1 = feed_pair_get(&f, "b", "s1");
	assert_non_null(a1);
	assert_non_null(a2);
	assert_non_null(b1);
	assert_null(feed_pair_get(&f, "b", "s2"));
	assert_int_equal(a1->interval_ms, 5000);
	assert_int_equal(a1->row.id, 3);
	/* a: 3 x 5 s = 15 s after its newest row */
	assert_false(feed_pair_stale(&f, a1, 130000));
	assert_true(feed_pair_stale(&f, a1, 130001));
	assert_true(feed_pair_stale(&f, a2, 130001));	/* the host's */
	/* b: 10 s at least */
	assert_false(feed_pair_stale(&f, b1, 110000));
	assert_true(feed_pair_stale(&f, b1, 110001));
	json = feed_hosts_json(&f, 112000);
	assert_non_null(strstr(json, "\"row\":4,\"source\":\"s2\""));
	/* its clock ahead of ours: age 0, not negative */
	assert_non_null(strstr(json, "\"host\":\"a\",\"ts\":"
	    "\"1970-01-01T00:01:55.000Z\",\"age_seconds\":0.0,"
	    "\"interval_seconds\":5.0,\"stale_after_seconds\":15.0,"
	    "\"stale\":false"));
	assert_non_null(strstr(json, "\"host\":\"b\""));
	assert_non_null(strstr(json, "\"stale_after_seconds\":10.0,"
	    "\"stale\":true"));
	free(json);
	/* seconds to the millisecond, not 50.886000000000003 */
	json = feed_hosts_json(&f, 150886);
	assert_non_null(strstr(json, "\"host\":\"b\",\"ts\":"
	    "\"1970-01-01T00:01:40.000Z\",\"age_seconds\":50.886,"));
	assert_non_null(strstr(json, "\"age_seconds\":35.886,"));
	free(json);
	feed_free(&f);
	/* --stale: one threshold for every host */
	assert_int_equal(feed_init(&f, 16, 2000, 75), 0);
	add(&f, 1, "a", "s1", 100000);
	add(&f, 2, "a", "s1", 200000);
	a1 = feed_pair_get(&f, "a", "s1");
	assert_false(feed_pair_stale(&f, a1, 202000));
	assert_true(feed_pair_stale(&f, a1, 202001));
	feed_free(&f);
}

static void
test_metrics(void **state)
{
	struct feed f;
	char *text;

	(void)state;
	assert_int_equal(feed_init(&f, 16, 0, 75), 0);
	assert_int_equal(feed_set_db(&f, true), 0);
	add(&f, 1, "we\"ird\\host\n", "s", 1000);
	text = feed_metrics_text(&f, 2000);
	assert_non_null(strstr(text, "# TYPE sm_host_cpu_usage_percent gauge\n"
	    "sm_host_cpu_usage_percent{host=\"we\\\"ird\\\\host\\n\","
	    "source=\"s\"} 10\n"));
	assert_non_null(strstr(text, "sm_host_ram_total_bytes{host=\"we\\\""
	    "ird\\\\host\\n\",source=\"s\"} 4194304000\n"));
	assert_non_null(strstr(text, "source=\"s\",state=\"zombie\"} 0\n"));
	assert_non_null(strstr(text, "sm_host_last_seen_timestamp_seconds{"
	    "host=\"we\\\"ird\\\\host\\n\",source=\"s\"} 1\n"));
	assert_non_null(strstr(text, "sm_tail_rows_total 1\n"));
	assert_non_null(strstr(text, "sm_tail_database_up 1\n"));
	/* one HELP and TYPE per family, the states under one */
	assert_null(strstr(strstr(text, "# TYPE sm_host_processes gauge") + 1,
	    "# TYPE sm_host_processes gauge"));
	free(text);
	feed_free(&f);
}

/*
 * Alerts and statuses take no row's place; a client gets them between
 * rows, and is cut once it falls a whole event ring behind.
 */
static void
test_events_apart(void **state)
{
	struct feed f;
	struct feed_client *c;
	char *json, *text;
	int i;

	(void)state;
	assert_int_equal(feed_init(&f, 4, 0, 75), 0);
	c = feed_client_new(&f, NULL, NULL, false, 0, 0);
	drain(&f, c, 1000);
	add(&f, 1, "a", "s", 1000);
	assert_int_equal(feed_add_alert(&f, "{\"x\":1}", 7), 0);
	assert_int_equal(feed_set_db(&f, true), 0);
	add(&f, 2, "a", "s", 1000);
	add(&f, 3, "a", "s", 1000);
	add(&f, 4, "a", "s", 1000);
	json = feed_rows_json(&f, 4, NULL, NULL, -1);
	for (i = 1; i <= 4; i++) {
		char want[32];

		snprintf(want, sizeof(want), "\"row\":%d,", i);
		assert_non_null(strstr(json, want));
	}
	free(json);
	/* in reads of 7 bytes: every row and event whole, none twice */
	text = drain(&f, c, 7);
	assert_string_equal(ids(text), "1 2 3 4");
	assert_non_null(strstr(text, "event: alert\ndata: {\"x\":1}\n\n"));
	assert_non_null(strstr(text, "event: status\n"));
	assert_null(strstr(strstr(text, "event: alert") + 1, "event: alert"));
	for (i = 0; i < FEED_EVENTS; i++)
		assert_int_equal(feed_add_alert(&f, "{}", 2), 0);
	assert_false(c->cut);
	assert_int_equal(feed_add_alert(&f, "{}", 2), 0);
	assert_true(c->cut);
	feed_free(&f);
}

/*
 * The pairs: at most max_pairs, the one heard from least recently
 * dropped for a new one; a pair silent for forget_ms dropped; a pair
 * stale on /metrics by its own row, its host fresh by another source's.
 */
static void
test_pairs_bounded(void **state)
{
	struct feed f;
	char *text;

	(void)state;
	assert_int_equal(feed_init(&f, 16, 2000, 75), 0);
	assert_int_equal(feed_limit(&f, 0, 1000), -1);
	assert_int_equal(feed_limit(&f, 3, 10000), 0);
	assert_int_equal(feed_forget(&f, 0), 0);	/* the clock: 0 */
	add(&f, 1, "vm", "a", 100000);
	add(&f, 2, "vm", "b", 100000);
	add(&f, 3, "x", "a", 100000);
	add(&f, 4, "vm", "a", 105000);	/* heard from again: newest */
	add(&f, 5, "y", "a", 105000);	/* drops vm/b */
	assert_int_equal(f.npairs, 3);
	assert_int_equal(f.evicted_full, 1);
	assert_null(feed_pair_get(&f, "vm", "b"));
	assert_non_null(feed_pair_get(&f, "vm", "a"));
	add(&f, 6, "vm", "b", 105000);	/* back; drops x, the oldest now */
	assert_null(feed_pair_get(&f, "x", "a"));
	assert_int_equal(feed_forget(&f, 5000), 0);
	add(&f, 7, "vm", "a", 108000);	/* heard at 5000 */
	text = feed_metrics_text(&f, 108000);
	assert_non_null(strstr(text,
	    "sm_host_stale{host=\"vm\",source=\"b\"} 1\n"));
	assert_non_null(strstr(text,
	    "sm_host_stale{host=\"vm\",source=\"a\"} 0\n"));
	assert_non_null(strstr(text,
	    "sm_host_age_seconds{host=\"vm\",source=\"b\"} 3\n"));
	assert_non_null(strstr(text, "sm_tail_hosts 3\n"));
	assert_non_null(strstr(text,
	    "sm_tail_hosts_evicted_total{reason=\"full\"} 2\n"));
	free(text);
	/* forget: by when rows came, not their sample times */
	assert_int_equal(feed_forget(&f, 10000), 0);	/* not more */
	assert_int_equal(feed_forget(&f, 11001), 2);	/* y/a, vm/b */
	assert_int_equal(f.npairs, 1);
	assert_int_equal(feed_forget(&f, 11500), 0);	/* once a second */
	assert_int_equal(f.evicted_silent, 2);
	assert_non_null(feed_pair_get(&f, "vm", "a"));
	assert_int_equal(feed_forget(&f, 16001), 1);
	assert_int_equal(f.npairs, 0);
	text = feed_hosts_json(&f, 200000);
	assert_string_equal(text, "[]");
	free(text);
	feed_free(&f);
}

/* One escaping for every label: /metrics' hosts and /alerts' rules. */
static void
test_label(void **state)
{
	char *text = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);

	(void)state;
	assert_non_null(out);
	feed_label(out, "a\"b\\c\nd");
	fclose(out);
	assert_string_equal(text, "a\\\"b\\\\c\\nd");
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_preamble_and_new_rows),
		cmocka_unit_test(test_history_and_filters),
		cmocka_unit_test(test_resume),
		cmocka_unit_test(test_slow_client_cut),
		cmocka_unit_test(test_rows_json),
		cmocka_unit_test(test_hosts_stale),
		cmocka_unit_test(test_metrics),
		cmocka_unit_test(test_events_apart),
		cmocka_unit_test(test_pairs_bounded),
		cmocka_unit_test(test_label),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
