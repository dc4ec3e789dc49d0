/*
 * The time of one range query, through sm's own code (lib/history: the
 * SQL sm-tail --step and /history run), on one connection, repeated.
 *
 *   history-latency TIER HOST FROM_MS TO_MS STEP_MS RUNS
 *
 * TIER is raw, 1m or 1h (read that tier whatever the step), HOST a host
 * name or "-" for every host.  The database comes from $SM_DB and
 * $SM_DB_PASSWORD as for every sm command.  Prints one line:
 * "tier T runs N points P p50_ms X p99_ms Y max_ms Z".
 */
#include <err.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mysql.h>

#include "db.h"
#include "history.h"

static int64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int
count_point(const struct history_point *p, void *arg)
{
	(void)p;
	(*(unsigned long long *)arg)++;
	return 0;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char *argv[])
{
	struct history_query q = { 0 };
	unsigned long long points = 0;
	struct db_config dbc;
	enum db_fault f;
	struct why why;
	int64_t *us, t0;
	long runs, i;
	MYSQL *m;

	if (argc != 7)
		errx(2, "usage: history-latency tier host from_ms to_ms "
		    "step_ms runs");
	if (history_tier_parse(argv[1], &q.forced) == -1)
		errx(2, "%s: want raw, 1m or 1h", argv[1]);
	q.force = true;
	q.host = strcmp(argv[2], "-") == 0 ? NULL : argv[2];
	q.from_ms = strtoll(argv[3], NULL, 10);
	q.to_ms = strtoll(argv[4], NULL, 10);
	q.step_ms = strtoll(argv[5], NULL, 10);
	runs = strtol(argv[6], NULL, 10);
	if (runs < 1 || (us = calloc((size_t)runs, sizeof(*us))) == NULL)
		errx(2, "runs: want 1 or more");
	if (history_check(&q, &why) == -1)
		errx(2, "%s", why.msg);
	if (mysql_library_init(0, NULL, NULL) != 0)
		errx(3, "mysql_library_init");
	if (db_config_init(&dbc, NULL, NULL, "DISABLED", NULL, &why) == -1)
		errx(2, "%s", why.msg);
	/* GROUP BY over every raw row takes minutes, not DB_IO_TIMEOUT */
	dbc.io_timeout = 3600;
	if ((m = db_connect(&dbc, &why, &f)) == NULL)
		errx(3, "%s", why.msg);
	for (i = 0; i < runs; i++) {
		points = 0;
		t0 = now_us();
		if (history_run(m, &q, count_point, &points, &why) !=
		    DB_FAULT_NONE)
			errx(1, "%s", why.msg);
		us[i] = now_us() - t0;
	}
	qsort(us, (size_t)runs, sizeof(*us), cmp_i64);
	printf("tier %s runs %ld points %llu p50_ms %.3f p99_ms %.3f "
	    "max_ms %.3f\n", argv[1], runs, points,
	    us[(runs - 1) / 2] / 1000.0,
	    us[(runs * 99 + 99) / 100 - 1] / 1000.0, us[runs - 1] / 1000.0);
	mysql_close(m);
	db_config_free(&dbc);
	mysql_library_end();
	return 0;
}
