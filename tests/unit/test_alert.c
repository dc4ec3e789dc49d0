/* Unit tests for lib/alert.c: the rule parser, the engine on given times. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "alert.h"

#define T0 1796000000.0		/* a time in 2026, seconds */
#define LISTING ((void *)1)

struct seen {
	char rule[ALERT_RULE_TEXT_MAX];
	char host[RECORD_HOST_MAX + 1];
	bool firing, has_value;
	double value;
	int64_t ts_ms, since_ms;
};

static struct seen seen[1024];
static size_t nseen;

static void
collect(const struct alert_event *ev, void *arg)
{
	struct seen *s;

	assert_true(nseen < sizeof(seen) / sizeof(seen[0]));
	/* events have ids; alert_firing's listing (arg LISTING) has none */
	if (arg == NULL)
		assert_true(uuid_is_valid(ev->id));
	else
		assert_string_equal(ev->id, "");
	s = &seen[nseen++];
	snprintf(s->rule, sizeof(s->rule), "%s", ev->rule);
	snprintf(s->host, sizeof(s->host), "%s", ev->host);
	s->firing = ev->firing;
	s->has_value = ev->has_value;
	s->value = ev->value;
	s->ts_ms = ev->ts_ms;
	s->since_ms = ev->since_ms;
}

static int
reset(void **state)
{
	(void)state;
	nseen = 0;
	return 0;
}

static void
rec_init(struct record *r, const char *host, double cpu)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->host, sizeof(r->host), "%s", host);
	r->cpu_usage = cpu;
	r->cpu_free = 100 - cpu;
	r->ram_total = 1000;
	r->ram_used = 500;
	r->ram_percentage = 50;
	r->zombie_processes = 0;
	r->threads = -1;
}

static struct alert_engine *
engine(const char *const *texts)
{
	struct alert_rule rules[8];
	struct alert_engine *e;
	struct why why;
	size_t n;

	for (n = 0; texts[n] != NULL; n++)
		assert_int_equal(alert_rule_parse(texts[n], &rules[n], &why),
		    0);
	e = alert_new(rules, n, collect, NULL);
	assert_non_null(e);
	return e;
}

static int64_t
ms(double t)
{
	return (int64_t)((T0 + t) * 1000);
}

/* t seconds after T0 on both of the engine's clocks */
static struct alert_time
at(double t)
{
	return alert_at(ms(t));
}

static void
feed(struct alert_engine *e, const char *host, double cpu, double t)
{
	struct record r;

	rec_init(&r, host, cpu);
	assert_int_equal(alert_feed(e, &r, at(t)), 0);
}

static void
test_parse_good(void **state)
{
	static const struct {
		const char *in, *text;
		int64_t for_ms;
	} cases[] = {
		{ "cpu_usage > 90", "cpu_usage > 90", 0 },
		{ "  cpu_usage>90.50  ", "cpu_usage > 90.5", 0 },
		{ "porcentaje_cpu_uso >= 85 for 30s", "cpu_usage >= 85 for 30s",
		    30000 },
		{ "ram_percentage<=1e1 for 300", "ram_percentage <= 10 for 5m",
		    300000 },
		{ "procesos_zombies == 0", "zombie_processes == 0", 0 },
		{ "zombie_processes != -1 for 1.5s",
		    "zombie_processes != -1 for 1500ms", 1500 },
		{ "total_ram < 4096 for 2h", "ram_total < 4096 for 2h",
		    7200000 },
		{ "threads > 0 for 0s", "threads > 0", 0 },
		{ "cpu_usage > 0.1 for 250ms", "cpu_usage > 0.1 for 250ms",
		    250 },
		{ "stale for 60", "stale for 1m", 60000 },
		{ "stale for 90s", "stale for 90s", 90000 },
		/* blanks between the parts are optional (sm-alert(1)) */
		{ "cpu_usage>90 for 2 s", "cpu_usage > 90 for 2s", 2000 },
		{ "cpu_usage>90 for2s", "cpu_usage > 90 for 2s", 2000 },
		{ "cpu_usage>90for2s", "cpu_usage > 90 for 2s", 2000 },
		{ "cpu_usage>90for.5m", "cpu_usage > 90 for 30s", 30000 },
		{ "cpu_usage\t>=\t90\tfor\t5\tm", "cpu_usage >= 90 for 5m",
		    300000 },
		{ "stale for 90 ms", "stale for 90ms", 90 },
		{ "stale for5m", "stale for 5m", 300000 },
	};
	struct alert_rule r;
	struct why why;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (alert_rule_parse(cases[i].in, &r, &why) != 0)
			fail_msg("\"%s\": %s", cases[i].in, why.msg);
		assert_string_equal(r.text, cases[i].text);
		assert_int_equal(r.for_ms, cases[i].for_ms);
	}
	assert_int_equal(alert_rule_parse("stale for 5m", &r, &why), 0);
	assert_int_equal(r.kind, ALERT_STALE);
	assert_int_equal(alert_rule_parse("cpu_free < 5", &r, &why), 0);
	assert_int_equal(r.kind, ALERT_THRESHOLD);
	assert_int_equal(r.op, ALERT_LT);
	assert_true(r.threshold == 5);
}

