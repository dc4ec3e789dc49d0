/* Unit tests for lib/backoff.c: capped exponential delays with jitter. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "backoff.h"

static void
test_nominal_doubles_to_cap(void **state)
{
	static const int64_t want[] = { 100, 200, 400, 800, 1600, 3200, 6400,
	    10000, 10000 };
	struct backoff b;
	unsigned r;

	(void)state;
	backoff_init(&b, 100, 10000, 1);
	for (r = 0; r < sizeof(want) / sizeof(want[0]); r++)
		assert_int_equal(backoff_nominal_ms(&b, r), want[r]);
	/* a huge round neither overflows nor passes the cap */
	assert_int_equal(backoff_nominal_ms(&b, 1000), 10000);
}

static void
test_jitter_in_range(void **state)
{
	struct backoff b;
	int64_t lo = 1000000, hi = 0;
	unsigned r;
	int i;

	(void)state;
	backoff_init(&b, 100, 10000, 42);
	for (r = 0; r < 10; r++) {
		int64_t nom = backoff_nominal_ms(&b, r);

		for (i = 0; i < 1000; i++) {
			int64_t d = backoff_delay_ms(&b, r);

			assert_in_range(d, nom / 2, nom);
			if (r == 3) {
				lo = d < lo ? d : lo;
				hi = d > hi ? d : hi;
			}
		}
	}
	/* it does spread: both ends of [400, 800] come close */
	assert_in_range(lo, 400, 420);
	assert_in_range(hi, 780, 800);
}

static void
test_seeded_is_repeatable(void **state)
{
	struct backoff a, b;
	int i;

	(void)state;
	backoff_init(&a, 100, 10000, 7);
	backoff_init(&b, 100, 10000, 7);
	for (i = 0; i < 100; i++)
		assert_int_equal(backoff_delay_ms(&a, 5),
		    backoff_delay_ms(&b, 5));
}

static void
test_retry_after(void **state)
{
	struct backoff b;

	(void)state;
	backoff_init(&b, 100, 10000, 3);
	/* the receiver asks for longer: it wins */
	assert_int_equal(backoff_wait_ms(&b, 0, 2), 2000);
	/* shorter than the backoff: the backoff stands */
	assert_in_range(backoff_wait_ms(&b, 7, 1), 5000, 10000);
	/* none given */
	assert_in_range(backoff_wait_ms(&b, 0, 0), 50, 100);
	assert_in_range(backoff_wait_ms(&b, 0, -5), 50, 100);
	/* absurd values are bounded to a day */
	assert_int_equal(backoff_wait_ms(&b, 0, INT64_MAX / 10),
	    86400 * 1000LL);
}

static void
test_bad_parameters(void **state)
{
	struct backoff b;

	(void)state;
	backoff_init(&b, 0, -1, 0);
	assert_int_equal(backoff_nominal_ms(&b, 0), 1);
	assert_int_equal(backoff_nominal_ms(&b, 5), 1);
	assert_in_range(backoff_delay_ms(&b, 0), 0, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nominal_doubles_to_cap),
		cmocka_unit_test(test_jitter_in_range),
		cmocka_unit_test(test_seeded_is_repeatable),
		cmocka_unit_test(test_retry_after),
		cmocka_unit_test(test_bad_parameters),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
