/* Unit tests for lib/ratelog.c (the budget of log lines). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "ratelog.h"

/* A burst goes through, the rest is counted and said once, then again. */
static void
test_burst(void **state)
{
	struct ratelog r = { 0 };
	unsigned long long report;
	int i, through = 0;

	(void)state;
	for (i = 0; i < 500; i++) {
		through += ratelog_take(&r, 1000 + i, &report);
		assert_int_equal(report, 0);
	}
	assert_int_equal(through, RATELOG_BURST);
	/* not before the window is over */
	assert_int_equal(ratelog_flush(&r, 1000 + RATELOG_WINDOW_MS - 1,
	    false), 0);
	assert_int_equal(ratelog_flush(&r, 1000 + RATELOG_WINDOW_MS, false),
	    500 - RATELOG_BURST);
	assert_int_equal(ratelog_flush(&r, 1000 + RATELOG_WINDOW_MS, false),
	    0);
	/* a new window: a new burst */
	assert_true(ratelog_take(&r, 1000 + RATELOG_WINDOW_MS + 1, &report));
	assert_int_equal(report, 0);
}

/* Unflushed, the count comes with the next line of a later window. */
static void
test_report_with_next(void **state)
{
	struct ratelog r = { 0 };
	unsigned long long report;
	int i;

	(void)state;
	for (i = 0; i < RATELOG_BURST + 3; i++)
		ratelog_take(&r, 0, &report);
	assert_true(ratelog_take(&r, 2 * RATELOG_WINDOW_MS, &report));
	assert_int_equal(report, 3);
	/* at the end, the current window's count too */
	for (i = 0; i < RATELOG_BURST + 2; i++)
		ratelog_take(&r, 2 * RATELOG_WINDOW_MS + 1, &report);
	assert_int_equal(ratelog_flush(&r, 2 * RATELOG_WINDOW_MS + 2, false),
	    0);
	assert_int_equal(ratelog_flush(&r, 2 * RATELOG_WINDOW_MS + 2, true),
	    3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_burst),
		cmocka_unit_test(test_report_with_next),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
