/* Unit tests for lib/follow.c: holes, their filling, expiry and bounds. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "follow.h"

static void
assert_holes(const struct follow *f, const uint64_t *pairs, size_t n)
{
	size_t i;

	assert_int_equal(f->nholes, n);
	for (i = 0; i < n; i++) {
		assert_int_equal(f->holes[i].lo, pairs[2 * i]);
		assert_int_equal(f->holes[i].hi, pairs[2 * i + 1]);
	}
}

static void
test_in_order(void **state)
{
	struct follow f;
	uint64_t id;

	(void)state;
	assert_int_equal(follow_init(&f, 0, 1000), 0);
	follow_start(&f, 0);
	for (id = 1; id <= 100; id++)
		assert_int_equal(follow_see(&f, id, 0), 1);
	assert_int_equal(f.high, 100);
	assert_int_equal(f.nholes, 0);
	/* seen already */
	assert_int_equal(follow_see(&f, 50, 0), 0);
	assert_int_equal(follow_see(&f, 100, 0), 0);
	follow_free(&f);
}

static void
test_fill_and_split(void **state)
{
	struct follow f;

	(void)state;
	assert_int_equal(follow_init(&f, 0, 1000), 0);
	follow_start(&f, 2);
	assert_int_equal(follow_see(&f, 5, 10), 1);
	assert_holes(&f, (uint64_t[]){ 3, 4 }, 1);
	assert_int_equal(follow_see(&f, 12, 20), 1);
	assert_holes(&f, (uint64_t[]){ 3, 4, 6, 11 }, 2);
	assert_int_equal(follow_pending(&f), 8);
	/* a row in the middle of a hole splits it; both halves keep time */
	assert_int_equal(follow_see(&f, 8, 30), 1);
	assert_holes(&f, (uint64_t[]){ 3, 4, 6, 7, 9, 11 }, 3);
	assert_int_equal(f.holes[1].since_ms, 20);
	assert_int_equal(f.holes[2].since_ms, 20);
	/* the ends shrink it */
	assert_int_equal(follow_see(&f, 3, 30), 1);
	assert_int_equal(follow_see(&f, 11, 30), 1);
	assert_holes(&f, (uint64_t[]){ 4, 4, 6, 7, 9, 10 }, 3);
	/* the last id closes it */
	assert_int_equal(follow_see(&f, 4, 30), 1);
	assert_holes(&f, (uint64_t[]){ 6, 7, 9, 10 }, 2);
	/* never twice */
	assert_int_equal(follow_see(&f, 4, 30), 0);
	assert_int_equal(follow_see(&f, 8, 30), 0);
	assert_int_equal(follow_see(&f, 2, 30), 0);
	assert_int_equal(follow_see(&f, 6, 30), 1);
	assert_int_equal(follow_see(&f, 7, 30), 1);
	assert_int_equal(follow_see(&f, 10, 30), 1);
	assert_int_equal(follow_see(&f, 9, 30), 1);
	assert_int_equal(f.nholes, 0);
	assert_int_equal(f.given_up, 0);
	follow_free(&f);
}

static void
test_expire(void **state)
{
	struct follow f;

	(void)state;
	assert_int_equal(follow_init(&f, 0, 1000), 0);
	follow_start(&f, 0);
	assert_int_equal(follow_see(&f, 3, 0), 1);	/* hole 1-2 at 0 */
	assert_int_equal(follow_see(&f, 6, 500), 1);	/* hole 4-5 at 500 */
	assert_int_equal(follow_expire(&f, 999), 0);
	assert_int_equal(f.nholes, 2);
	assert_int_equal(follow_expire(&f, 1000), 2);
	assert_holes(&f, (uint64_t[]){ 4, 5 }, 1);
	/* a row committed after its hole was given up is not shown */
	assert_int_equal(follow_see(&f, 1, 1100), 0);
	/* an outage restarts the clocks */
	follow_touch(&f, 1400);
	assert_int_equal(follow_expire(&f, 2000), 0);
	assert_int_equal(follow_expire(&f, 2400), 2);
	assert_int_equal(f.given_up, 4);
	assert_int_equal(f.nholes, 0);
	follow_free(&f);
}