static void
test_parse_bad(void **state)
{
	static const struct {
		const char *in, *why;
	} cases[] = {
		{ "", "want a field name" },
		{ "cpu > 90",
		    "unknown field \"cpu\" (want one of cpu_usage, " },
		{ "host > 1", "unknown field \"host\"" },
		{ "ts > 1", "unknown field \"ts\"" },
		{ "cpu_usage 90", "want >, >=, <, <=, == or != at \"90\"" },
		{ "cpu_usage => 90", "want >, >=" },
		{ "cpu_usage > ", "want a number at \"\"" },
		{ "cpu_usage > ninety", "want a number at \"ninety\"" },
		{ "cpu_usage > nan", "want a number" },
		{ "cpu_usage > inf", "want a number" },
		{ "cpu_usage > 0x10", "want a number" },
		{ "cpu_usage > 1e999", "want a number" },
		{ "cpu_usage > 90 during 5s",
		    "want the end or \"for DURATION\" "
		    "at \"during 5s\"" },
		{ "cpu_usage > 90 for", "want the end or \"for DURATION\"" },
		{ "cpu_usage > 90 for -5s", "want a duration" },
		{ "cpu_usage > 90 for 5 days", "want a duration (30s, 5m, 1h, "
		    "500ms; up to 30 days, whole ms) at \"5 days\"" },
		{ "cpu_usage > 90 for 5 s s", "unexpected \"s\"" },
		{ "cpu_usage > 90 fortnight", "want the end or \"for "
		    "DURATION\" at \"fortnight\"" },
		{ "cpu_usage > 90 for_5s", "at \"for_5s\"" },
		/* the whole word, UTF-8 and all; control bytes escaped */
		{ "cp\xc3\xba_usage > 1",
		    "unknown field \"cp\xc3\xba_usage\" (want" },
		{ "cpu\x1b[2J>1", "unknown field \"cpu\\x1b[2J\" (want" },
		{ "cpu\xff_usage > 1", "unknown field \"cpu\\xff_usage\"" },
		{ "cpu_usage > \x7f", "want a number at \"\\x7f\"" },
		{ "cpu_usage \"> 1", "want >, >=, <, <=, == or != at "
		    "\"\\\"> 1\"" },
		{ "cpu_usage > 1 for 5s \r", "unexpected \"\\x0d\"" },
		{ "a123456789b123456789c123456789d123456789e123456789f123456789"
		    "g123456789 > 1", "\"a123456789b123456789c123456789d1234567"
		    "89e123456789f123456789g12...\": not a field name" },
		{ "cpu_usage > 90 for 5d", "want a duration" },
		{ "cpu_usage > 90 for 31h 1m", "unexpected \"1m\"" },
		{ "cpu_usage > 90 for 800h", "want a duration" },
		{ "cpu_usage > 90 for 0.5ms", "want a duration" },
		{ "stale", "want \"for DURATION\"" },
		{ "stale for 0s", "a stale rule needs a duration above 0" },
		{ "stale > 5", "want \"for DURATION\" at \"> 5\"" },
		{ "9lives > 1", "not a field name" },
	};
	struct alert_rule r;
	struct why why;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (alert_rule_parse(cases[i].in, &r, &why) != -1)
			fail_msg("\"%s\" parsed", cases[i].in);
		if (strstr(why.msg, cases[i].why) == NULL)
			fail_msg("\"%s\": \"%s\" lacks \"%s\"", cases[i].in,
			    why.msg, cases[i].why);
	}
}

