/* Unit tests for lib/timefmt.c and lib/tick.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "tick.h"
#include "timefmt.h"

static void
test_format(void **state)
{
	char buf[TIMEFMT_RFC3339_LEN];

	(void)state;
	assert_int_equal(timefmt_rfc3339(0, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "1970-01-01T00:00:00.000Z");
	assert_int_equal(timefmt_rfc3339(1795706319678LL, buf, sizeof(buf)),
	    0);
	assert_string_equal(buf, "2026-11-26T15:18:39.678Z");
	assert_int_equal(timefmt_rfc3339(951782400005LL, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "2000-02-29T00:00:00.005Z");
	assert_int_equal(timefmt_seed(1795706319678LL, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "2026-11-26 15:18:39");
	assert_int_equal(timefmt_rfc3339(-1, buf, sizeof(buf)), -1);
	assert_int_equal(timefmt_rfc3339(0, buf, 10), -1);
}

static void
test_parse_good(void **state)
{
	static const struct {
		const char *s;
		int64_t ms;
	} cases[] = {
		{ "2026-11-26T15:18:39.678Z", 1795706319678LL },
		{ "2026-11-26t15:18:39.678z", 1795706319678LL },
		{ "2026-11-26T15:18:39Z", 1795706319000LL },
		{ "2026-11-26T15:18:39.6789999Z", 1795706319678LL },
		{ "2026-11-26T15:18:39.5Z", 1795706319500LL },
		{ "2026-11-26T16:18:39.678+01:00", 1795706319678LL },
		{ "2026-11-26T09:48:39.678-05:30", 1795706319678LL },
		{ "2026-11-26 15:18:39", 1795706319000LL },
		{ "2025-06-27 16:47:23", 1751042843000LL },
		{ "2024-02-29T00:00:00Z", 1709164800000LL },
		{ "2016-12-31T23:59:60Z", 1483228799999LL },
	};
	const char *why;
	int64_t ms;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (timefmt_parse(cases[i].s, &ms, &why) != 0)
			fail_msg("%s: %s", cases[i].s, why);
		if (ms != cases[i].ms)
			fail_msg("%s: %lld, want %lld", cases[i].s,
			    (long long)ms, (long long)cases[i].ms);
	}
}

static void
test_parse_bad(void **state)
{
	static const struct {
		const char *s;
		const char *why;
	} cases[] = {
		{ "", "not an RFC 3339" },
		{ "2026-11-26", "not an RFC 3339" },
		{ "2026-11-26T15:18", "not an RFC 3339" },
		{ "2026-11-26T15:18:39.Z", "not an RFC 3339" },
		{ "2026-11-26T15:18:39Zjunk", "not an RFC 3339" },
		{ "2026-11-26T15:18:39+0100", "not an RFC 3339" },
		{ "2026-11-26T15:18:39", "time zone missing" },
		{ "2026-13-01T00:00:00Z", "out of range" },
		{ "2025-02-29T00:00:00Z", "out of range" },
		{ "2026-11-26T24:00:00Z", "out of range" },
		{ "1969-12-31T23:59:59Z", "out of range" },
		{ "1970-01-01T00:30:00+01:00", "before 1970" },
		{ "26-11-26T15:18:39Z", "not an RFC 3339" },
	};
	const char *why;
	int64_t ms;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (timefmt_parse(cases[i].s, &ms, &why) != -1)
			fail_msg("%s: accepted", cases[i].s);
		if (strstr(why, cases[i].why) == NULL)
			fail_msg("%s: \"%s\" lacks \"%s\"", cases[i].s, why,
			    cases[i].why);
	}
}

static void
test_roundtrip(void **state)
{
	char buf[TIMEFMT_RFC3339_LEN];
	const char *why;
	int64_t ms, back;

	(void)state;
	for (ms = 0; ms < 4102444800000LL; ms += 86399999LL * 7 + 13) {
		assert_int_equal(timefmt_rfc3339(ms, buf, sizeof(buf)), 0);
		assert_int_equal(timefmt_parse(buf, &back, &why), 0);
		assert_int_equal(back, ms);
	}
}

static void
test_tick(void **state)
{
	(void)state;
	/* aligned to multiples of the interval, strictly in the future */
	assert_int_equal(tick_next(1000, 500), 1500);
	assert_int_equal(tick_next(1499, 500), 1500);
	assert_int_equal(tick_next(1500, 500), 2000);
	assert_int_equal(tick_next(1234, 0), 1234);
	/* a fractional interval does not drift: tick k is k * interval */
	assert_int_equal(tick_next(10 * 333333333LL + 5, 333333333LL),
	    11 * 333333333LL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_tick),
	};

	return cmocka_run_group_tests_name("timefmt", tests, NULL, NULL);
}
