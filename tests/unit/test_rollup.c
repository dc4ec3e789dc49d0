/* Unit tests for lib/rollup.c: sm-keep's aggregation in memory. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "rollup.h"

/* two fields: an integer, and a DECIMAL(5,2) */
static const struct rollup_field fields[2] = {
	{ ROLLUP_FIXED, 0 }, { ROLLUP_REAL, 2 },
};

#define T0 1795706280LL	/* 2026-11-26 15:18:00 UTC, a minute's start */

static void
add(struct rollup *r, const char *host, const char *source, int64_t t,
    int64_t i, double d, int null_i, int null_d)
{
	union rollup_num v[2];
	char null[2] = { (char)null_i, (char)null_d };

	v[0].i = i;
	v[1].d = d;
	assert_int_equal(rollup_add(r, host, strlen(host), source,
	    strlen(source), t, v, null), 0);
}

/* The VALUES text of all of r's buckets, in key order (to free). */
static char *
values(struct rollup *r)
{
	struct rollup_bucket *const *b = rollup_sorted(r);
	char *text = NULL;
	size_t size = 0;
	FILE *f;

	assert_non_null(b);
	f = open_memstream(&text, &size);
	assert_non_null(f);
	assert_int_equal(rollup_values(r, b, rollup_count(r), f), 0);
	assert_int_equal(fclose(f), 0);
	return text;
}

static void
test_minute(void **state)
{
	struct rollup *r = rollup_new(60, fields, 2);
	char *text;

	(void)state;
	assert_non_null(r);
	add(r, "h1", "procfs", T0, 7, 12.34, 0, 0);
	add(r, "h1", "procfs", T0 + 59, -3, 0.05, 0, 0);
	add(r, "h1", "procfs", T0 + 30, 0, 0, 1, 0);	/* no integer */
	add(r, "h1", "procfs", T0 + 60, 5, 1.5, 0, 1);	/* next minute */
	add(r, "", "", T0 + 1, 1, 2, 0, 0);	/* the replaced system's */
	assert_int_equal(rollup_count(r), 3);
	assert_int_equal(rollup_rows(r), 5);
	text = values(r);
	assert_string_equal(text,
	    "('', '', '2026-11-26 15:18:00', 1, 1, 1, 1, 1, 1, 2.00, 2.00, "
	    "2.00),"
	    "(_utf8mb4 X'6831', _utf8mb4 X'70726F636673', "
	    "'2026-11-26 15:18:00', 3, 2, -3, 7, 4, 3, 0.00, 12.34, 12.39),"
	    "(_utf8mb4 X'6831', _utf8mb4 X'70726F636673', "
	    "'2026-11-26 15:19:00', 1, 1, 5, 5, 5, 0, NULL, NULL, NULL)");
	free(text);
	rollup_clear(r);
	assert_int_equal(rollup_count(r), 0);
	assert_int_equal(rollup_rows(r), 0);
	text = values(r);
	assert_string_equal(text, "");
	free(text);
	rollup_free(r);
}

/* Hosts and sources byte for byte: "H1" is not "h1", nor "h" + "1x". */
static void
test_keys(void **state)
{
	struct rollup *r = rollup_new(60, fields, 2);

	(void)state;
	assert_non_null(r);
	add(r, "h1", "x", T0, 1, 1, 0, 0);
	add(r, "H1", "x", T0, 1, 1, 0, 0);
	add(r, "h", "1x", T0, 1, 1, 0, 0);
	add(r, "h1", "", T0, 1, 1, 0, 0);
	add(r, "h1", "x", T0 + 5, 1, 1, 0, 0);
	assert_int_equal(rollup_count(r), 4);
	rollup_free(r);
}

/* Folding minutes into hours gives what adding the rows to hours does. */
static void
test_fold(void **state)
{
	struct rollup *m = rollup_new(60, fields, 2);
	struct rollup *h = rollup_new(3600, fields, 2);
	struct rollup *direct = rollup_new(3600, fields, 2);
	static const char *const host[] = { "a", "b", "c" };
	char *folded, *want;
	int64_t t, v;
	int i;

	(void)state;
	assert_non_null(m);
	assert_non_null(h);
	assert_non_null(direct);
	for (i = 0; i < 3000; i++) {
		t = T0 - 7200 + i * 7;
		v = (i * 7919) % 1000 - 300;
		add(m, host[i % 3], "procfs", t, v, (double)(i % 10000) / 100,
		    i % 5 == 0, i % 7 == 0);
		add(direct, host[i % 3], "procfs", t, v,
		    (double)(i % 10000) / 100, i % 5 == 0, i % 7 == 0);
	}
	assert_int_equal(rollup_fold(h, m), 0);
	assert_int_equal(rollup_rows(h), 3000);
	assert_int_equal(rollup_count(h), rollup_count(direct));
	folded = values(h);
	want = values(direct);
	assert_string_equal(folded, want);
	free(folded);
	free(want);
	rollup_free(m);
	rollup_free(h);
	rollup_free(direct);
}