/* a threshold the field's range never crosses: a warning, not an error */
static void
test_check(void **state)
{
	static const struct {
		const char *in, *why;	/* why NULL: can hold and not */
	} cases[] = {
		{ "cpu_usage > 150", "never fires: cpu_usage is a percentage, "
		    "0 to 100" },
		{ "cpu_usage > 100", "never fires" },
		{ "cpu_usage >= 100", NULL },
		{ "cpu_usage >= 100.5", "never fires" },
		{ "cpu_usage > 99.9", NULL },
		{ "ram_percentage < 0", "never fires" },
		{ "ram_percentage <= 0", NULL },
		{ "cpu_free == 101", "never fires" },
		{ "cpu_free == 100", NULL },
		{ "cpu_usage >= 0", "fires for every record: cpu_usage is a "
		    "percentage, 0 to 100" },
		{ "cpu_usage > -1", "fires for every record" },
		{ "cpu_usage > 0", NULL },
		{ "cpu_usage <= 100", "fires for every record" },
		{ "cpu_usage < 100", NULL },
		{ "cpu_usage != 150", "fires for every record" },
		{ "cpu_usage != 50", NULL },
		{ "zombie_processes < 0", "never fires: zombie_processes is "
		    "never below 0" },
		{ "zombie_processes >= 0", "fires for every record" },
		{ "zombie_processes != -1", "fires for every record" },
		{ "ram_total > 1e12", NULL },	/* no upper bound */
		{ "zombie_processes > 0", NULL },
		{ "stale for 1m", NULL },
	};
	struct alert_rule r;
	struct why why;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(alert_rule_parse(cases[i].in, &r, &why), 0);
		if (cases[i].why == NULL) {
			if (alert_rule_check(&r, &why) != 0)
				fail_msg("\"%s\": %s", cases[i].in, why.msg);
			continue;
		}
		if (alert_rule_check(&r, &why) != -1)
			fail_msg("\"%s\": no warning", cases[i].in);
		if (strstr(why.msg, cases[i].why) == NULL)
			fail_msg("\"%s\": \"%s\" lacks \"%s\"", cases[i].in,
			    why.msg, cases[i].why);
	}
}

static void
test_ruleset(void **state)
{
	struct alert_ruleset *set = test_calloc(1, sizeof(*set));
	char path[] = "/tmp/test_alert.XXXXXX";
	struct why why;
	FILE *f;
	int fd;

	(void)state;
	assert_int_equal(alert_ruleset_add(set, "cpu_usage > 90", &why), 0);
	assert_int_equal(alert_ruleset_add(set, "porcentaje_cpu_uso>90", &why),
	    -1);
	assert_non_null(strstr(why.msg, "given twice"));
	assert_int_equal(alert_ruleset_add(set, "stale for 1m", &why), 0);
	assert_int_equal(alert_ruleset_add(set, "stale for 2m", &why), -1);
	assert_non_null(strstr(why.msg, "a second stale rule"));
	assert_int_equal(set->n, 2);

	assert_true((fd = mkstemp(path)) >= 0);
	assert_non_null(f = fdopen(fd, "w"));
	fputs("# thresholds\n\n  ram_percentage >= 85 for 1m  # memory\r\n"
	    "zombie_processes > 0\n", f);
	fclose(f);
	assert_int_equal(alert_ruleset_load(set, path, &why), 0);
	assert_int_equal(set->n, 4);
	assert_string_equal(set->rules[2].text, "ram_percentage >= 85 for 1m");
	assert_string_equal(set->rules[3].text, "zombie_processes > 0");
	assert_non_null(f = fopen(path, "w"));
	fputs("cpu_free < 1\n# fine so far\ncpu_usage > lots\n", f);
	fclose(f);
	assert_int_equal(alert_ruleset_load(set, path, &why), -1);
	assert_string_equal(why.msg, "line 3: \"cpu_usage > lots\": want a "
	    "number at \"lots\"");
	unlink(path);
	assert_int_equal(alert_ruleset_load(set, path, &why), -1);
	assert_non_null(strstr(why.msg, "No such file"));
	test_free(set);
}

