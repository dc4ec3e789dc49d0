/* Unit tests for lib/rowfmt.c: sm-tail's ndjson, table and seed formats. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "rowfmt_impl.h"

static void
sample_row(struct rowfmt_row *r)
{
	memset(r, 0, sizeof(*r));
	r->id = 42;
	strcpy(r->rec.id, "01a21882-1dd1-74cf-b610-bfa030f17415");
	r->rec.ts_ms = 1795706319678LL;	/* 2026-11-26T15:18:39.678Z */
	strcpy(r->rec.host, "web-1");
	strcpy(r->rec.collector, "procfs");
	r->rec.cpu_usage = 42.5;
	r->rec.cpu_free = 57.5;
	r->rec.ram_total = 3913;
	r->rec.ram_free = 2413;
	r->rec.ram_available = 2500;
	r->rec.ram_used = 1413;
	r->rec.ram_percentage = 36.11;
	r->rec.total_processes = 113;
	r->rec.running_processes = 1;
	r->rec.sleeping_processes = 110;
	r->rec.stopped_processes = 2;
	r->rec.zombie_processes = 0;
	r->rec.threads = -1;
	strcpy(r->source, "python_api");
}

static void
test_parse(void **state)
{
	enum rowfmt_kind k;

	(void)state;
	assert_int_equal(rowfmt_parse("ndjson", &k), 0);
	assert_int_equal(k, ROWFMT_NDJSON);
	assert_int_equal(rowfmt_parse("table", &k), 0);
	assert_int_equal(k, ROWFMT_TABLE);
	assert_int_equal(rowfmt_parse("seed", &k), 0);
	assert_int_equal(k, ROWFMT_SEED);
	assert_int_equal(rowfmt_parse("json", &k), -1);
	assert_int_equal(rowfmt_parse("", &k), -1);
}

static void
test_ndjson(void **state)
{
	char buf[ROWFMT_LINE_MAX], want[ROWFMT_LINE_MAX];
	struct rowfmt_row r;
	struct rowfmt f;
	int n;

	(void)state;
	sample_row(&r);
	rowfmt_init(&f, ROWFMT_NDJSON, 0);
	n = rowfmt_row(&f, &r, buf, sizeof(buf));
	/* exactly what sm-read would write for the record */
	assert_int_equal(n, record_format(&r.rec, RECORD_CANONICAL, want,
	    sizeof(want)));
	assert_string_equal(buf, want);
	assert_string_equal(buf, "{\"id\":\"01a21882-1dd1-74cf-b610-"
	    "bfa030f17415\",\"ts\":\"2026-11-26T15:18:39.678Z\",\"host\":"
	    "\"web-1\",\"collector\":\"procfs\",\"cpu_usage\":42.5,"
	    "\"cpu_free\":57.5,\"ram_total\":3913,\"ram_free\":2413,"
	    "\"ram_available\":2500,\"ram_used\":1413,\"ram_percentage\":"
	    "36.11,\"total_processes\":113,\"running_processes\":1,"
	    "\"sleeping_processes\":110,\"stopped_processes\":2,"
	    "\"zombie_processes\":0}\n");
	/* no room */
	assert_int_equal(rowfmt_row(&f, &r, buf, 20), -1);
}

static void
test_seed(void **state)
{
	char buf[ROWFMT_LINE_MAX];
	struct rowfmt_row r;
	struct rowfmt f;
	int n;

	(void)state;
	sample_row(&r);
	rowfmt_init(&f, ROWFMT_SEED, 0);
	n = rowfmt_row(&f, &r, buf, sizeof(buf));
	assert_true(n > 0);
	assert_string_equal(buf, "{\"cpu\":42.5,\"ram\":36.11,\"ram_details\":"
	    "{\"total\":3913,\"used\":1413,\"free\":2413},\"processes\":"
	    "{\"total_procesos\":113,\"procesos_corriendo\":1,"
	    "\"procesos_durmiendo\":110,\"procesos_zombies\":0,"
	    "\"procesos_parados\":2},\"data_source\":\"python_api\","
	    "\"timestamp\":\"2026-11-26T15:18:39.678Z\"}\n");
	assert_int_equal((size_t)n, strlen(buf));
	/* whole percentages are written as integers, as the record does */
	r.rec.cpu_usage = 2;
	r.rec.ram_percentage = 38;
	r.source[0] = '\0';
	rowfmt_row(&f, &r, buf, sizeof(buf));
	assert_non_null(strstr(buf, "{\"cpu\":2,\"ram\":38,"));
	assert_non_null(strstr(buf, "\"data_source\":\"\","));
}