static void
test_bounded(void **state)
{
	struct follow f;
	uint64_t id;

	(void)state;
	assert_int_equal(follow_init(&f, 3, 1000), 0);
	follow_start(&f, 0);
	/* holes 1, 3, 5, 7, 9: only the newest three are kept */
	for (id = 2; id <= 10; id += 2)
		assert_int_equal(follow_see(&f, id, (int64_t)id), 1);
	assert_holes(&f, (uint64_t[]){ 5, 5, 7, 7, 9, 9 }, 3);
	assert_int_equal(f.given_up, 2);
	assert_int_equal(follow_see(&f, 1, 20), 0);
	assert_int_equal(follow_see(&f, 7, 20), 1);
	assert_holes(&f, (uint64_t[]){ 5, 5, 9, 9 }, 2);
	follow_free(&f);
}

static void
test_split_when_full(void **state)
{
	struct follow f;

	(void)state;
	assert_int_equal(follow_init(&f, 2, 1000), 0);
	follow_start(&f, 1);
	assert_int_equal(follow_see(&f, 11, 0), 1);	/* 2-10 */
	assert_int_equal(follow_see(&f, 13, 5), 1);	/* 12 */
	/* splitting 2-10 needs a third slot: its lower half goes */
	assert_int_equal(follow_see(&f, 5, 6), 1);
	assert_holes(&f, (uint64_t[]){ 6, 10, 12, 12 }, 2);
	assert_int_equal(f.given_up, 3);
	assert_int_equal(follow_see(&f, 3, 6), 0);
	/* splitting the upper one gives up the oldest, 6-10 */
	assert_int_equal(follow_see(&f, 20, 7), 1);	/* 14-19 */
	assert_holes(&f, (uint64_t[]){ 12, 12, 14, 19 }, 2);
	assert_int_equal(follow_see(&f, 16, 8), 1);
	assert_holes(&f, (uint64_t[]){ 14, 15, 17, 19 }, 2);
	follow_free(&f);
}

static void
test_start_holes(void **state)
{
	struct follow f;

	(void)state;
	assert_int_equal(follow_init(&f, 0, 1000), 0);
	follow_start(&f, 100);
	follow_hole_add(&f, 90, 92, 0);
	follow_hole_add(&f, 95, 95, 0);
	assert_int_equal(follow_see(&f, 91, 1), 1);
	assert_int_equal(follow_see(&f, 93, 1), 0);
	assert_int_equal(follow_see(&f, 95, 1), 1);
	assert_int_equal(follow_see(&f, 101, 1), 1);
	assert_holes(&f, (uint64_t[]){ 90, 90, 92, 92 }, 2);
	follow_free(&f);
}

static void
test_where(void **state)
{
	char buf[FOLLOW_WHERE_LEN], want[FOLLOW_WHERE_LEN * 2];
	struct follow f;
	size_t len, i;

	(void)state;
	assert_int_equal(follow_init(&f, 0, 1000), 0);
	follow_start(&f, 7);
	len = follow_where(&f, 0, buf, sizeof(buf));
	assert_string_equal(buf, "id > 0 AND (id > 7)");
	assert_int_equal(len, strlen(buf));
	follow_see(&f, 9, 0);
	follow_see(&f, 15, 0);
	follow_where(&f, 0, buf, sizeof(buf));
	assert_string_equal(buf, "id > 0 AND (id = 8 OR id BETWEEN 10 AND 14 "
	    "OR id > 15)");
	/* the next page starts after the last id read */
	follow_where(&f, 11, buf, sizeof(buf));
	assert_string_equal(buf, "id > 11 AND (id BETWEEN 12 AND 14 OR "
	    "id > 15)");
	follow_where(&f, 20, buf, sizeof(buf));
	assert_string_equal(buf, "id > 20 AND (id > 15)");
	follow_free(&f);

	/* past FOLLOW_SQL_RANGES ranges, the rest in one sweep */
	assert_int_equal(follow_init(&f, 0, 1000), 0);
	follow_start(&f, 0);
	for (i = 0; i < FOLLOW_SQL_RANGES + 5; i++)
		follow_see(&f, 2 * i + 2, 0);
	assert_int_equal(f.nholes, FOLLOW_SQL_RANGES + 5);
	len = follow_where(&f, 0, buf, sizeof(buf));
	assert_true(len < sizeof(buf) - 1);
	len = (size_t)sprintf(want, "id > 0 AND (");
	for (i = 0; i < FOLLOW_SQL_RANGES; i++)
		len += (size_t)sprintf(want + len, "id = %zu OR ", 2 * i + 1);
	sprintf(want + len, "id >= %d)", 2 * FOLLOW_SQL_RANGES + 1);
	assert_string_equal(buf, want);
	/* the biggest condition fits */
	follow_start(&f, UINT64_MAX - 1);
	for (i = 0; i < FOLLOW_SQL_RANGES + 1; i++)
		follow_hole_add(&f, UINT64_MAX / 2 + 4 * i,
		    UINT64_MAX / 2 + 4 * i + 2, 0);
	len = follow_where(&f, UINT64_MAX / 4, buf, sizeof(buf));
	assert_int_equal(len, strlen(buf));
	assert_non_null(strstr(buf, "id >= "));
	assert_int_equal(buf[len - 1], ')');
	follow_free(&f);
}

