/* Unit tests for lib/balance.c: smooth weighted round-robin and health. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "balance_impl.h"

/* The endpoints picked, as letters, over n requests at time now. */
static void
picks(struct balance *b, int n, int64_t now, char *out)
{
	int i;

	for (i = 0; i < n; i++)
		out[i] = (char)('a' + balance_pick(b, 0, now));
	out[n] = '\0';
}

static void
test_equal_weights_alternate(void **state)
{
	struct balance b;
	char got[16];

	(void)state;
	assert_int_equal(balance_init(&b, 2, NULL, 1, 10000), 0);
	picks(&b, 8, 0, got);
	assert_string_equal(got, "abababab");
}

static void
test_three_to_one(void **state)
{
	struct balance b;
	int w[] = { 3, 1 }, count[2] = { 0, 0 }, i;
	char got[16];

	(void)state;
	assert_int_equal(balance_init(&b, 2, w, 1, 10000), 0);
	picks(&b, 8, 0, got);
	assert_string_equal(got, "aabaaaba");
	for (i = 0; i < 1992; i++)
		count[balance_pick(&b, 0, 0)]++;
	/* 2000 requests in all: exactly 1500 and 500 */
	assert_int_equal(count[0] + 6, 1500);
	assert_int_equal(count[1] + 2, 500);
}

static void
test_nginx_example(void **state)
{
	struct balance b;
	int w[] = { 5, 1, 1 };
	char got[16];

	(void)state;
	/* the sequence nginx's smooth round-robin is known for */
	assert_int_equal(balance_init(&b, 3, w, 1, 10000), 0);
	picks(&b, 14, 0, got);
	assert_string_equal(got, "aabacaaaabacaa");
}

static void
test_exclude(void **state)
{
	struct balance b;

	(void)state;
	assert_int_equal(balance_init(&b, 3, NULL, 1, 10000), 0);
	assert_int_equal(balance_pick(&b, 1U << 0, 0), 1);
	assert_int_equal(balance_pick(&b, (1U << 1) | (1U << 2), 0), 0);
	assert_true(balance_has_candidate(&b, 3, 0));
	assert_false(balance_has_candidate(&b, 7, 0));
	/* everything excluded: still an endpoint */
	assert_in_range(balance_pick(&b, 7, 0), 0, 2);
}

static void
test_passive_health(void **state)
{
	struct balance b;
	char got[16];

	(void)state;
	assert_int_equal(balance_init(&b, 2, NULL, 2, 1000), 0);
	assert_int_equal(balance_failure(&b, 1, 100, 0), BALANCE_SAME);
	assert_true(balance_usable(&b, 1, 100));
	/* a success in between starts the count over */
	assert_int_equal(balance_success(&b, 1, 150), BALANCE_SAME);
	assert_int_equal(balance_failure(&b, 1, 200, 0), BALANCE_SAME);
	assert_int_equal(balance_failure(&b, 1, 300, 0), BALANCE_DOWN);
	assert_false(balance_usable(&b, 1, 300));
	assert_false(balance_usable(&b, 1, 1299));
	picks(&b, 4, 500, got);
	assert_string_equal(got, "aaaa");
	assert_false(balance_has_candidate(&b, 1U << 0, 500));
	/* after fail_timeout: a trial; failing it starts the timeout over */
	assert_true(balance_usable(&b, 1, 1300));
	assert_int_equal(balance_failure(&b, 1, 1400, 0), BALANCE_SAME);
	assert_false(balance_usable(&b, 1, 2399));
	assert_true(balance_usable(&b, 1, 2400));
	assert_int_equal(balance_success(&b, 1, 2500), BALANCE_UP);
	assert_true(balance_usable(&b, 1, 2500));
	assert_int_equal(balance_success(&b, 1, 2600), BALANCE_SAME);
}

static void
test_retry_after_holds(void **state)
{
	struct balance b;

	(void)state;
	assert_int_equal(balance_init(&b, 2, NULL, 1, 1000), 0);
	assert_int_equal(balance_failure(&b, 0, 0, 5000), BALANCE_DOWN);
	assert_false(balance_usable(&b, 0, 4999));
	assert_true(balance_usable(&b, 0, 5000));
}

