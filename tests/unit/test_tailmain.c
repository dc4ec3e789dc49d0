/*
 * Unit tests for lib/cmd/tailmain.c: the mode options pick one mode, a second
 * one is refused naming both, and the other options are checked against
 * the mode.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "tailmain.h"

/* Apply "-X" or "--long" options in order: the last tailmain_opt value. */
static int
apply(struct tailmain_opts *o, int n, const int *ch, char **arg)
{
	int i, r = 1;

	tailmain_opts_init(o);
	for (i = 0; i < n && r == 1; i++)
		r = tailmain_opt(o, ch[i], arg[i]);
	return r;
}

static void
test_one_mode(void **state)
{
	static struct tailmain_opts o;
	char since[] = "1h", step[] = "1m", addr[] = "127.0.0.1:0";
	int ch1[] = { 'f', 'f' };
	char *a1[] = { NULL, NULL };
	int ch2[] = { 'f', 'd' };
	int ch3[] = { TAILMAIN_OPT_SINCE, TAILMAIN_OPT_STEP, 'd' };
	char *a3[] = { since, step, NULL };
	int ch4[] = { TAILMAIN_OPT_LISTEN, 'f' };
	char *a4[] = { addr, NULL };

	(void)state;
	assert_int_equal(apply(&o, 0, ch1, a1), 1);
	assert_int_equal(o.mode, TAILMAIN_PRINT);
	/* the same mode twice is one mode */
	assert_int_equal(apply(&o, 2, ch1, a1), 1);
	assert_int_equal(o.mode, TAILMAIN_FOLLOW);
	assert_int_equal(tailmain_check(&o), 0);
	assert_int_equal(apply(&o, 2, ch2, a1), -1);
	assert_int_equal(apply(&o, 3, ch3, a3), -1);
	assert_int_equal(o.mode, TAILMAIN_STEP);
	assert_string_equal(o.mode_opt, "--step");
	assert_int_equal(apply(&o, 2, ch4, a4), -1);
	assert_int_equal(o.mode, TAILMAIN_LISTEN);
}

static void
test_options_by_mode(void **state)
{
	static struct tailmain_opts o;
	char one[] = "1", since[] = "1h", step[] = "1m", seed[] = "seed";
	char addr[] = "127.0.0.1:0", raw[] = "raw";
	int iv[] = { TAILMAIN_OPT_INTERVAL };
	char *a_one[] = { one };
	int f_iv[] = { 'f', TAILMAIN_OPT_INTERVAL };
	char *a_f_iv[] = { NULL, one };
	int st[] = { TAILMAIN_OPT_SINCE, TAILMAIN_OPT_STEP,
	    TAILMAIN_OPT_FORMAT };
	char *a_st[] = { since, step, seed };
	int tier[] = { TAILMAIN_OPT_TIER };
	char *a_tier[] = { raw };
	int l_bl[] = { TAILMAIN_OPT_LISTEN, TAILMAIN_OPT_BACKLOG };
	char *a_l_bl[] = { addr, one };
	int bl[] = { TAILMAIN_OPT_BACKLOG };

	(void)state;
	/* --interval: for the modes that follow */
	assert_int_equal(apply(&o, 1, iv, a_one), 1);
	assert_int_equal(tailmain_check(&o), -1);
	assert_int_equal(apply(&o, 2, f_iv, a_f_iv), 1);
	assert_int_equal(tailmain_check(&o), 0);
	/* --step: since given; not --format seed */
	assert_int_equal(apply(&o, 2, st, a_st), 1);
	assert_int_equal(tailmain_check(&o), 0);
	assert_int_equal(apply(&o, 3, st, a_st), 1);
	assert_int_equal(tailmain_check(&o), -1);
	assert_int_equal(apply(&o, 1, st + 1, a_st + 1), 1);
	assert_int_equal(tailmain_check(&o), -1);	/* no --since */
	/* --tier only with --step */
	assert_int_equal(apply(&o, 1, tier, a_tier), 1);
	assert_int_equal(tailmain_check(&o), -1);
	/* --backlog only with --listen */
	assert_int_equal(apply(&o, 2, l_bl, a_l_bl), 1);
	assert_int_equal(tailmain_check(&o), 0);
	assert_int_equal(apply(&o, 1, bl, a_one), 1);
	assert_int_equal(tailmain_check(&o), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_mode),
		cmocka_unit_test(test_options_by_mode),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
