/* Unit tests for lib/schema.c, lib/store.c and lib/ingest.c: what can be
 * checked without a server (tests/it/store-*.sh do the rest). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ingest.h"
#include "schema.h"
#include "store.h"
#include "store_impl.h"

static size_t
count(const char *s, const char *what)
{
	size_t n = 0;

	while ((s = strstr(s, what)) != NULL) {
		n++;
		s += strlen(what);
	}
	return n;
}

static void
test_insert_sql(void **state)
{
	char *sql;

	(void)state;
	assert_null(schema_insert_sql(0, true));
	sql = schema_insert_sql(1, true);
	assert_string_equal(sql, "INSERT INTO system_metrics (ram_total, "
	    "ram_free, ram_used, ram_percentage, cpu_usage, cpu_free, "
	    "running_processes, total_processes, sleeping_processes, "
	    "zombie_processes, stopped_processes, data_source, sample_id, "
	    "host, collector, sampled_at, ram_available, threads) VALUES "
	    "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON DUPLICATE KEY UPDATE "
	    "id = IF((@sm_dup := CONCAT_WS(',', @sm_dup, VALUES(sample_id))) "
	    "IS NULL, id, id)");
	free(sql);
	sql = schema_insert_sql(512, false);
	assert_int_equal(count(sql, "?"), 512 * SCHEMA_INSERT_NCOLS);
	assert_int_equal(count(sql, "),("), 511);
	/* a large statement names no duplicates: no list copied per row */
	assert_non_null(strstr(sql, "?) ON DUPLICATE KEY UPDATE id = id"));
	assert_null(strstr(sql, SCHEMA_DUP_VAR));
	free(sql);
}

static void
test_create_sql(void **state)
{
	size_t i;

	(void)state;
	/* the table DDL and the column list say the same */
	for (i = 0; i < schema_ncolumns; i++) {
		char want[128];

		snprintf(want, sizeof(want), "  %s %s,\n",
		    schema_columns[i].name, schema_columns[i].fresh);
		if (strstr(schema_create_sql, want) == NULL)
			fail_msg("%s not in the CREATE TABLE", want);
		/* id and the partitioning column: new tables only */
		assert_true(i == 0 || schema_columns[i].added != NULL ||
		    strcmp(schema_columns[i].name, "sampled_day") == 0);
	}
	assert_int_equal(count(schema_create_sql, ",\n"), schema_ncolumns + 2);
	/* partitioned by sampled_at: every unique key holds it */
	assert_non_null(strstr(schema_create_sql, "PRIMARY KEY (id, "
	    "sampled_day)"));
	assert_non_null(strstr(schema_create_sql, "UNIQUE KEY "
	    "uk_system_metrics_sample_id (sample_id, sampled_day)"));
	assert_non_null(strstr(schema_create_sql, "KEY "
	    "ix_system_metrics_host_sampled (host, sampled_at)"));
}

static void
test_create_partitioned(void **state)
{
	char *sql, name[16], bound[16];

	(void)state;
	/* 2026-12-07T00:43:01Z: today and three days ahead, then pmax */
	sql = schema_create_partitioned(1796604181000LL, true);
	assert_non_null(sql);
	assert_non_null(strstr(sql, "  sample_id UUID NOT NULL,\n"));
	assert_non_null(strstr(sql, ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4\n"
	    "PARTITION BY RANGE COLUMNS (sampled_day) ("
	    "PARTITION p20261207 VALUES LESS THAN ('2026-12-08'), "
	    "PARTITION p20261208 VALUES LESS THAN ('2026-12-09'), "
	    "PARTITION p20261209 VALUES LESS THAN ('2026-12-10'), "
	    "PARTITION p20261210 VALUES LESS THAN ('2026-12-11'), "
	    "PARTITION pmax VALUES LESS THAN (MAXVALUE))"));
	free(sql);
	/* a server without the UUID type: the text, the rest the same */
	sql = schema_create_partitioned(1796604181000LL, false);
	assert_non_null(sql);
	assert_null(strstr(sql, "UUID"));
	assert_non_null(strstr(sql, ",\n  sample_id CHAR(36) CHARACTER SET "
	    "ascii NOT NULL,\n  host VARCHAR(255) NULL,\n"));
	assert_non_null(strstr(sql, "PARTITION pmax VALUES LESS THAN "
	    "(MAXVALUE))"));
	free(sql);
	/* across a month and a year */
	schema_day_name(20453, name, sizeof(name));
	assert_string_equal(name, "p20251231");
	schema_day_bound(20453, bound, sizeof(bound));
	assert_string_equal(bound, "2026-01-01");
}