/*
 * A simulated table: transactions take blocks of ids and commit (or roll
 * back) in random order; a follower polls in small pages, asking what its
 * conditions ask for.  Every committed row is shown exactly once, however
 * the commits interleave with the polls.
 */
#define SIM_IDS 20000
#define SIM_PAGE 7

static uint64_t sim_state = 88172645463325252ULL;
static size_t sim_max_holes;

static uint64_t
sim_rand(void)
{
	sim_state ^= sim_state << 13;
	sim_state ^= sim_state >> 7;
	sim_state ^= sim_state << 17;
	return sim_state;
}

/* Is id in one of f's holes? */
static int
sim_in_hole(const struct follow *f, uint64_t id)
{
	size_t lo = 0, hi = f->nholes;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (f->holes[mid].hi < id)
			lo = mid + 1;
		else if (f->holes[mid].lo > id)
			hi = mid;
		else
			return 1;
	}
	return 0;
}

/*
 * Holes are asked for at every poll while fresh (under FOLLOW_FRESH_MS),
 * then each time their age doubles, and once more at the gap timeout; a
 * late row in an old hole is still new when it comes.
 */
static void
test_old_holes(void **state)
{
	char buf[FOLLOW_WHERE_LEN];
	struct follow f;

	(void)state;
	assert_int_equal(follow_init(&f, 0, 60000), 0);
	follow_start(&f, 7);
	follow_see(&f, 9, 0);		/* hole 8, noticed at 0 */
	follow_round(&f, 100);
	follow_where(&f, 0, buf, sizeof(buf));
	assert_string_equal(buf, "id > 0 AND (id = 8 OR id > 9)");
	follow_round(&f, 900);		/* still fresh */
	follow_where(&f, 0, buf, sizeof(buf));
	assert_string_equal(buf, "id > 0 AND (id = 8 OR id > 9)");
	follow_see(&f, 12, 1000);	/* hole 10..11, noticed at 1000 */
	follow_round(&f, 1050);		/* 8 turned 1 s old: asked */
	follow_where(&f, 0, buf, sizeof(buf));
	assert_string_equal(buf, "id > 0 AND (id = 8 OR id BETWEEN 10 AND 11 "
	    "OR id > 12)");
	follow_round(&f, 1950);		/* 8 is not 2 s old yet */
	follow_where(&f, 0, buf, sizeof(buf));
	assert_string_equal(buf, "id > 0 AND (id BETWEEN 10 AND 11 OR "
	    "id > 12)");
	follow_round(&f, 2050);		/* 8 turned 2 s, 10..11 1 s */
	follow_where(&f, 0, buf, sizeof(buf));
	assert_string_equal(buf, "id > 0 AND (id = 8 OR id BETWEEN 10 AND 11 "
	    "OR id > 12)");
	follow_round(&f, 3000);		/* 10..11 turned 2 s, 8 is 3 s */
	follow_where(&f, 0, buf, sizeof(buf));
	assert_string_equal(buf, "id > 0 AND (id BETWEEN 10 AND 11 OR "
	    "id > 12)");
	follow_round(&f, 3500);		/* neither doubled */
	follow_where(&f, 0, buf, sizeof(buf));
	assert_string_equal(buf, "id > 0 AND (id > 12)");
	follow_round(&f, 4000);		/* 8 turned 4 s */
	follow_where(&f, 0, buf, sizeof(buf));
	assert_string_equal(buf, "id > 0 AND (id = 8 OR id > 12)");
	assert_int_equal(follow_see(&f, 8, 4000), 1);	/* late, not lost */
	assert_int_equal(follow_see(&f, 8, 4000), 0);
	follow_free(&f);

	/* at the gap timeout a hole is asked for once more, then given up */
	assert_int_equal(follow_init(&f, 0, 5000), 0);
	follow_start(&f, 7);
	follow_see(&f, 9, 0);
	follow_round(&f, 4100);
	follow_round(&f, 4900);
	follow_where(&f, 0, buf, sizeof(buf));
	assert_string_equal(buf, "id > 0 AND (id > 9)");
	assert_int_equal(follow_expire(&f, 4900), 0);
	follow_round(&f, 5000);
	follow_where(&f, 0, buf, sizeof(buf));
	assert_string_equal(buf, "id > 0 AND (id = 8 OR id > 9)");
	assert_int_equal(follow_expire(&f, 5000), 1);
	follow_free(&f);
}

