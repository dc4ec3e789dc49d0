/*
 * Unit tests for lib/alertstore.c: DATETIME(3) text, and the writer's
 * bounded queue while the database cannot be reached (events past the
 * bound dropped and counted, never waited for; what waits at the stop
 * counted too).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "alertstore.h"

static void
test_datetime(void **state)
{
	char buf[ALERTSTORE_DATETIME_LEN];

	(void)state;
	assert_int_equal(alertstore_datetime(1764169973123LL, buf,
	    sizeof(buf)), 0);
	assert_string_equal(buf, "2025-11-26 15:12:53.123");
	assert_int_equal(alertstore_datetime(5, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "1970-01-01 00:00:00.005");
	assert_int_equal(alertstore_datetime(-1, buf, sizeof(buf)), -1);
	assert_int_equal(alertstore_datetime(0, buf, 10), -1);
}

static void
test_create_sql(void **state)
{
	(void)state;
	assert_non_null(strstr(alertstore_create_sql,
	    "UNIQUE KEY uq_event (origin, host, rule, since, state)"));
	assert_non_null(strstr(alertstore_create_sql,
	    "host VARCHAR(255) COLLATE utf8mb4_bin NOT NULL"));
}

/* Port 1 on loopback: refused at once, as a database that is down. */
static void
test_queue_bounded(void **state)
{
	struct alert_event ev = {
		.ts_ms = 1764169973123LL, .rule = "cpu_usage > 90",
		.host = "h", .firing = true, .has_value = true, .value = 95,
		.since_ms = 1764169973000LL
	};
	struct alertstore_counts c;
	struct db_config db;
	struct alertstore *s;
	char *text = NULL;
	size_t size = 0, i;
	struct why why;
	FILE *f;

	(void)state;
	assert_int_equal(db_config_init(&db, "mysql://sm@127.0.0.1:1/sm",
	    NULL, NULL, NULL, &why), 0);
	db.connect_timeout = 1;
	assert_non_null(s = alertstore_new(&db, "test", NULL));
	for (i = 0; i < ALERTSTORE_QUEUE + 76; i++)
		alertstore_put(s, &ev);
	alertstore_counts(s, &c);
	assert_int_equal(c.stored, 0);
	assert_true(c.queued <= ALERTSTORE_QUEUE);
	assert_true(c.dropped >= 76);
	assert_int_equal(c.dropped + c.queued, ALERTSTORE_QUEUE + 76);
	assert_non_null(f = open_memstream(&text, &size));
	alertstore_metrics(s, f);
	assert_int_equal(fclose(f), 0);
	assert_non_null(strstr(text, "\nsm_tail_alerts_stored_total 0\n"));
	assert_non_null(strstr(text, "# TYPE sm_tail_alerts_queued gauge\n"));
	free(text);
	alertstore_free(s, &c);
	assert_int_equal(c.dropped, ALERTSTORE_QUEUE + 76);
	assert_int_equal(c.queued, 0);
	db_config_free(&db);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_datetime),
		cmocka_unit_test(test_create_sql),
		cmocka_unit_test(test_queue_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
