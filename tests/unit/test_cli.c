/* Unit tests for lib/cli.c: option value parsing and the option table. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "cli.h"

static void
test_number(void **state)
{
	double v;

	(void)state;
	assert_int_equal(cli_parse_number("0.5", 0, 10, &v), 0);
	assert_true(v == 0.5);
	assert_int_equal(cli_parse_number("10", 0, 10, &v), 0);
	assert_true(v == 10);
	assert_int_equal(cli_parse_number("1e-1", 0, 10, &v), 0);
	assert_true(v == 0.1);
	assert_int_equal(cli_parse_number("-1", 0, 10, &v), -1);
	assert_int_equal(cli_parse_number("10.01", 0, 10, &v), -1);
	assert_int_equal(cli_parse_number("", 0, 10, &v), -1);
	assert_int_equal(cli_parse_number("1s", 0, 10, &v), -1);
	assert_int_equal(cli_parse_number("nan", 0, 10, &v), -1);
	assert_int_equal(cli_parse_number("inf", 0, 1e9, &v), -1);
}

static void
test_ms(void **state)
{
	int64_t ms = -1;

	(void)state;
	assert_int_equal(cli_parse_ms("0.5", 0, 10, &ms), 0);
	assert_int_equal(ms, 500);
	assert_int_equal(cli_parse_ms("0.0015", 0, 10, &ms), 0);
	assert_int_equal(ms, 2);	/* to the nearest ms */
	assert_int_equal(cli_parse_ms("2592000", 0, 2592000, &ms), 0);
	assert_int_equal(ms, 2592000000LL);
	assert_int_equal(cli_parse_ms("10.01", 0, 10, &ms), -1);
	assert_int_equal(ms, 2592000000LL);	/* untouched */
	assert_int_equal(cli_parse_ms("1s", 0, 10, &ms), -1);
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

static void
test_size(void **state)
{
	uint64_t v = 7;

	(void)state;
	assert_int_equal(cli_parse_size("512M", &v, NULL), 0);
	assert_int_equal(v, 512ULL << 20);
	assert_int_equal(cli_parse_size("65536", &v, NULL), 0);
	assert_int_equal(v, 65536);
	assert_int_equal(cli_parse_size("2g", &v, NULL), 0);
	assert_int_equal(v, 2ULL << 30);
	assert_int_equal(cli_parse_size("6k", &v, NULL), 0);
	assert_int_equal(v, 6144);
	assert_int_equal(cli_parse_size("1023T", &v, NULL), 0);
	assert_int_equal(v, 1023ULL << 40);
	/* 2^24 T is 2^64: refused, not wrapped to 0 */
	assert_int_equal(cli_parse_size("16777216T", &v, NULL), -1);
	assert_int_equal(cli_parse_size("12X", &v, NULL), -1);
	assert_int_equal(cli_parse_size("12MB", &v, NULL), -1);
	assert_int_equal(cli_parse_size("", &v, NULL), -1);
	assert_int_equal(cli_parse_size("M", &v, NULL), -1);
	assert_int_equal(cli_parse_size("-1", &v, NULL), -1);
	assert_int_equal(v, 1023ULL << 40);	/* untouched */
}

static void
test_size_reasons(void **state)
{
	static const struct {
		const char *in;
		unsigned long long want;
	} good[] = {
		{ "0", 0 }, { "0G", 0 }, { "1", 1 }, { "512", 512 },
		{ "1K", 1024 }, { "1k", 1024 }, { "500M", 500ULL << 20 },
		{ "20G", 20ULL << 30 }, { "20g", 20ULL << 30 },
		{ "3T", 3ULL << 40 }, { "1048576T", 1ULL << 60 },
	};
	static const char *const bad[] = {
		"", "-5", "+5", " 5", "1.5G", "10X", "10MB", "10 M", "M",
		"1048577T", "1152921504606846977",
		"99999999999999999999999", "5G ",
	};
	uint64_t v;
	const char *why;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		v = 7;
		assert_int_equal(cli_parse_size(good[i].in, &v, &why), 0);
		assert_true(v == good[i].want);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		assert_int_equal(cli_parse_size(bad[i], &v, &why), -1);
		assert_non_null(why);
	}
	cli_parse_size("10X", &v, &why);
	assert_string_equal(why, "unknown unit: K, M, G or T (powers of 1024)");
	cli_parse_size("99999999999999999999999", &v, &why);
	assert_string_equal(why, "too large");
}

enum { OPT_COUNT = 256, OPT_SECONDS, OPT_UNIT, OPT_WANT, OPT_TEXT, OPT_ARG,
    OPT_FLAG, OPT_OTHER };

static long long count = -1;
static int64_t seconds = -1;
static double unit = -1, wanted = -1;
static const char *text, *arg;
static bool flag;

static const struct cli_opt table[] = {
	{ OPT_COUNT, "--count", .count = &count, .min = 1, .max = 64 },
	{ 'n', "-n", .count = &count, .min = 0, .max = 1LL << 62,
	    .unit = "rows" },
	{ OPT_SECONDS, "--seconds", .ms = &seconds, .min = 0.001,
	    .max = 2592000 },
	{ OPT_UNIT, "--unit", .number = &unit, .min = 1, .max = 86400,
	    .unit = "seconds" },
	{ OPT_WANT, "--want", .number = &wanted, .min = 0, .max = 100,
	    .want = "a percentage" },
	{ OPT_TEXT, "--text", .text = &text, .max = 5 },
	{ OPT_ARG, "--arg", .arg = &arg },
	{ OPT_FLAG, "--flag", .flag = &flag },
	{ 0 }
};