/*
 * One poll over the simulated table, in pages, asking for what
 * follow_where asks for: ids above after, and in a hole or above high, or
 * (past FOLLOW_SQL_RANGES ranges) at least the first range not listed.
 */
static void
sim_poll(struct follow *f, const char *committed, uint64_t top, int *shown,
    int64_t now)
{
	uint64_t after = 0, id, sweep;
	size_t first;
	int n;

	follow_expire(f, now);
	if (f->nholes > sim_max_holes)
		sim_max_holes = f->nholes;
	do {
		for (first = 0; first < f->nholes &&
		    f->holes[first].hi <= after; first++)
			;
		sweep = f->nholes - first > FOLLOW_SQL_RANGES ?
		    f->holes[first + FOLLOW_SQL_RANGES].lo : UINT64_MAX;
		id = first < f->nholes ? f->holes[first].lo : f->high + 1;
		if (id <= after)
			id = after + 1;
		for (n = 0; id <= top && n < SIM_PAGE; id++) {
			if (!committed[id] || !(id > f->high || id >= sweep ||
			    sim_in_hole(f, id)))
				continue;
			n++;
			after = id;
			if (follow_see(f, id, now))
				shown[id]++;
		}
	} while (n == SIM_PAGE);
}

struct sim_tx {
	uint64_t lo, hi, key;
};

static int
sim_cmp(const void *a, const void *b)
{
	const struct sim_tx *x = a, *y = b;

	return x->key < y->key ? -1 : x->key > y->key;
}

static void
test_simulated_writers(void **state)
{
	static char committed[SIM_IDS + 1];
	static int shown[SIM_IDS + 1];
	static struct sim_tx tx[SIM_IDS];
	size_t ntx = 0, i;
	struct follow f;
	uint64_t next = 1, id, top = 0;
	int64_t now = 0;

	(void)state;
	memset(committed, 0, sizeof(committed));
	memset(shown, 0, sizeof(shown));
	assert_int_equal(follow_init(&f, 0, 1000000000), 0);
	follow_start(&f, 0);
	/* transactions of 1 to 5 ids, now and then up to 300 */
	while (next <= SIM_IDS) {
		uint64_t len = sim_rand() % 16 == 0 ? 1 + sim_rand() % 300 :
		    1 + sim_rand() % 5;

		if (next + len - 1 > SIM_IDS)
			len = SIM_IDS - next + 1;
		tx[ntx].lo = next;
		tx[ntx].hi = next + len - 1;
		next += len;
		ntx++;
	}
	/* commit order: id order, each jittered by up to 8000 ids */
	for (i = 0; i < ntx; i++)
		tx[i].key = tx[i].lo + sim_rand() % 8000;
	qsort(tx, ntx, sizeof(tx[0]), sim_cmp);
	for (i = 0; i < ntx; i++) {
		/* one in 20 rolls back: its ids are burned */
		int keep = sim_rand() % 20 != 0;

		for (id = tx[i].lo; id <= tx[i].hi; id++)
			committed[id] = keep;
		if (keep && tx[i].hi > top)
			top = tx[i].hi;
		if (sim_rand() % 3 == 0) {
			now += 10;
			sim_poll(&f, committed, top, shown, now);
		}
	}
	now += 10;
	sim_poll(&f, committed, top, shown, now);
	for (id = 1; id <= SIM_IDS; id++) {
		if (committed[id] && shown[id] != 1)
			fail_msg("id %llu shown %d times",
			    (unsigned long long)id, shown[id]);
		if (!committed[id])
			assert_int_equal(shown[id], 0);
	}
	/* the burned ids are still waited for, then given up */
	sim_poll(&f, committed, top, shown, now + 1000000000);
	assert_int_equal(f.nholes, 0);
	assert_true(f.given_up > 0);
	/* the sweep past FOLLOW_SQL_RANGES was taken */
	assert_true(sim_max_holes > FOLLOW_SQL_RANGES);
	follow_free(&f);
}