static void
test_from_row(void **state)
{
	char *row[] = { "42", "01a2187e-8992-706a-a64f-7969378a9ec5",
	    "2026-11-26 15:34:35.666", "2026-11-26 15:34:35", "node-a",
	    "procfs", "52.08", "47.92", "24105", "21939", "22389", "1716",
	    "7.12", "89", "1", "88", "0", "0", "124", "python_api" };
	/* a replaced-system row: no sample_id, sampled_at, ... */
	char *old[] = { "7", NULL, NULL, "2025-06-27 16:47:23", NULL, NULL,
	    "2.00", NULL, "3913", "2413", NULL, "1500", NULL, "113", "1",
	    "112", "0", "0", NULL, NULL };
	unsigned long len[20];
	char source[SCHEMA_SOURCE_MAX + 1];
	struct why why;
	unsigned long long id;
	struct record r;
	size_t i;

	(void)state;
	for (i = 0; i < 20; i++)
		len[i] = row[i] != NULL ? strlen(row[i]) : 0;
	assert_int_equal(schema_record_from_row(row, len, &r, &id, source,
	    &why), 0);
	assert_int_equal(id, 42);
	assert_string_equal(r.id, "01a2187e-8992-706a-a64f-7969378a9ec5");
	assert_int_equal(r.ts_ms, 1795707275666LL);
	assert_string_equal(r.host, "node-a");
	assert_true(r.cpu_usage == 52.08);
	assert_int_equal(r.ram_available, 22389);
	assert_int_equal(r.threads, 124);
	assert_string_equal(source, "python_api");

	for (i = 0; i < 20; i++)
		len[i] = old[i] != NULL ? strlen(old[i]) : 0;
	assert_int_equal(schema_record_from_row(old, len, &r, &id, source,
	    &why), 0);
	assert_string_equal(r.id, "");
	assert_int_equal(r.ts_ms, 1751042843000LL);
	assert_true(r.cpu_free == 98);
	assert_int_equal(r.ram_available, 2413);
	assert_int_equal(r.threads, -1);
	assert_string_equal(source, "");
	old[8] = NULL;
	assert_int_equal(schema_record_from_row(old, len, &r, &id, source,
	    &why), -1);
	assert_string_equal(why.msg, "ram_total is NULL");
}

static void
test_row_init(void **state)
{
	struct store_row a, b;

	(void)state;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	assert_int_equal(store_row_init(&a, 3), 0);
	assert_int_equal(store_row_init(&b, 4), 0);
	assert_int_equal(a.where, 3);
	assert_true(uuid_is_valid(a.rec.id));
	assert_string_not_equal(a.rec.id, b.rec.id);
	strcpy(a.rec.id, "01A2187E-8992-706A-A64F-7969378A9EC5");
	assert_int_equal(store_row_init(&a, 5), 0);
	assert_string_equal(a.rec.id, "01a2187e-8992-706a-a64f-7969378a9ec5");
}

static void
test_summary(void **state)
{
	struct ingest_stats st = { 10, 2, 1, 0, 0 };
	char buf[128];

	(void)state;
	ingest_summary(&st, buf, sizeof(buf));
	assert_string_equal(buf, "10 stored, 2 duplicates, 1 rejected");
	st.spooled = 5;
	st.lost = 6;
	ingest_summary(&st, buf, sizeof(buf));
	assert_string_equal(buf, "10 stored, 2 duplicates, 1 rejected, "
	    "5 spooled, 6 not stored");
	st.duplicates = 1;
	st.spooled = st.lost = 0;
	ingest_summary(&st, buf, sizeof(buf));
	assert_string_equal(buf, "10 stored, 1 duplicate, 1 rejected");
}

/*
 * Which rows SCHEMA_DUP_VAR's names make duplicates, in three groups; and
 * the same from the ids stored before the transaction (each once).
 */
static void
test_dup_mark(void **state)
{
	static const char *const ids[] = {
		"a", "b", "c",		/* group 0 */
		"b",			/* group 1: b again */
		"d", "d", "e",		/* group 2: d twice */
	};
	static const struct {
		const char *list;
		bool before;
		bool dup[7];
	} cases[] = {
		{ "", false, { 0, 0, 0, 0, 0, 0, 0 } },
		/*
		 * c stored before; b new, so its second row is the duplicate;
		 * d stored before, both its rows; e new
		 */
		{ "c,b,d,d", false, { 0, 0, 1, 1, 1, 1, 0 } },
		/* d new: its first row stored, the second a duplicate */
		{ "d", false, { 0, 0, 0, 0, 0, 1, 0 } },
		/* nothing stored before: an id's rows after its first */
		{ "", true, { 0, 0, 0, 1, 0, 1, 0 } },
		/* the second case's outcome, from what was stored before */
		{ "d,c", true, { 0, 0, 1, 1, 1, 1, 0 } },
		/* all stored before */
		{ "e,d,c,b,a", true, { 1, 1, 1, 1, 1, 1, 1 } },
	};
	struct store_row rows[7];
	struct store_group g[3] = {
		{ .rows = &rows[0], .n = 3, .next = &g[1] },
		{ .rows = &rows[3], .n = 1, .next = &g[2] },
		{ .rows = &rows[4], .n = 3 },
	};
	bool dup[7];
	char list[64];
	size_t c, i;

	(void)state;
	memset(rows, 0, sizeof(rows));
	for (i = 0; i < 7; i++)
		strcpy(rows[i].rec.id, ids[i]);
	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		strcpy(list, cases[c].list);
		assert_int_equal(store_dup_mark(g, 7, list,
		    cases[c].before, dup), 0);
		for (i = 0; i < 7; i++)
			assert_int_equal(dup[i], cases[c].dup[i]);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_insert_sql),
		cmocka_unit_test(test_create_sql),
		cmocka_unit_test(test_create_partitioned),
		cmocka_unit_test(test_from_row),
		cmocka_unit_test(test_row_init),
		cmocka_unit_test(test_summary),
		cmocka_unit_test(test_dup_mark),
	};

	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