static void
test_table(void **state)
{
	char buf[ROWFMT_LINE_MAX], head[256];
	struct rowfmt_row r;
	struct rowfmt f;
	const char *row_line =
	    "     42 2026-11-26 15:18:39 web-1            python_api   "
	    " 42.50  36.11      1413      3913    113    1    110    2    0\n";

	(void)state;
	sample_row(&r);
	assert_true(rowfmt_header(head, sizeof(head)) > 0);
	assert_string_equal(head,
	    "     ID TIME(UTC)           HOST             SOURCE       "
	    "  CPU%   RAM%  RAM_USED RAM_TOTAL  PROCS  RUN  SLEEP STOP ZOMB\n");
	/* columns line up under the header */
	assert_int_equal(strlen(head), strlen(row_line));
	rowfmt_init(&f, ROWFMT_TABLE, 0);
	rowfmt_row(&f, &r, buf, sizeof(buf));
	assert_true(strncmp(buf, head, strlen(head)) == 0);
	assert_string_equal(buf + strlen(head), row_line);
	/* header once when it is not a terminal */
	rowfmt_row(&f, &r, buf, sizeof(buf));
	assert_string_equal(buf, row_line);
}

static void
test_table_header_repeats(void **state)
{
	char buf[ROWFMT_LINE_MAX];
	struct rowfmt_row r;
	struct rowfmt f;
	int i, heads = 0;

	(void)state;
	sample_row(&r);
	/* a screen of 4 lines: a header and 3 rows */
	rowfmt_init(&f, ROWFMT_TABLE, 3);
	for (i = 0; i < 9; i++) {
		rowfmt_row(&f, &r, buf, sizeof(buf));
		if (strncmp(buf, "     ID", 7) == 0) {
			assert_int_equal(i % 3, 0);
			heads++;
		}
	}
	assert_int_equal(heads, 3);
}

static void
test_table_cells(void **state)
{
	char buf[ROWFMT_LINE_MAX];
	struct rowfmt_row r;
	struct rowfmt f;

	(void)state;
	sample_row(&r);
	/* a long name is cut, a control character cannot steer the tty */
	strcpy(r.rec.host, "a-very-long-host-name.example.org");
	strcpy(r.source, "\033[2Jx");
	r.id = 12345678;
	rowfmt_init(&f, ROWFMT_TABLE, 0);
	f.header_done = true;
	rowfmt_row(&f, &r, buf, sizeof(buf));
	assert_string_equal(buf, "12345678 2026-11-26 15:18:39 "
	    "a-very-long-hos~ ?[2Jx         42.50  36.11      1413      3913 "
	    "   113    1    110    2    0\n");
	assert_null(strchr(buf, '\033'));
	/* no host or source: a dash */
	r.rec.host[0] = '\0';
	r.source[0] = '\0';
	rowfmt_row(&f, &r, buf, sizeof(buf));
	assert_non_null(strstr(buf, " -                -            "));
}

static void
test_cell(void **state)
{
	char buf[64];

	(void)state;
	assert_int_equal(rowfmt_cell(buf, sizeof(buf), "abc", 5, true), 5);
	assert_string_equal(buf, "abc  ");
	rowfmt_cell(buf, sizeof(buf), "abcdef", 5, false);
	assert_string_equal(buf, "abcd~");
	rowfmt_cell(buf, sizeof(buf), "abcde", 5, false);
	assert_string_equal(buf, "abcde");
	/* UTF-8 counts by characters */
	rowfmt_cell(buf, sizeof(buf), "h\xc3\xa9t\xc3\xa9", 5, true);
	assert_string_equal(buf, "h\xc3\xa9t\xc3\xa9 ");
	rowfmt_cell(buf, sizeof(buf), "\xc3\xa9\xc3\xa9\xc3\xa9", 2, true);
	assert_string_equal(buf, "\xc3\xa9~");
	/* broken UTF-8, DEL and controls become '?' */
	rowfmt_cell(buf, sizeof(buf), "a\xc3(\x7f\tb", 10, false);
	assert_string_equal(buf, "a?(??b");
	/* never past the buffer */
	assert_int_equal(rowfmt_cell(buf, 4, "abcdef", 10, true), 3);
	assert_string_equal(buf, "abc");
	assert_int_equal(rowfmt_cell(buf, 1, "abc", 10, true), 0);
	assert_string_equal(buf, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_ndjson),
		cmocka_unit_test(test_seed),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_table_header_repeats),
		cmocka_unit_test(test_table_cells),
		cmocka_unit_test(test_cell),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