/*
 * cli_opt(table, ch, value) with stderr into a buffer: its result, and
 * what it warned (without the program name) in msg.
 */
static int
opt_warned(int ch, const char *value, char *msg, size_t size)
{
	FILE *f = tmpfile();
	int saved = dup(STDERR_FILENO), rc;
	size_t n;
	char *colon;

	assert_non_null(f);
	assert_true(saved != -1);
	fflush(stderr);
	assert_true(dup2(fileno(f), STDERR_FILENO) != -1);
	rc = cli_opt(table, ch, value);
	fflush(stderr);
	assert_true(dup2(saved, STDERR_FILENO) != -1);
	close(saved);
	rewind(f);
	n = fread(msg, 1, size - 1, f);
	msg[n] = '\0';
	fclose(f);
	/* "test_cli: " first: the rest is the option's */
	if ((colon = strstr(msg, ": ")) != NULL)
		memmove(msg, colon + 2, strlen(colon + 2) + 1);
	return rc;
}

static void
test_opt_values(void **state)
{
	char msg[256];

	(void)state;
	assert_int_equal(opt_warned(OPT_COUNT, "64", msg, sizeof(msg)), 1);
	assert_int_equal(count, 64);
	assert_string_equal(msg, "");
	assert_int_equal(opt_warned('n', "4611686018427387904", msg,
	    sizeof(msg)), 1);
	assert_int_equal(count, 1LL << 62);
	assert_int_equal(opt_warned(OPT_SECONDS, "0.5", msg, sizeof(msg)),
	    1);
	assert_int_equal(seconds, 500);
	assert_int_equal(opt_warned(OPT_UNIT, "1.5", msg, sizeof(msg)), 1);
	assert_true(unit == 1.5);
	assert_int_equal(opt_warned(OPT_TEXT, "h\xc3\xa9", msg,
	    sizeof(msg)), 1);
	assert_string_equal(text, "h\xc3\xa9");
	assert_int_equal(opt_warned(OPT_ARG, "", msg, sizeof(msg)), 1);
	assert_string_equal(arg, "");
	flag = false;
	assert_int_equal(opt_warned(OPT_FLAG, NULL, msg, sizeof(msg)), 1);
	assert_true(flag);
	/* not in the table: the caller's switch has it */
	assert_int_equal(opt_warned(OPT_OTHER, "x", msg, sizeof(msg)), 0);
	assert_int_equal(opt_warned('?', NULL, msg, sizeof(msg)), 0);
	assert_string_equal(msg, "");
}

static void
test_opt_warnings(void **state)
{
	char msg[256];

	(void)state;
	count = 7;
	assert_int_equal(opt_warned(OPT_COUNT, "65", msg, sizeof(msg)), -1);
	assert_string_equal(msg, "--count: \"65\": want 1 to 64\n");
	assert_int_equal(count, 7);	/* untouched */
	assert_int_equal(opt_warned('n', "-1", msg, sizeof(msg)), -1);
	assert_string_equal(msg,
	    "-n: \"-1\": want 0 to 4611686018427387904 rows\n");
	/* not 2.592e+06 */
	assert_int_equal(opt_warned(OPT_SECONDS, "0", msg, sizeof(msg)), -1);
	assert_string_equal(msg,
	    "--seconds: \"0\": want seconds from 0.001 to 2592000\n");
	assert_int_equal(opt_warned(OPT_UNIT, "1s", msg, sizeof(msg)), -1);
	assert_string_equal(msg, "--unit: \"1s\": want 1 to 86400 seconds\n");
	assert_int_equal(opt_warned(OPT_WANT, "101", msg, sizeof(msg)), -1);
	assert_string_equal(msg, "--want: \"101\": want a percentage\n");
	/* a name's message leaves the argument out: it may be the fault */
	assert_int_equal(opt_warned(OPT_TEXT, "a\tb", msg, sizeof(msg)), -1);
	assert_string_equal(msg,
	    "--text: want 1 to 5 bytes, no control characters\n");
	assert_int_equal(opt_warned(OPT_TEXT, "", msg, sizeof(msg)), -1);
	assert_int_equal(opt_warned(OPT_TEXT, "abcdef", msg, sizeof(msg)),
	    -1);
	assert_int_equal(opt_warned(OPT_TEXT, "a\x7f", msg, sizeof(msg)),
	    -1);
}

static void
test_no_operands(void **state)
{
	char a0[] = "prog", a1[] = "-x", a2[] = "stray";
	char *argv[] = { a0, a1, a2, NULL };

	(void)state;
	optind = 2;
	assert_int_equal(cli_no_operands(2, argv), 0);
	assert_int_equal(cli_no_operands(3, argv), -1);
	optind = 1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_number),
		cmocka_unit_test(test_ms),
		cmocka_unit_test(test_count),
		cmocka_unit_test(test_size),
		cmocka_unit_test(test_size_reasons),
		cmocka_unit_test(test_opt_values),
		cmocka_unit_test(test_opt_warnings),
		cmocka_unit_test(test_no_operands),
	};

	return cmocka_run_group_tests_name("cli", tests, NULL, NULL);
}