/*
 * Held for its duration: fires once (at the record that completes it),
 * resolves once.
 */
static void
test_held_fires_once(void **state)
{
	static const char *const rules[] = { "cpu_usage > 90 for 30s", NULL };
	struct alert_engine *e = engine(rules);
	double t;

	(void)state;
	feed(e, "a", 50, 0);
	for (t = 10; t <= 60; t += 10)
		feed(e, "a", 95 + t / 10, t);
	/* from 10 s on it holds: at 40 s it held 30 s */
	assert_int_equal(nseen, 1);
	assert_true(seen[0].firing);
	assert_string_equal(seen[0].rule, "cpu_usage > 90 for 30s");
	assert_string_equal(seen[0].host, "a");
	assert_int_equal(seen[0].ts_ms, ms(40));
	assert_int_equal(seen[0].since_ms, ms(10));
	assert_true(seen[0].has_value);
	assert_true(seen[0].value == 99);
	feed(e, "a", 90, 70);	/* not above 90: resolves */
	feed(e, "a", 20, 80);
	assert_int_equal(nseen, 2);
	assert_false(seen[1].firing);
	assert_int_equal(seen[1].ts_ms, ms(70));
	assert_int_equal(seen[1].since_ms, ms(10));
	assert_true(seen[1].value == 90);
	assert_int_equal(alert_firing(e, collect, LISTING), 0);
	alert_free(e);
}

static void
test_short_spike(void **state)
{
	static const char *const rules[] = { "cpu_usage > 90 for 30s", NULL };
	struct alert_engine *e = engine(rules);

	(void)state;
	feed(e, "a", 99, 0);
	feed(e, "a", 99, 20);
	feed(e, "a", 10, 29);	/* one record below breaks the run */
	feed(e, "a", 99, 30);
	feed(e, "a", 99, 45);
	assert_int_equal(nseen, 0);
	feed(e, "a", 99, 60);	/* 30 s since the new run began */
	assert_int_equal(nseen, 1);
	assert_int_equal(seen[0].since_ms, ms(30));
	alert_free(e);
}

static void
test_no_duration(void **state)
{
	static const char *const rules[] = { "zombie_processes > 0", NULL };
	struct alert_engine *e = engine(rules);
	struct record r;

	(void)state;
	rec_init(&r, "a", 1);
	r.zombie_processes = 2;
	assert_int_equal(alert_feed(e, &r, at(0)), 0);
	assert_int_equal(alert_feed(e, &r, at(1)), 0);
	assert_int_equal(nseen, 1);
	assert_true(seen[0].value == 2);
	assert_int_equal(seen[0].ts_ms, seen[0].since_ms);
	r.zombie_processes = 0;
	assert_int_equal(alert_feed(e, &r, at(2)), 0);
	assert_int_equal(nseen, 2);
	assert_false(seen[1].firing);
	assert_true(seen[1].value == 0);
	alert_free(e);
}

