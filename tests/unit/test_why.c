/* Unit tests for lib/why.c: set, clear, append and prefix, cut to fit. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "why.h"

static void
test_set_clear(void **state)
{
	struct why w;
	char big[WHY_LEN + 10];

	(void)state;
	assert_int_equal(why_set(&w, "line %d: %s", 7, "bad"), -1);
	assert_string_equal(w.msg, "line 7: bad");
	why_clear(&w);
	assert_string_equal(w.msg, "");
	/* too long: cut, still terminated */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	why_set(&w, "%s", big);
	assert_int_equal(strlen(w.msg), WHY_LEN - 1);
}

static void
test_append(void **state)
{
	struct why w;
	char big[WHY_LEN];

	(void)state;
	why_clear(&w);
	why_append(&w, "log_bin %s", "OFF");
	why_append(&w, "; %s", "binlog_format STATEMENT");
	assert_string_equal(w.msg, "log_bin OFF; binlog_format STATEMENT");
	memset(big, 'y', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	why_append(&w, "%s", big);
	assert_int_equal(strlen(w.msg), WHY_LEN - 1);
	assert_int_equal(strncmp(w.msg, "log_bin OFF; ", 13), 0);
}

static void
test_prefix(void **state)
{
	struct why w;
	char big[WHY_LEN + 10];

	(void)state;
	why_clear(&w);
	why_prefix(&w, "interrupted");
	assert_string_equal(w.msg, "interrupted");
	why_set(&w, "HTTP 503");
	why_prefix(&w, "gave up after 3 attempts");
	assert_string_equal(w.msg, "gave up after 3 attempts: HTTP 503");
	/* too long: cut, still terminated */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	why_prefix(&w, big);
	assert_int_equal(strlen(w.msg), WHY_LEN - 1);
	why_set(&w, "%.*s", WHY_LEN - 20, big);
	why_prefix(&w, "a prefix of some length");
	assert_int_equal(strlen(w.msg), WHY_LEN - 1);
	assert_int_equal(strncmp(w.msg, "a prefix of some length: xxx", 28), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set_clear),
		cmocka_unit_test(test_append),
		cmocka_unit_test(test_prefix),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
