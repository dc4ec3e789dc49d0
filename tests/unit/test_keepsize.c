/*
 * Unit tests for lib/keepsize.c's pure parts: sizes as typed, the bytes a
 * row, how many rows and which days go.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "keepsize.h"

static void
test_row_bytes(void **state)
{
	(void)state;
	/* the first measure */
	assert_true(keepsize_row_bytes(0, 30000, 100) == 300);
	/* the smaller kept: pages freed by deletes are not a row's */
	assert_true(keepsize_row_bytes(300, 60000, 100) == 300);
	assert_true(keepsize_row_bytes(300, 20000, 100) == 200);
	/* nothing measured: what was kept */
	assert_true(keepsize_row_bytes(300, 0, 100) == 300);
	assert_true(keepsize_row_bytes(300, 5000, 0) == 300);
	assert_true(keepsize_row_bytes(0, 0, 0) == 0);
}

static void
test_excess_rows(void **state)
{
	(void)state;
	/* within: none */
	assert_true(keepsize_excess_rows(100, 300, 30000) == 0);
	assert_true(keepsize_excess_rows(100, 300, 1000000) == 0);
	/* over by a row and a bit: two */
	assert_true(keepsize_excess_rows(100, 300, 29500) == 2);
	assert_true(keepsize_excess_rows(100, 300, 29700) == 1);
	/* never more than there are */
	/* not one row fits: all that may go, whatever the estimate says */
	assert_true(keepsize_excess_rows(100, 300, 1) == KEEPSIZE_ALL);
	assert_true(keepsize_excess_rows(100, 300, 299) == KEEPSIZE_ALL);
	assert_true(keepsize_excess_rows(100, 300, 300) == 99);
	assert_true(keepsize_excess_rows(0, 300, 1) == 0);
	/* no size known: none */
	assert_true(keepsize_excess_rows(100, 0, 1) == 0);
	/* big tables: 20 million rows of 264 bytes within 4 GiB */
	assert_true(keepsize_excess_rows(20000000, 264, 4ULL << 30) ==
	    20000000 - (4ULL << 30) / 264);
}

static void
test_parts_pick(void **state)
{
	/* days 100..104 (bounds 101..105), today is 102, pmax */
	const struct keepsize_part p[] = {
		{ 101, 1000 }, { 102, 2000 }, { 103, 3000 }, { 104, 500 },
		{ 105, 100 }, { -1, 50 },
	};
	const size_t n = sizeof(p) / sizeof(p[0]);
	bool over;

	(void)state;
	/* within: nothing; 6,650 in all */
	assert_int_equal(keepsize_parts_pick(p, n, 102, 6650, &over), 0);
	assert_false(over);
	/* over by one byte: the oldest day */
	assert_int_equal(keepsize_parts_pick(p, n, 102, 6649, &over), 1);
	assert_false(over);
	assert_int_equal(keepsize_parts_pick(p, n, 102, 5650, &over), 1);
	assert_int_equal(keepsize_parts_pick(p, n, 102, 5649, &over), 2);
	/* the past days go, today (102) and ahead stay, said */
	assert_int_equal(keepsize_parts_pick(p, n, 102, 3000, &over), 2);
	assert_true(over);
	assert_int_equal(keepsize_parts_pick(p, n, 102, 0, &over), 2);
	assert_true(over);
	/* days later, every day but the last day's may go */
	assert_int_equal(keepsize_parts_pick(p, n, 200, 0, &over), 4);
	assert_true(over);
	assert_int_equal(keepsize_parts_pick(p, n, 200, 150, &over), 4);
	assert_false(over);
	/* pmax alone */
	assert_int_equal(keepsize_parts_pick(p + 5, 1, 200, 0, &over), 0);
	assert_true(over);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_row_bytes),
		cmocka_unit_test(test_excess_rows),
		cmocka_unit_test(test_parts_pick),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