static void
test_stale(void **state)
{
	static const char *const rules[] = { "stale for 60s", NULL };
	struct alert_engine *e = engine(rules);
	int64_t due;

	(void)state;
	assert_false(alert_next_due(e, &due));
	feed(e, "a", 1, 0);
	feed(e, "b", 1, 30);
	assert_true(alert_next_due(e, &due));
	assert_int_equal(due, ms(60) + 1);
	alert_tick(e, at(60));	/* silent for 60 s, not more */
	assert_int_equal(nseen, 0);
	alert_tick(e, at(61));
	assert_int_equal(nseen, 1);
	assert_true(seen[0].firing);
	assert_false(seen[0].has_value);
	assert_string_equal(seen[0].host, "a");
	assert_string_equal(seen[0].rule, "stale for 1m");
	assert_int_equal(seen[0].since_ms, ms(0));
	assert_int_equal(seen[0].ts_ms, ms(60));
	alert_tick(e, at(80));
	alert_tick(e, at(85));
	assert_int_equal(nseen, 1);	/* fired once */
	assert_int_equal(alert_firing(e, collect, LISTING), 1);
	nseen = 1;
	alert_tick(e, at(200));	/* b too, at its own time */
	assert_int_equal(nseen, 2);
	assert_string_equal(seen[1].host, "b");
	assert_int_equal(seen[1].ts_ms, ms(90));
	assert_false(alert_next_due(e, &due));
	feed(e, "a", 1, 210);		/* back: resolves */
	assert_int_equal(nseen, 3);
	assert_false(seen[2].firing);
	assert_string_equal(seen[2].host, "a");
	assert_int_equal(seen[2].ts_ms, ms(210));
	assert_int_equal(seen[2].since_ms, ms(0));
	feed(e, "a", 1, 220);
	assert_int_equal(nseen, 3);
	/* the clock never runs back: an old time counts as the newest */
	alert_tick(e, at(100));
	assert_int_equal(nseen, 3);
	alert_tick(e, at(281));
	assert_int_equal(nseen, 4);
	assert_string_equal(seen[3].host, "a");
	alert_free(e);
}

/* Records keep a host fresh: in replay, another host's records move time. */
static void
test_stale_by_records(void **state)
{
	static const char *const rules[] = { "stale for 10s", NULL };
	struct alert_engine *e = engine(rules);
	double t;

	(void)state;
	for (t = 0; t <= 30; t += 5) {
		feed(e, "a", 1, t);
		if (t <= 10)
			feed(e, "b", 1, t);
	}
	/* b last at 10, so due at 20, seen at the record of 25 */
	assert_int_equal(nseen, 1);
	assert_string_equal(seen[0].host, "b");
	assert_int_equal(seen[0].ts_ms, ms(20));
	alert_free(e);
}

static void
test_hosts_independent(void **state)
{
	static const char *const rules[] = { "cpu_usage >= 80 for 10s",
	    "stale for 30s", NULL };
	struct alert_engine *e = engine(rules);
	char name[16];
	double t;
	int i;

	(void)state;
	for (t = 0; t <= 20; t += 5) {
		feed(e, "hot", 85, t);
		feed(e, "cold", 10, t);
		feed(e, "flappy", (int)t % 10 == 0 ? 99 : 1, t);
	}
	assert_int_equal(nseen, 1);
	assert_string_equal(seen[0].host, "hot");
	assert_int_equal(seen[0].ts_ms, ms(10));
	/* many hosts: the table grows and keeps every one */
	for (i = 0; i < 500; i++) {
		snprintf(name, sizeof(name), "h%d", i);
		feed(e, name, 95, 21);
	}
	for (i = 0; i < 500; i++) {
		snprintf(name, sizeof(name), "h%d", i);
		feed(e, name, 95, 31);
	}
	assert_int_equal(alert_hosts(e), 503);
	assert_int_equal(nseen, 501);
	nseen = 0;
	assert_int_equal(alert_firing(e, collect, LISTING), 501);
	alert_free(e);
}

/*
 * alert_limit: at most max hosts, the least recently heard from dropped
 * for a new one (the stale first), and a host silent for forget dropped;
 * the table stays whole (every kept host found again) through the drops.
 */
