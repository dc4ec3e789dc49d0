/* Unit tests for lib/cli.c: option value parsing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "cli.h"

static void
test_seconds(void **state)
{
	double v;

	(void)state;
	assert_int_equal(cli_parse_seconds("0.5", 0, 10, &v), 0);
	assert_true(v == 0.5);
	assert_int_equal(cli_parse_seconds("10", 0, 10, &v), 0);
	assert_true(v == 10);
	assert_int_equal(cli_parse_seconds("1e-1", 0, 10, &v), 0);
	assert_true(v == 0.1);
	assert_int_equal(cli_parse_seconds("-1", 0, 10, &v), -1);
	assert_int_equal(cli_parse_seconds("10.01", 0, 10, &v), -1);
	assert_int_equal(cli_parse_seconds("", 0, 10, &v), -1);
	assert_int_equal(cli_parse_seconds("1s", 0, 10, &v), -1);
	assert_int_equal(cli_parse_seconds("nan", 0, 10, &v), -1);
	assert_int_equal(cli_parse_seconds("inf", 0, 1e9, &v), -1);
}

static void
test_count(void **state)
{
	long long v;

	(void)state;
	assert_int_equal(cli_parse_count("0", 0, 5, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(cli_parse_count("5", 0, 5, &v), 0);
	assert_int_equal(v, 5);
	assert_int_equal(cli_parse_count("6", 0, 5, &v), -1);
	assert_int_equal(cli_parse_count("-1", 0, 5, &v), -1);
	assert_int_equal(cli_parse_count("x", 0, 5, &v), -1);
	assert_int_equal(cli_parse_count("3x", 0, 5, &v), -1);
	assert_int_equal(cli_parse_count("", 0, 5, &v), -1);
	assert_int_equal(cli_parse_count("99999999999999999999", 0,
	    1LL << 62, &v), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seconds),
		cmocka_unit_test(test_count),
	};

	return cmocka_run_group_tests_name("cli", tests, NULL, NULL);
}