/*
 * Galera, auto_increment_increment 3: nodes 1 and 2 write, node 3 does not.
 * Node 1's ids 1, 4, 7, ... and node 2's 2, 5, 8, ... interleave; node 3's
 * class (0) is never asked for, and node 2's ids skipped while it was down
 * are one range, not one per id.
 */
static void
test_galera_classes(void **state)
{
	char where[FOLLOW_WHERE_LEN];
	struct follow f;
	uint64_t id;

	(void)state;
	assert_int_equal(follow_init(&f, 0, 1000), 0);
	follow_set_step(&f, 3);
	follow_start(&f, 0);
	for (id = 1; id <= 300; id++)
		if (id % 3 != 0)
			assert_int_equal(follow_see(&f, id, 0), 1);
	assert_int_equal(f.nholes, 0);
	/* node 2 down: node 1 alone writes 301..601 */
	for (id = 301; id <= 601; id += 3)
		assert_int_equal(follow_see(&f, id, 0), 1);
	/* node 2 is back, past node 1's rows */
	assert_int_equal(follow_see(&f, 602, 0), 1);
	assert_int_equal(follow_pending(&f), 100);
	assert_int_equal(f.nholes, 1);
	follow_where(&f, 0, where, sizeof(where));
	assert_string_equal(where, "id > 0 AND ((id BETWEEN 302 AND 599 "
	    "AND id % 3 = 2) OR id > 602)");
	/* a late commit of node 2 inside its range splits it */
	assert_int_equal(follow_see(&f, 401, 0), 1);
	assert_int_equal(follow_see(&f, 401, 0), 0);
	assert_int_equal(f.nholes, 2);
	assert_int_equal(follow_pending(&f), 99);
	/* read again in a sweep: not new */
	assert_int_equal(follow_see(&f, 299, 0), 0);
	assert_int_equal(follow_see(&f, 598, 0), 0);
	/* after the gap timeout nothing is asked for but what is new */
	follow_expire(&f, 1000);
	follow_where(&f, 0, where, sizeof(where));
	assert_string_equal(where, "id > 0 AND (id > 602)");
	/* node 3 starts writing: its first row is new whatever its id, and
	 * its class from where following started becomes a hole */
	assert_int_equal(follow_see(&f, 600, 2000), 1);
	assert_int_equal(follow_see(&f, 600, 2000), 0);
	assert_int_equal(follow_pending(&f), 199);
	assert_int_equal(follow_see(&f, 597, 2000), 1);
	assert_int_equal(follow_see(&f, 603, 2000), 1);
	follow_free(&f);
}

/* A snapshot marks the classes it holds; holes of the others go. */
static void
test_galera_snapshot(void **state)
{
	struct follow f;

	(void)state;
	assert_int_equal(follow_init(&f, 0, 1000), 0);
	follow_set_step(&f, 3);
	follow_start(&f, 10);
	/* the snapshot holds 1, 2, 4, 5, 8, 10: 7 missing in class 1 */
	follow_mark(&f, 1);
	follow_mark(&f, 2);
	follow_hole_add(&f, 3, 3, 0);
	follow_hole_add(&f, 6, 7, 0);
	follow_hole_add(&f, 9, 9, 0);
	follow_prune(&f);
	assert_int_equal(follow_pending(&f), 1);
	assert_int_equal(follow_see(&f, 7, 0), 1);
	assert_int_equal(follow_pending(&f), 0);
	follow_free(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_order),
		cmocka_unit_test(test_fill_and_split),
		cmocka_unit_test(test_expire),
		cmocka_unit_test(test_bounded),
		cmocka_unit_test(test_split_when_full),
		cmocka_unit_test(test_start_holes),
		cmocka_unit_test(test_where),
		cmocka_unit_test(test_old_holes),
		cmocka_unit_test(test_simulated_writers),
		cmocka_unit_test(test_galera_classes),
		cmocka_unit_test(test_galera_snapshot),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