static void
test_limit(void **state)
{
	static const char *const rules[] = { "cpu_usage >= 80",
	    "stale for 10s", NULL };
	struct alert_engine *e = engine(rules);
	char name[16];
	int i;

	(void)state;
	alert_limit(e, 100, 60000);
	for (i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "h%d", i);
		feed(e, name, 95, i * 0.01);
	}
	assert_int_equal(alert_hosts(e), 100);
	assert_int_equal(alert_dropped(e), 200);
	/* the newest kept: h200..h299 fire; a kept one is found again */
	nseen = 0;
	assert_int_equal(alert_firing(e, collect, LISTING), 100);
	for (i = 0; i < 100; i++)
		assert_int_not_equal(atoi(seen[i].host + 1), 0);
	nseen = 0;
	feed(e, "h250", 10, 4);	/* resolves: its state was kept */
	assert_int_equal(nseen, 1);
	assert_false(seen[0].firing);
	assert_int_equal(alert_hosts(e), 100);
	/* all but h250 go stale; a new host drops a stale one, not h250 */
	alert_tick(e, at(13));
	feed(e, "new", 10, 13.5);
	assert_int_equal(alert_hosts(e), 100);
	assert_int_equal(alert_dropped(e), 201);
	nseen = 0;
	feed(e, "h250", 10, 14);
	assert_int_equal(nseen, 0);	/* still there: no resolve, no fire */
	/* silent for a minute: dropped without an event (new and h250 are
	 * only stale) */
	nseen = 0;
	alert_tick(e, at(63.5));
	assert_int_equal(nseen, 2);
	assert_true(seen[0].firing && seen[1].firing);
	assert_int_equal(alert_hosts(e), 2);
	assert_int_equal(alert_dropped(e), 299);
	alert_tick(e, at(200));
	assert_int_equal(nseen, 2);
	assert_int_equal(alert_hosts(e), 0);
	assert_int_equal(alert_dropped(e), 301);
	alert_free(e);
}

static void
test_operators(void **state)
{
	static const struct {
		const char *rule;
		/* does it fire at 50 - 1, 50, 50 + 1 */
		double below, at, above;
	} cases[] = {
		{ "cpu_usage > 50", 0, 0, 1 },
		{ "cpu_usage >= 50", 0, 1, 1 },
		{ "cpu_usage < 50", 1, 0, 0 },
		{ "cpu_usage <= 50", 1, 1, 0 },
		{ "cpu_usage == 50", 0, 1, 0 },
		{ "cpu_usage != 50", 1, 0, 1 },
	};
	size_t i, k;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *const rules[] = { cases[i].rule, NULL };
		const double want[] = { cases[i].below, cases[i].at,
		    cases[i].above };

		for (k = 0; k < 3; k++) {
			struct alert_engine *e = engine(rules);

			nseen = 0;
			feed(e, "a", 49 + (double)k, 0);
			if ((double)nseen != want[k])
				fail_msg("%s at %g: %zu events", cases[i].rule,
				    49 + (double)k, nseen);
			alert_free(e);
		}
	}
}

/* A record without the field (threads is optional) changes nothing. */
static void
test_absent_field(void **state)
{
	static const char *const rules[] = { "threads > 100", NULL };
	struct alert_engine *e = engine(rules);
	struct record r;

	(void)state;
	rec_init(&r, "a", 1);
	r.threads = 200;
	assert_int_equal(alert_feed(e, &r, at(0)), 0);
	r.threads = -1;
	assert_int_equal(alert_feed(e, &r, at(1)), 0);
	assert_int_equal(nseen, 1);
	r.threads = 5;
	assert_int_equal(alert_feed(e, &r, at(2)), 0);
	assert_int_equal(nseen, 2);
	alert_free(e);
}

/* A moment mono ms into the monotonic clock, t seconds after T0 on the wall. */
static struct alert_time
split(int64_t mono, double t)
{
	struct alert_time at = { mono, ms(t) };

	return at;
}