static void
test_active_health(void **state)
{
	struct balance b;

	(void)state;
	assert_int_equal(balance_init(&b, 2, NULL, 3, 10000), 0);
	/* a failed probe takes it out at once, a good one brings it back */
	assert_int_equal(balance_probe(&b, 0, false, 0), BALANCE_DOWN);
	assert_false(balance_usable(&b, 0, 5000));
	assert_int_equal(balance_probe(&b, 0, false, 5000), BALANCE_SAME);
	assert_false(balance_usable(&b, 0, 14999));
	assert_int_equal(balance_probe(&b, 0, true, 6000), BALANCE_UP);
	assert_true(balance_usable(&b, 0, 6000));
	assert_int_equal(balance_probe(&b, 0, true, 7000), BALANCE_SAME);
}

static void
test_all_down(void **state)
{
	struct balance b;
	char got[16];

	(void)state;
	assert_int_equal(balance_init(&b, 2, NULL, 1, 1000), 0);
	assert_int_equal(balance_failure(&b, 0, 0, 0), BALANCE_DOWN);
	assert_int_equal(balance_failure(&b, 1, 0, 0), BALANCE_DOWN);
	assert_false(balance_has_candidate(&b, 0, 10));
	/* traffic goes on, round-robin, as the only probe left */
	picks(&b, 4, 10, got);
	assert_string_equal(got, "abab");
}

static void
test_single_endpoint(void **state)
{
	struct balance b;

	(void)state;
	assert_int_equal(balance_init(&b, 1, NULL, 1, 1000), 0);
	assert_int_equal(balance_failure(&b, 0, 0, 5000), BALANCE_SAME);
	assert_int_equal(balance_probe(&b, 0, false, 0), BALANCE_SAME);
	assert_true(balance_usable(&b, 0, 1));
	assert_int_equal(balance_pick(&b, 0, 1), 0);
	/* tried already: no other candidate, so back off and retry it */
	assert_false(balance_has_candidate(&b, 1, 1));
}

static void
test_init_bounds(void **state)
{
	struct balance b;
	int zero[] = { 1, 0 }, big[] = { 1, BALANCE_WEIGHT_MAX + 1 };

	(void)state;
	assert_int_equal(balance_init(&b, 0, NULL, 1, 0), -1);
	assert_int_equal(balance_init(&b, BALANCE_MAX + 1, NULL, 1, 0), -1);
	assert_int_equal(balance_init(&b, 2, zero, 1, 0), -1);
	assert_int_equal(balance_init(&b, 2, big, 1, 0), -1);
	assert_int_equal(balance_init(&b, 2, NULL, 0, 0), -1);
	assert_int_equal(balance_init(&b, BALANCE_MAX, NULL, 1, 0), 0);
}

static void
test_parse_weights(void **state)
{
	struct why why;
	int w[BALANCE_MAX], n;
	static const char *bad[] = { "", "0", "a", "1,", "1,,2", ",1", "1;2",
	    "-1", "1001", "1 ,2", "99999999999999999999" };
	size_t i;

	(void)state;
	assert_int_equal(balance_parse_weights("3,1", w, BALANCE_MAX, &n,
	    &why), 0);
	assert_int_equal(n, 2);
	assert_int_equal(w[0], 3);
	assert_int_equal(w[1], 1);
	assert_int_equal(balance_parse_weights("7", w, BALANCE_MAX, &n, &why),
	    0);
	assert_int_equal(n, 1);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (balance_parse_weights(bad[i], w, BALANCE_MAX, &n,
		    &why) != -1)
			fail_msg("\"%s\" accepted", bad[i]);
		assert_non_null(strstr(why.msg, "weight"));
	}
	assert_int_equal(balance_parse_weights("1,1,1", w, 2, &n, &why), -1);
	assert_string_equal(why.msg, "more than 2 weights");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_equal_weights_alternate),
		cmocka_unit_test(test_three_to_one),
		cmocka_unit_test(test_nginx_example),
		cmocka_unit_test(test_exclude),
		cmocka_unit_test(test_passive_health),
		cmocka_unit_test(test_retry_after_holds),
		cmocka_unit_test(test_active_health),
		cmocka_unit_test(test_all_down),
		cmocka_unit_test(test_single_endpoint),
		cmocka_unit_test(test_init_bounds),
		cmocka_unit_test(test_parse_weights),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
