/*
 * Unit tests for lib/when.c (times and durations people type), and the
 * pure parts of lib/history.c and lib/tier.c (the tier a step reads, the
 * automatic step, the range check, the tiers' SQL).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "history.h"
#include "keep.h"
#include "tier.h"
#include "when.h"

#define NOW 1796604181000LL	/* 2026-12-07T00:43:01Z */

static void
test_duration(void **state)
{
	const char *why;
	int64_t ms;

	(void)state;
	assert_int_equal(when_duration("90", &ms, &why), 0);
	assert_int_equal(ms, 90000);
	assert_int_equal(when_duration("1500ms", &ms, &why), 0);
	assert_int_equal(ms, 1500);
	assert_int_equal(when_duration("5m", &ms, &why), 0);
	assert_int_equal(ms, 300000);
	assert_int_equal(when_duration("7d", &ms, &why), 0);
	assert_int_equal(ms, 7 * 86400000LL);
	assert_int_equal(when_duration("2y", &ms, &why), 0);
	assert_int_equal(ms, 730 * 86400000LL);
	assert_int_equal(when_duration("0", &ms, &why), 0);
	assert_int_equal(ms, 0);
	assert_int_equal(when_duration("", &ms, &why), -1);
	assert_int_equal(when_duration("-5m", &ms, &why), -1);
	assert_int_equal(when_duration("5 m", &ms, &why), -1);
	assert_int_equal(when_duration("1.5h", &ms, &why), -1);
	assert_int_equal(when_duration("7x", &ms, &why), -1);
	assert_string_equal(why, "unknown unit (want ms, s, m, h, d, w or y)");
	assert_int_equal(when_duration("101y", &ms, &why), -1);
	assert_int_equal(when_duration("99999999999999999999s", &ms, &why),
	    -1);
}

static void
test_when(void **state)
{
	const char *why;
	int64_t ms;

	(void)state;
	assert_int_equal(when_parse("now", NOW, &ms, &why), 0);
	assert_int_equal(ms, NOW);
	assert_int_equal(when_parse("2h", NOW, &ms, &why), 0);
	assert_int_equal(ms, NOW - 7200000);
	assert_int_equal(when_parse("2026-12-01", NOW, &ms, &why), 0);
	assert_int_equal(ms, 1796083200000LL);
	assert_int_equal(when_parse("2026-12-01T00:00:01.5Z", NOW, &ms, &why),
	    0);
	assert_int_equal(ms, 1796083201500LL);
	assert_int_equal(when_parse("yesterday", NOW, &ms, &why), -1);
	assert_string_equal(why, "not a time");
	assert_int_equal(when_parse("2026-13-01", NOW, &ms, &why), -1);
	assert_int_equal(when_parse("60y", NOW, &ms, &why), -1);
	assert_int_equal(when_parse("2h ", NOW, &ms, &why), -1);
}

static void
test_tier_and_step(void **state)
{
	(void)state;
	assert_int_equal(history_tier(1000), TIER_RAW);
	assert_int_equal(history_tier(30000), TIER_RAW);
	assert_int_equal(history_tier(90000), TIER_RAW);
	assert_int_equal(history_tier(60000), TIER_1M);
	assert_int_equal(history_tier(300000), TIER_1M);
	assert_int_equal(history_tier(5400000), TIER_1M);	/* 90m */
	assert_int_equal(history_tier(3600000), TIER_1H);
	assert_int_equal(history_tier(86400000), TIER_1H);
	/* a few hundred points, or fewer */
	assert_int_equal(history_auto_step(600000, 300), 5000);
	assert_int_equal(history_auto_step(3600000, 300), 30000);
	assert_int_equal(history_auto_step(7 * 86400000LL, 300), 3600000);
	assert_int_equal(history_auto_step(0, 300), 1000);
	assert_int_equal(history_auto_step(400LL * 86400000, 300),
	    7 * 86400000LL);
}

