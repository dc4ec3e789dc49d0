/*
 * Regression tests for the bugs the fuzzers (tests/fuzz) found, one test
 * each, named for the bug; the inputs that found them are replayed from
 * tests/fuzz/regress/ by `make test-fuzz` too.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "body.h"
#include "record.h"
#include "timefmt.h"
#include "utf8.h"

/* A canonical record with the time (raw JSON text) given. */
static int
parse_with_ts(const char *ts, struct record *rec, struct why *why)
{
	char line[1024];
	int n;

	n = snprintf(line, sizeof(line), "{\"ts\":%s,\"cpu_usage\":1,"
	    "\"ram_total\":1,\"ram_free\":0,\"ram_used\":0,"
	    "\"total_processes\":0,\"running_processes\":0,"
	    "\"sleeping_processes\":0,\"stopped_processes\":0,"
	    "\"zombie_processes\":0}", ts);
	assert_true(n > 0 && (size_t)n < sizeof(line));
	return record_parse(line, (size_t)n, rec, why);
}

static void
assert_one_line_utf8(const char *why)
{
	size_t len = strlen(why);

	assert_int_equal(utf8_valid_prefix(why, len), len);
	for (; *why != '\0'; why++)
		assert_false((unsigned char)*why < 0x20 || *why == 0x7f);
}

/*
 * json-c lets raw control characters through inside strings; a reason
 * quoting the value then spanned lines (or carried terminal escapes) on
 * stderr.  Regression input: regress/record/reason-control-chars-in-hora.
 */
static void
test_reason_control_chars(void **state)
{
	struct why why;
	struct record rec;

	(void)state;
	assert_int_equal(parse_with_ts("\"2025-06-\r\n 16:47:23\"", &rec,
	    &why), -1);
	assert_one_line_utf8(why.msg);
	assert_string_equal(why.msg, "ts: \"2025-06-\\u000d\\u000a 16:47:23\": "
	    "not an RFC 3339 time (want YYYY-MM-DDTHH:MM:SS[.mmm]Z)");
	assert_int_equal(parse_with_ts("\"\x1b[31mred\"", &rec, &why), -1);
	assert_one_line_utf8(why.msg);
}

/*
 * A reason quoted the first 40 bytes of a value, cutting a multi-byte
 * character in two: the 400 answer was then not UTF-8 (so not JSON).
 */
static void
test_reason_cut_utf8(void **state)
{
	struct why why;
	struct record rec;
	struct body b;
	const char *body = "{\"ts\":\"0123456789012345678901234567890123456"
	    "78\xc3\xa9\xc3\xa9\"}";

	(void)state;
	/* 39 ASCII bytes, then two-byte characters across byte 40 */
	assert_int_equal(parse_with_ts("\"012345678901234567890123456789"
	    "012345678\xc3\xa9\xc3\xa9\"", &rec, &why), -1);
	assert_one_line_utf8(why.msg);
	memset(&b, 0, sizeof(b));
	assert_int_equal(body_decode(body, strlen(body), BODY_JSON, &b), -1);
	assert_int_equal(b.nerrors, 1);
	assert_one_line_utf8(b.errors[0].reason.msg);
	body_free(&b);
}

/*
 * A time zone offset carried 9999-12-31 past the last time four-digit
 * years can write: the record was accepted, then written without its
 * "ts" (spool, sm-read) and refused when read back.  Regression input:
 * regress/record/hora-past-9999-by-offset.
 */
static void
test_time_past_9999(void **state)
{
	char line[1024];
	struct why why;
	const char *reason;
	struct record rec;
	int64_t ms;

	(void)state;
	assert_int_equal(parse_with_ts("\"9999-12-31T23:59:59-00:01\"", &rec,
	    &why), -1);
	assert_string_equal(why.msg, "ts: \"9999-12-31T23:59:59-00:01\": date "
	    "after 9999");
	assert_int_equal(timefmt_parse("9999-12-31T23:59:59.999Z", &ms,
	    &reason), 0);
	assert_int_equal(timefmt_parse("9999-12-31T23:59:60Z", &ms, &reason),
	    0);
	assert_int_equal(parse_with_ts("\"9999-12-31T23:59:59.999Z\"", &rec,
	    &why), 0);
	assert_true(record_format(&rec, RECORD_CANONICAL, line,
	    sizeof(line)) > 0);
	assert_non_null(strstr(line, "\"ts\":\"9999-12-31T23:59:59.999Z\""));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reason_control_chars),
		cmocka_unit_test(test_reason_cut_utf8),
		cmocka_unit_test(test_time_past_9999),
	};

	return cmocka_run_group_tests_name("fuzzfound", tests, NULL, NULL);
}
