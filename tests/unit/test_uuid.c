/* Unit tests for lib/uuid.c: UUIDv7 layout, order, uniqueness. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "uuid.h"

static int64_t
uuid_ms(const char *u)
{
	char hex[13];

	memcpy(hex, u, 8);
	memcpy(hex + 8, u + 9, 4);
	hex[12] = '\0';
	return strtoll(hex, NULL, 16);
}

static void
test_layout(void **state)
{
	char u[UUID_STR_LEN];

	(void)state;
	assert_int_equal(uuid7_generate_at(0x0f23456789abLL, u), 0);
	/* (test_now ran first, so the clock has not been moved ahead) */
	assert_int_equal(strlen(u), 36);
	assert_true(uuid_is_valid(u));
	assert_memory_equal(u, "0f234567-89ab-7", 15);	/* time, version */
	assert_non_null(strchr("89ab", u[19]));		/* RFC variant */
	assert_int_equal(uuid_ms(u), 0x0f23456789abLL);
}

static int
cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void
test_monotonic_and_unique(void **state)
{
	enum { N = 20000 };
	char (*u)[UUID_STR_LEN] = calloc(N, UUID_STR_LEN);
	int i;

	(void)state;
	assert_non_null(u);
	/* all in one millisecond: the counter, then borrowed ms, keep order */
	for (i = 0; i < N; i++)
		assert_int_equal(uuid7_generate_at(0x111111111111LL, u[i]), 0);
	for (i = 1; i < N; i++)
		if (strcmp(u[i - 1], u[i]) >= 0)
			fail_msg("%s !< %s", u[i - 1], u[i]);
	/* time going backwards (clock step) still never repeats or reorders */
	assert_int_equal(uuid7_generate_at(0x000000000001LL, u[0]), 0);
	assert_true(strcmp(u[N - 1], u[0]) < 0);
	qsort(u, N, UUID_STR_LEN, cmp);
	for (i = 1; i < N; i++)
		assert_string_not_equal(u[i - 1], u[i]);
	free(u);
}

static void
test_now(void **state)
{
	char a[UUID_STR_LEN], b[UUID_STR_LEN];

	(void)state;
	assert_int_equal(uuid7_generate(a), 0);
	assert_int_equal(uuid7_generate(b), 0);
	assert_true(strcmp(a, b) < 0);
	/* after 2020-01-01 and before 2100-01-01 */
	assert_true(uuid_ms(a) > 1577836800000LL);
	assert_true(uuid_ms(a) < 4102444800000LL);
}

static void
test_is_valid(void **state)
{
	(void)state;
	assert_true(uuid_is_valid("01a2186f-f33e-7040-a2be-a81c53714c88"));
	assert_true(uuid_is_valid("01A2186F-F33E-7040-A2BE-A81C53714C88"));
	assert_false(uuid_is_valid("01a2186f-f33e-7040-a2be-a81c53714c8"));
	assert_false(uuid_is_valid("01a2186f-f33e-7040-a2be-a81c53714c888"));
	assert_false(uuid_is_valid("01a2186f f33e-7040-a2be-a81c53714c88"));
	assert_false(uuid_is_valid("01a2186g-f33e-7040-a2be-a81c53714c88"));
	assert_false(uuid_is_valid(""));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		/* first: the others move the generator's clock far ahead */
		cmocka_unit_test(test_now),
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_monotonic_and_unique),
		cmocka_unit_test(test_is_valid),
	};

	return cmocka_run_group_tests_name("uuid", tests, NULL, NULL);
}