static void
test_check(void **state)
{
	struct history_query q = { 0 };
	struct why why;

	(void)state;
	q.from_ms = NOW - 3600000;
	q.to_ms = NOW;
	q.step_ms = 60000;
	assert_int_equal(history_check(&q, &why), 0);
	/* the first bucket starts at a multiple of the step */
	assert_int_equal(q.from_ms % 60000, 0);
	assert_true(q.from_ms <= NOW - 3600000);
	q.step_ms = 1500;
	assert_int_equal(history_check(&q, &why), -1);
	assert_non_null(strstr(why.msg, "whole seconds"));
	q.step_ms = 0;
	assert_int_equal(history_check(&q, &why), -1);
	q.step_ms = 1000;
	q.from_ms = NOW - 10000 * 1000LL;
	assert_int_equal(history_check(&q, &why), 0);
	q.from_ms = NOW - 10001 * 1000LL - 1;
	assert_int_equal(history_check(&q, &why), -1);
	assert_non_null(strstr(why.msg, "at most 10000 points"));
	q.from_ms = NOW;
	assert_int_equal(history_check(&q, &why), -1);
	assert_non_null(strstr(why.msg, "ends before it begins"));
}

static void
test_tier_sql(void **state)
{
	static const char *const fmt[4] = { "a(%1$s)", "b(%1$s)", "c(%1$s)",
	    "d(%1$s)" };
	char *sql, *cols;

	(void)state;
	sql = tier_create_sql("system_metrics_1m", 0);
	assert_non_null(sql);
	assert_non_null(strstr(sql, "PRIMARY KEY (host, source, bucket)"));
	assert_non_null(strstr(sql, "KEY ix_bucket (bucket)"));
	assert_non_null(strstr(sql, "cpu_usage_sum DECIMAL(20,2) NULL"));
	assert_non_null(strstr(sql, "threads_n INT UNSIGNED NOT NULL"));
	assert_non_null(strstr(sql, "COLLATE utf8mb4_bin"));
	free(sql);
	sql = tier_create_sql("d", 1);
	assert_non_null(strstr(sql, "CREATE TEMPORARY TABLE IF NOT EXISTS d"));
	assert_null(strstr(sql, "ix_bucket"));
	free(sql);
	cols = tier_columns("n", fmt);
	assert_non_null(cols);
	assert_true(strncmp(cols, "n, a(cpu_usage), b(cpu_usage), "
	    "c(cpu_usage), d(cpu_usage), a(cpu_free)", 60) == 0);
	assert_non_null(strstr(cols, "d(threads)"));
	free(cols);
}

static void
test_keep_check(void **state)
{
	struct keep_config c = { .keep_ms = { KEEP_RAW_DEFAULT,
	    KEEP_MINUTE_DEFAULT, KEEP_HOUR_DEFAULT } };
	struct why why;

	(void)state;
	assert_int_equal(keep_check(&c, &why), 0);
	c.keep_ms[TIER_RAW] = 100 * 86400000LL;
	assert_int_equal(keep_check(&c, &why), -1);
	assert_non_null(strstr(why.msg, "--raw keeps longer than --minute"));
	c.keep_ms[TIER_RAW] = 0;
	assert_int_equal(keep_check(&c, &why), -1);
	c.keep_ms[TIER_1M] = 0;
	c.keep_ms[TIER_1H] = 0;
	assert_int_equal(keep_check(&c, &why), 0);
	c.keep_ms[TIER_RAW] = 86400000;
	c.keep_ms[TIER_1M] = 86400000;
	c.keep_ms[TIER_1H] = 86400000;
	assert_int_equal(keep_check(&c, &why), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_when),
		cmocka_unit_test(test_tier_and_step),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_tier_sql),
		cmocka_unit_test(test_keep_check),
	};

	return cmocka_run_group_tests_name("history", tests, NULL, NULL);
}