/*
 * The wall clock steps an hour forward: durations and silences go by the
 * monotonic clock, so nothing fires early; events still tell wall time.
 */
static void
test_clock_step(void **state)
{
	static const char *const rules[] = { "cpu_usage > 90 for 10m",
	    "stale for 30m", NULL };
	struct alert_engine *e = engine(rules);
	struct record a, b;

	(void)state;
	rec_init(&a, "a", 95);
	rec_init(&b, "b", 1);
	assert_int_equal(alert_feed(e, &a, split(1000, 0)), 0);
	assert_int_equal(alert_feed(e, &b, split(1000, 0)), 0);
	/* a second later by the monotonic clock, an hour by the wall's */
	assert_int_equal(alert_feed(e, &a, split(2000, 3601)), 0);
	alert_tick(e, split(3000, 3602));
	assert_int_equal(nseen, 0);
	/* ten minutes later, by the monotonic clock: a's rule fires */
	assert_int_equal(alert_feed(e, &a, split(601000, 4200)), 0);
	assert_int_equal(nseen, 1);
	assert_string_equal(seen[0].host, "a");
	assert_int_equal(seen[0].ts_ms, ms(4200));
	assert_int_equal(seen[0].since_ms, ms(0));
	/* b silent for 30 minutes by the monotonic clock, not before */
	alert_tick(e, split(1801000, 5400));
	assert_int_equal(nseen, 1);
	alert_tick(e, split(1801001, 5400));
	assert_int_equal(nseen, 2);
	assert_string_equal(seen[1].host, "b");
	assert_int_equal(seen[1].since_ms, ms(0));
	assert_int_equal(seen[1].ts_ms, ms(1800));
	alert_free(e);
}

static void
test_event_format(void **state)
{
	struct alert_event ev = {
		.id = "01234567-89ab-7def-8123-456789abcdef",
		.ts_ms = 1796000000123LL,
		.rule = "cpu_usage > 90 for 30s",
		.host = "we\"b\n1",
		.firing = true,
		.has_value = true,
		.value = 95.5,
		.since_ms = 1796000000000LL,
	};
	char buf[ALERT_EVENT_MAX];
	int len;

	(void)state;
	len = alert_event_format(&ev, buf, sizeof(buf));
	assert_string_equal(buf, "{\"id\":\"01234567-89ab-7def-8123-"
	    "456789abcdef\",\"ts\":\"2026-11-30T00:53:20.123Z\",\"rule\":"
	    "\"cpu_usage > 90 for 30s\",\"host\":\"we\\\"b\\u000a1\","
	    "\"state\":\"firing\",\"value\":95.5,"
	    "\"since\":\"2026-11-30T00:53:20.000Z\"}\n");
	assert_int_equal(len, (int)strlen(buf));
	ev.firing = false;
	ev.has_value = false;
	ev.value = 0.1;
	assert_true(alert_event_format(&ev, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "\"state\":\"resolved\",\"value\":null,"));
	ev.has_value = true;
	assert_true(alert_event_format(&ev, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "\"value\":0.1,"));
	assert_int_equal(alert_event_format(&ev, buf, 100), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_ruleset),
		cmocka_unit_test_setup(test_held_fires_once, reset),
		cmocka_unit_test_setup(test_short_spike, reset),
		cmocka_unit_test_setup(test_no_duration, reset),
		cmocka_unit_test_setup(test_stale, reset),
		cmocka_unit_test_setup(test_stale_by_records, reset),
		cmocka_unit_test_setup(test_hosts_independent, reset),
		cmocka_unit_test_setup(test_limit, reset),
		cmocka_unit_test_setup(test_operators, reset),
		cmocka_unit_test_setup(test_absent_field, reset),
		cmocka_unit_test_setup(test_clock_step, reset),
		cmocka_unit_test(test_event_format),
	};

	return cmocka_run_group_tests_name("alert", tests, NULL, NULL);
}
