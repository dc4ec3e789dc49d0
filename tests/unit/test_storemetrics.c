/*
 * Unit tests for lib/storemetrics.c: sm-store --listen's counters and
 * their Prometheus text (answers by code, records by outcome, the commit
 * histograms with cumulative buckets, the gauges as given).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "storemetrics.h"

/* text holds line (a whole line, newline added) */
static void
has_line(const char *text, const char *line)
{
	size_t len = strlen(line);
	const char *p;

	for (p = text; (p = strstr(p, line)) != NULL; p++)
		if ((p == text || p[-1] == '\n') && p[len] == '\n')
			return;
	fail_msg("no line \"%s\" in:\n%s", line, text);
}

static void
test_empty(void **state)
{
	struct storemetrics_gauges g = { .db_up = false };
	char *t;

	(void)state;
	storemetrics_reset();
	assert_non_null(t = storemetrics_text(&g));
	has_line(t, "# TYPE sm_store_requests_total counter");
	/* 200 always, so that rate() has a series from the start */
	has_line(t, "sm_store_requests_total{code=\"200\"} 0");
	assert_null(strstr(t, "code=\"503\""));
	has_line(t, "sm_store_records_total{outcome=\"stored\"} 0");
	has_line(t, "sm_store_commit_groups_bucket{le=\"+Inf\"} 0");
	has_line(t, "sm_store_commit_groups_count 0");
	has_line(t, "sm_store_database_up 0");
	free(t);
}

static void
test_counts(void **state)
{
	struct storemetrics_gauges g = { .db_up = true, .queued_groups = 3,
	    .queued_rows = 7, .inflight = 4, .connections = 5, .cut = 6 };
	struct store_group g2 = { .n = 4 }, g1 = { .n = 3, .next = &g2 };
	char *t;

	(void)state;
	storemetrics_reset();
	storemetrics_status(200);
	storemetrics_status(200);
	storemetrics_status(503);
	storemetrics_status(9999);	/* not a code: left out */
	storemetrics_bytes(100);
	storemetrics_bytes(23);
	storemetrics_records(5, 2, 0);
	storemetrics_records(0, 0, 1);
	storemetrics_auth_failed();
	storemetrics_commit(&g1, 1500, true);
	storemetrics_commit(&g2, 30, true);
	storemetrics_commit(&g1, 99, false);
	assert_non_null(t = storemetrics_text(&g));
	has_line(t, "sm_store_requests_total{code=\"200\"} 2");
	has_line(t, "sm_store_requests_total{code=\"503\"} 1");
	has_line(t, "sm_store_records_total{outcome=\"stored\"} 5");
	has_line(t, "sm_store_records_total{outcome=\"duplicate\"} 2");
	has_line(t, "sm_store_records_total{outcome=\"rejected\"} 1");
	has_line(t, "sm_store_received_bytes_total 123");
	has_line(t, "sm_store_auth_failures_total 1");
	/* two transactions: of 2 requests (7 rows), of 1 (4 rows) */
	has_line(t, "# TYPE sm_store_commit_groups histogram");
	has_line(t, "sm_store_commit_groups_bucket{le=\"1\"} 1");
	has_line(t, "sm_store_commit_groups_bucket{le=\"2\"} 2");
	has_line(t, "sm_store_commit_groups_bucket{le=\"+Inf\"} 2");
	has_line(t, "sm_store_commit_groups_sum 3");
	has_line(t, "sm_store_commit_groups_count 2");
	has_line(t, "sm_store_commit_rows_bucket{le=\"1\"} 0");
	has_line(t, "sm_store_commit_rows_bucket{le=\"10\"} 2");
	has_line(t, "sm_store_commit_rows_sum 11");
	has_line(t, "sm_store_commit_duration_seconds_bucket{le=\"0.00025\"} "
	    "1");
	has_line(t, "sm_store_commit_duration_seconds_bucket{le=\"0.001\"} 1");
	has_line(t, "sm_store_commit_duration_seconds_bucket{le=\"0.0025\"} "
	    "2");
	has_line(t, "sm_store_commit_duration_seconds_sum 0.00153");
	has_line(t, "sm_store_commit_failures_total 1");
	has_line(t, "sm_store_queue_groups 3");
	has_line(t, "sm_store_queue_rows 7");
	has_line(t, "sm_store_requests_in_flight 4");
	has_line(t, "sm_store_database_up 1");
	has_line(t, "sm_store_connections 5");
	has_line(t, "sm_store_connections_cut_total 6");
	free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_counts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