/* Many buckets: the table grows, and each keeps its rows. */
static void
test_many(void **state)
{
	struct rollup *r = rollup_new(60, fields, 2);
	struct rollup_bucket *const *b;
	char host[16];
	size_t i;

	(void)state;
	assert_non_null(r);
	for (i = 0; i < 20000; i++) {
		snprintf(host, sizeof(host), "h%05zu", i % 5000);
		add(r, host, "s", T0 + (int64_t)(i / 5000) * 60, (int64_t)i,
		    1, 0, 0);
	}
	assert_int_equal(rollup_count(r), 20000);
	assert_non_null(b = rollup_sorted(r));
	for (i = 1; i < 20000; i++) {
		assert_true(memcmp(b[i - 1]->key, b[i]->key, 6) < 0 ||
		    (memcmp(b[i - 1]->key, b[i]->key, 6) == 0 &&
		    b[i - 1]->start < b[i]->start));
		assert_int_equal(b[i]->samples, 1);
	}
	rollup_free(r);
}

/* An integer sum past 2^63 is refused, the row not added. */
static void
test_overflow(void **state)
{
	struct rollup *r = rollup_new(60, fields, 2);
	union rollup_num v[2];
	char null[2] = { 0, 0 };

	(void)state;
	assert_non_null(r);
	add(r, "h", "s", T0, INT64_MAX - 1, 0, 0, 0);
	v[0].i = 2;
	v[1].d = 0;
	errno = 0;
	assert_int_equal(rollup_add(r, "h", 1, "s", 1, T0, v, null), -1);
	assert_int_equal(errno, ERANGE);
	assert_int_equal(rollup_rows(r), 1);
	assert_int_equal(rollup_sorted(r)[0]->samples, 1);
	v[0].i = 1;
	assert_int_equal(rollup_add(r, "h", 1, "s", 1, T0, v, null), 0);
	rollup_free(r);
}

/* A FLOAT column's figures: 15 digits, as the server reads a double. */
static void
test_float(void **state)
{
	static const struct rollup_field f[1] = { { ROLLUP_REAL, -1 } };
	struct rollup *r = rollup_new(3600, f, 1);
	union rollup_num v[1];
	char null[1] = { 0 }, *text;

	(void)state;
	assert_non_null(r);
	v[0].d = (double)38.66f;
	assert_int_equal(rollup_add(r, "", 0, "api", 3, T0, v, null), 0);
	text = values(r);
	assert_string_equal(text, "('', _utf8mb4 X'617069', "
	    "'2026-11-26 15:00:00', 1, 1, 38.6599998474121, 38.6599998474121, "
	    "38.6599998474121)");
	free(text);
	rollup_free(r);
}

/* A DECIMAL's text as an integer of its last digit, and back. */
static void
test_fixed(void **state)
{
	static const struct {
		const char *s;
		int decimals, ok;
		int64_t v;
	} cases[] = {
		{ "12.34", 2, 1, 1234 }, { "-0.50", 2, 1, -50 },
		{ "7", 2, 1, 700 }, { "12.3", 2, 1, 1230 }, { "+1", 0, 1, 1 },
		{ "9223372036854775807", 0, 1, INT64_MAX },
		{ "9223372036854775808", 0, 0, 0 },
		{ "92233720368547758.07", 2, 1, INT64_MAX },
		{ "92233720368547758.08", 2, 0, 0 },
		{ "1.234", 2, 0, 0 }, { "", 2, 0, 0 }, { "-", 2, 0, 0 },
		{ ".", 2, 0, 0 }, { "1.2.3", 2, 0, 0 }, { "1e5", 2, 0, 0 },
		{ "12.5", 0, 0, 0 },
	};
	static const struct rollup_field f[1] = { { ROLLUP_FIXED, 2 } };
	struct rollup *r = rollup_new(60, f, 1);
	union rollup_num v[1];
	char null[1] = { 0 }, *text;
	int64_t x;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		x = -7;
		assert_int_equal(rollup_fixed(cases[i].s, strlen(cases[i].s),
		    cases[i].decimals, &x), cases[i].ok ? 0 : -1);
		if (cases[i].ok)
			assert_true(x == cases[i].v);
	}
	assert_non_null(r);
	v[0].i = -5;
	assert_int_equal(rollup_add(r, "h", 1, "s", 1, T0, v, null), 0);
	v[0].i = 1207;
	assert_int_equal(rollup_add(r, "h", 1, "s", 1, T0, v, null), 0);
	text = values(r);
	assert_string_equal(text, "(_utf8mb4 X'68', _utf8mb4 X'73', "
	    "'2026-11-26 15:18:00', 2, 2, -0.05, 12.07, 12.02)");
	free(text);
	rollup_free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_minute),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_fold),
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_overflow),
		cmocka_unit_test(test_float),
		cmocka_unit_test(test_fixed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
