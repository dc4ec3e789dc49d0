/* Unit tests for lib/record.c: both dialects, validation, serialization. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "batch.h"
#include "record.h"

#define CANON "{\"id\":\"01a2186f-f33e-7040-a2be-a81c53714c88\"," \
	"\"ts\":\"2026-11-26T15:18:39.678Z\",\"host\":\"vm\"," \
	"\"collector\":\"procfs\",\"cpu_usage\":12.5,\"cpu_free\":87.5," \
	"\"ram_total\":24105,\"ram_free\":23728,\"ram_available\":23763," \
	"\"ram_used\":342,\"ram_percentage\":1.42,\"total_processes\":64," \
	"\"running_processes\":2,\"sleeping_processes\":60," \
	"\"stopped_processes\":1,\"zombie_processes\":1,\"threads\":78}"

#define SEED "{\"total_ram\":3913,\"ram_libre\":2413,\"uso_ram\":1500," \
	"\"porcentaje_ram\":38,\"porcentaje_cpu_uso\":2," \
	"\"porcentaje_cpu_libre\":98,\"procesos_corriendo\":1," \
	"\"total_procesos\":113,\"procesos_durmiendo\":112," \
	"\"procesos_zombie\":0,\"procesos_parados\":0," \
	"\"hora\":\"2025-06-27 16:47:23\"}"

static int
parse(const char *s, struct record *rec, struct why *why)
{
	return record_parse(s, strlen(s), rec, why);
}

/* Replace the first "key":value in src (value up to , or }) by repl. */
static char *
with(const char *src, const char *key, const char *repl)
{
	static char buf[2048];
	char needle[64];
	const char *p, *end;

	snprintf(needle, sizeof(needle), "\"%s\":", key);
	p = strstr(src, needle);
	assert_non_null(p);
	end = p + strlen(needle);
	if (*end == '"')
		end = strchr(end + 1, '"') + 1;
	else
		end += strcspn(end, ",}");
	snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(p - src), src, repl, end);
	return buf;
}

static void
test_canonical(void **state)
{
	struct record r;
	struct why why;

	(void)state;
	assert_int_equal(parse(CANON, &r, &why), 0);
	assert_string_equal(r.id, "01a2186f-f33e-7040-a2be-a81c53714c88");
	assert_int_equal(r.ts_ms, 1795706319678LL);
	assert_string_equal(r.host, "vm");
	assert_string_equal(r.collector, "procfs");
	assert_true(r.cpu_usage == 12.5 && r.cpu_free == 87.5);
	assert_int_equal(r.ram_total, 24105);
	assert_int_equal(r.ram_available, 23763);
	assert_int_equal(r.ram_used, 342);
	assert_int_equal(r.total_processes, 64);
	assert_int_equal(r.stopped_processes, 1);
	assert_int_equal(r.zombie_processes, 1);
	assert_int_equal(r.threads, 78);
}

static void
test_seed(void **state)
{
	struct record r;
	struct why why;

	(void)state;
	assert_int_equal(parse(SEED, &r, &why), 0);
	assert_string_equal(r.id, "");
	assert_int_equal(r.ts_ms, 1751042843000LL);
	assert_int_equal(r.ram_total, 3913);
	assert_int_equal(r.ram_free, 2413);
	assert_int_equal(r.ram_used, 1500);
	/* derived: available = total - used */
	assert_int_equal(r.ram_available, 2413);
	assert_true(r.cpu_usage == 2 && r.cpu_free == 98);
	assert_true(r.ram_percentage == 38);
	assert_int_equal(r.sleeping_processes, 112);
	assert_int_equal(r.threads, -1);
}

static void
test_seed_zombies_alias(void **state)
{
	struct record r;
	struct why why;
	char *s = with(SEED, "procesos_zombie", "\"procesos_zombies\":0");

	(void)state;
	assert_int_equal(parse(s, &r, &why), 0);
	s = with(SEED, "procesos_zombie",
	    "\"procesos_zombie\":0,\"procesos_zombies\":1");
	assert_int_equal(parse(s, &r, &why), -1);
	assert_string_equal(why.msg, "procesos_zombies: given twice (also as "
	    "procesos_zombie)");
}

/*
 * A field given twice is refused, whichever way it is written; a name no
 * field reads may come twice, and the same name in a nested object is
 * another object's.
 */
static void
test_given_twice(void **state)
{
	struct record r;
	struct why why;
	char *s;

	(void)state;
	s = with(CANON, "host", "\"host\":\"a\",\"host\":\"b\"");
	assert_int_equal(parse(s, &r, &why), -1);
	assert_string_equal(why.msg, "host: given twice");
	/* an escape in the second: json-c decodes both */
	s = with(CANON, "threads", "\"threads\":1, \"t\\u0068reads\" : 2");
	assert_int_equal(parse(s, &r, &why), -1);
	assert_string_equal(why.msg, "threads: given twice");
	/* a string holding a colon and a quote is not a key */
	s = with(CANON, "host", "\"host\":\"a:\\\"host\\\":b\"");
	assert_int_equal(parse(s, &r, &why), 0);
	assert_string_equal(r.host, "a:\"host\":b");
	s = with(CANON, "threads", "\"threads\":7,\"x\":1,\"x\":2,"
	    "\"y\":{\"host\":1,\"host\":[{\"host\":2}]}");
	assert_int_equal(parse(s, &r, &why), 0);
	assert_int_equal(r.threads, 7);
}

static void
test_seed_fixture_file(void **state)
{
	char line[4096];
	struct why why;
	struct record r;
	int n = 0;
	FILE *fp;

	(void)state;
	fp = fopen("tests/fixtures/seed-records.ndjson", "r");
	assert_non_null(fp);
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (record_parse(line, strlen(line), &r, &why) != 0)
			fail_msg("line %d: %s", n + 1, why.msg);
		n++;
	}
	fclose(fp);
	assert_int_equal(n, 200);
}

struct bad_case {
	const char *key;	/* field to replace, NULL: whole line */
	const char *repl;
	const char *why;
};

static void
test_rejects(void **state)
{
	static const struct bad_case cases[] = {
		{ "ram_total", "\"ram_total\":-1",
		  "ram_total: must not be negative (-1)" },
		{ "ram_total", "\"ram_total\":\"big\"",
		  "ram_total: must be an integer, not a string" },
		{ "ram_total", "\"ram_total\":{}",
		  "ram_total: must be an integer, not an object" },
		{ "ram_total", "\"ram_total\":1.5",
		  "ram_total: must be an integer, not 1.5" },
		{ "ram_total", "\"ram_total\":99999999999999999999999",
		  "ram_total: too large (at most 2147483647)" },
		{ "ram_total", "\"ram_total\":2147483648",
		  "ram_total: 2147483648 is out of range (at most "
		  "2147483647)" },
		{ "ram_total", "\"ram_total\":2e12",
		  "ram_total: 2000000000000 is out of range (at most "
		  "2147483647)" },
		{ "ram_total", "\"ram_total\":300",
		  "ram_used (342) exceeds ram_total (300)" },
		{ "ram_total", "",
		  "ram_total: missing" },
		{ "cpu_usage", "\"cpu_usage\":NaN",
		  "cpu_usage: not a finite number" },
		{ "cpu_usage", "\"cpu_usage\":Infinity",
		  "cpu_usage: not a finite number" },
		{ "cpu_usage", "\"cpu_usage\":101",
		  "cpu_usage: 101 is not a percentage in [0, 100]" },
		{ "cpu_free", "\"cpu_free\":50",
		  "cpu_usage (12.5) and cpu_free (50) do not add up to 100" },
		{ "ram_percentage", "\"ram_percentage\":-0.5",
		  "ram_percentage: -0.5 is not a percentage in [0, 100]" },
		{ "running_processes", "\"running_processes\":10",
		  "processes by state (72) exceed total_processes (64)" },
		{ "ts", "\"ts\":\"yesterday\"",
		  "ts: \"yesterday\": not an RFC 3339 time (want "
		  "YYYY-MM-DDTHH:MM:SS[.mmm]Z)" },
		{ "ts", "\"ts\":\"2026-02-30T00:00:00Z\"",
		  "ts: \"2026-02-30T00:00:00Z\": date or time out of range" },
		{ "ts", "\"ts\":\"2026-01-01T00:00:00\"",
		  "ts: \"2026-01-01T00:00:00\": time zone missing (want Z or "
		  "+HH:MM)" },
		{ "ts", "\"ts\":12",
		  "ts: must be a string, not a number" },
		{ "id", "\"id\":\"not-a-uuid\"",
		  "id: \"not-a-uuid\" is not a UUID" },
		{ "host", "\"host\":\"a\\u0001b\"",
		  "host: control character at offset 1" },
		{ "total_processes", "\"total_processes\":null",
		  "total_processes: must be an integer, not null" },
	};
	struct why why;
	struct record r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *s = with(CANON, cases[i].key, cases[i].repl);
		size_t len;

		/* an emptied field leaves ",," or "{,": mend the JSON */
		if (cases[i].repl[0] == '\0') {
			char *p = strstr(s, ",,");

			if (p != NULL)
				memmove(p, p + 1, strlen(p));
		}
		len = strlen(s);
		if (record_parse(s, len, &r, &why) != -1)
			fail_msg("case %zu accepted: %s", i, s);
		if (strcmp(why.msg, cases[i].why) != 0)
			fail_msg("case %zu: got \"%s\", want \"%s\"", i,
			    why.msg,
			    cases[i].why);
	}
}

static void
test_rejects_json(void **state)
{
	static const struct bad_case cases[] = {
		{ NULL, "[1,2]", "not a JSON object but an array" },
		{ NULL, "{\"a\":1} x",
		  "invalid JSON at column 9: text after the object" },
		{ NULL, "{\"a\":1}{\"a\":1}",
		  "invalid JSON at column 8: text after the object" },
		{ NULL, "{\"a\":1,}",
		  "invalid JSON at column 8: unexpected character" },
		{ NULL, "{\"a\":", "invalid JSON: truncated at column 6" },
		{ NULL, "{\"a\":\"\xff\"}", "invalid UTF-8 at column 7" },
		/* json-c's own check lets these two through */
		{ NULL, "{\"a\":\"\xc0\xaf\"}", "invalid UTF-8 at column 7" },
		{ NULL, "{\"a\":\"\xed\xa0\x80\"}",
		  "invalid UTF-8 at column 7" },
		{ NULL, "\xef\xbb\xbf{\"a\":1}", "a byte order mark before the "
		  "object (only the first line may have one)" },
		{ NULL, "42", "not a JSON object but a number" },
		{ NULL, "null", "not a JSON object but null" },
		{ NULL, "true", "not a JSON object but a boolean" },
	};
	struct why why;
	struct record r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(parse(cases[i].repl, &r, &why), -1);
		assert_string_equal(why.msg, cases[i].why);
	}
	assert_int_equal(record_parse("{\"a\"\0:1}", 8, &r, &why), -1);
	assert_string_equal(why.msg, "NUL byte at column 5");
}

/*
 * "This line is one JSON object", asked of record_line_object and of its
 * two users, record_parse (sm-store, sm-alert) and batch_prepare (sm-post,
 * sm-split): one verdict and one reason for each line.  Before they
 * shared the check, batch_prepare took "CANON\f" (isspace after the
 * object) and both named "[1] x" as text after a value or "object".
 */
#define CANON_COL(n) (sizeof(CANON) - 1 + (n))

static void
test_line_object(void **state)
{
	static char why_ws[64], why_two[64], why_cat[64], why_ff[64];
	static char why_trunc[64], why_nul[64];
	const struct {
		const char *line;
		size_t len;		/* 0: strlen */
		const char *why;	/* NULL: accepted */
	} cases[] = {
		{ CANON, 0, NULL },
		{ " \t" CANON, 0, NULL },
		{ CANON " \t ", 0, NULL },
		{ CANON "\r\n", 0, NULL },
		{ "\r\n" CANON "\r", 0, NULL },
		{ "", 0, "invalid JSON: truncated at column 1" },
		{ "   ", 0, "invalid JSON: truncated at column 4" },
		{ CANON "  x", 0, why_ws },
		{ CANON " " CANON, 0, why_two },
		{ CANON CANON, 0, why_cat },
		{ CANON "\f", 0, why_ff },
		{ "\f" CANON, 0, "invalid JSON at column 1: unexpected "
		  "character" },
		{ "[" CANON "]", 0, "not a JSON object but an array" },
		{ "[1] x", 0, "not a JSON object but an array" },
		{ "42", 0, "not a JSON object but a number" },
		{ "\"x\"", 0, "not a JSON object but a string" },
		{ "true", 0, "not a JSON object but a boolean" },
		{ "null", 0, "not a JSON object but null" },
		{ CANON, 40, why_trunc },
		{ "{\"a\"\0:1}", 8, "NUL byte at column 5" },
		{ CANON "\0", sizeof(CANON), why_nul },
		{ "\xef\xbb\xbf" CANON, 0, "a byte order mark before the "
		  "object (only the first line may have one)" },
		{ "{\"a\":\"\xc0\xaf\"}", 0, "invalid UTF-8 at column 7" },
	};
	struct why why;
	struct json_tokener *tok;
	struct json_object *obj;
	struct batch_buf out = { NULL, 0, 0 };
	struct record r;
	size_t i, len, start, end, roff, rlen;

	(void)state;
	snprintf(why_ws, sizeof(why_ws), "invalid JSON at column %zu: "
	    "text after the object", CANON_COL(3));
	snprintf(why_two, sizeof(why_two), "invalid JSON at column %zu: "
	    "text after the object", CANON_COL(2));
	snprintf(why_cat, sizeof(why_cat), "invalid JSON at column %zu: "
	    "text after the object", CANON_COL(1));
	snprintf(why_ff, sizeof(why_ff), "invalid JSON at column %zu: "
	    "text after the object", CANON_COL(1));
	snprintf(why_trunc, sizeof(why_trunc), "invalid JSON: truncated at "
	    "column 41");
	snprintf(why_nul, sizeof(why_nul), "NUL byte at column %zu",
	    CANON_COL(1));
	assert_non_null(tok = json_tokener_new());
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		len = cases[i].len ? cases[i].len : strlen(cases[i].line);
		why_clear(&why);
		obj = record_line_object(i % 2 ? tok : NULL, cases[i].line,
		    len, &start, &end, &why);
		if (cases[i].why == NULL) {
			if (obj == NULL)
				fail_msg("case %zu refused: %s", i, why.msg);
			/* the object's own bytes, "{" to "}" */
			assert_int_equal(end - start, sizeof(CANON) - 1);
			assert_memory_equal(cases[i].line + start, CANON,
			    end - start);
			json_object_put(obj);
			assert_int_equal(record_parse(cases[i].line, len, &r,
			    &why), 0);
			assert_int_equal(batch_prepare(tok, cases[i].line, len,
			    &out, &roff, &rlen, &why), 0);
			assert_int_equal(rlen, sizeof(CANON) - 1);
			continue;
		}
		if (obj != NULL)
			fail_msg("case %zu accepted", i);
		if (strcmp(why.msg, cases[i].why) != 0)
			fail_msg("case %zu: got \"%s\", want \"%s\"", i,
			    why.msg, cases[i].why);
		why_clear(&why);
		assert_int_equal(record_parse(cases[i].line, len, &r, &why),
		    -1);
		if (strcmp(why.msg, cases[i].why) != 0)
			fail_msg("record_parse, case %zu: got \"%s\"", i,
			    why.msg);
		why_clear(&why);
		out.len = 0;
		assert_int_equal(batch_prepare(tok, cases[i].line, len, &out,
		    &roff, &rlen, &why), -1);
		if (strcmp(why.msg, cases[i].why) != 0)
			fail_msg("batch_prepare, case %zu: got \"%s\"", i,
			    why.msg);
		assert_int_equal(out.len, 0);
	}
	batch_buf_free(&out);
	json_tokener_free(tok);
}

static void
test_optional_null(void **state)
{
	struct record r;
	struct why why;

	(void)state;
	assert_int_equal(parse(with(CANON, "threads", "\"threads\":null"), &r,
	    &why), 0);
	assert_int_equal(r.threads, -1);
}

static void
test_roundtrip_canonical(void **state)
{
	char buf[2048];
	struct why why;
	struct record a, b;
	int n;

	(void)state;
	assert_int_equal(parse(CANON, &a, &why), 0);
	n = record_format(&a, RECORD_CANONICAL, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(buf[n - 1], '\n');
	assert_string_equal(buf, CANON "\n");
	assert_int_equal(record_parse(buf, (size_t)n - 1, &b, &why), 0);
	assert_memory_equal(&a, &b, sizeof(a));
}

static void
test_to_seed(void **state)
{
	char buf[2048];
	struct why why;
	struct record a, b;
	int n;

	(void)state;
	assert_int_equal(parse(CANON, &a, &why), 0);
	n = record_format(&a, RECORD_SEED, buf, sizeof(buf));
	assert_true(n > 0);
	assert_string_equal(buf,
	    "{\"id\":\"01a2186f-f33e-7040-a2be-a81c53714c88\","
	    "\"hora\":\"2026-11-26 15:18:39\",\"porcentaje_cpu_uso\":12.5,"
	    "\"porcentaje_cpu_libre\":87.5,\"total_ram\":24105,"
	    "\"ram_libre\":23728,\"uso_ram\":342,\"porcentaje_ram\":1.42,"
	    "\"total_procesos\":64,\"procesos_corriendo\":2,"
	    "\"procesos_durmiendo\":60,\"procesos_parados\":1,"
	    "\"procesos_zombie\":1}\n");
	/* and back: only what the seed dialect cannot carry is lost */
	assert_int_equal(record_parse(buf, (size_t)n, &b, &why), 0);
	assert_string_equal(b.id, a.id);
	assert_int_equal(b.ts_ms, a.ts_ms / 1000 * 1000);
	assert_int_equal(b.ram_used, a.ram_used);
	assert_int_equal(b.ram_available, a.ram_total - a.ram_used);
}

static void
test_percent_format(void **state)
{
	struct record r;
	char buf[2048];
	struct why why;

	(void)state;
	assert_int_equal(parse(CANON, &r, &why), 0);
	r.cpu_usage = 33.333333;
	r.cpu_free = 100 - r.cpu_usage;
	r.ram_percentage = 0.0;
	assert_true(record_format(&r, RECORD_CANONICAL, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "\"cpu_usage\":33.33,"));
	assert_non_null(strstr(buf, "\"cpu_free\":66.67,"));
	assert_non_null(strstr(buf, "\"ram_percentage\":0,"));
	/* too small a buffer fails instead of truncating */
	assert_int_equal(record_format(&r, RECORD_CANONICAL, buf, 20), -1);
}

static void
test_dialect_names(void **state)
{
	enum record_dialect d;

	(void)state;
	assert_int_equal(record_dialect_parse("seed", &d), 0);
	assert_int_equal(d, RECORD_SEED);
	assert_int_equal(record_dialect_parse("canonical", &d), 0);
	assert_int_equal(d, RECORD_CANONICAL);
	assert_int_equal(record_dialect_parse("spanish", &d), -1);
}

/*
 * record_scan against json-c and record_from_json: whatever the fast path
 * accepts, the json-c path accepts too, with the very same record.
 * Returns whether the fast path accepted s.
 */
static bool
scan_agrees(const char *s)
{
	struct json_tokener *tok;
	struct json_object *obj;
	struct record fast, slow;
	struct why why;
	size_t len = strlen(s), end, rest;
	int ref = -1;

	end = record_scan(s, len, &fast, NULL);
	for (rest = end; rest < len && strchr(" \t\r\n", s[rest]); rest++)
		;
	if (end == 0 || rest < len)
		return false;
	tok = json_tokener_new();
	assert_non_null(tok);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
	    JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, s, (int)len);
	if (obj != NULL)
		ref = record_from_json(obj, &slow, &why);
	json_object_put(obj);
	json_tokener_free(tok);
	if (ref != 0)
		fail_msg("record_scan accepted what json-c refuses: %s", s);
	if (memcmp(&fast, &slow, sizeof(fast)) != 0)
		fail_msg("record_scan and json-c differ on: %s", s);
	return true;
}

static void
test_scan(void **state)
{
	static const char *const declined[] = {
		"{}", "[]", "{\"ts\":\"x\"}", "{\"id\":\"a\\u0041\"}",
		"{\"a\":{},\"ts\":\"2026-11-26T15:18:39Z\"}",
	};
	static const char *const pairs[][2] = {
		/* each replaces a value of CANON; the scan must agree */
		{ "cpu_usage", "\"cpu_usage\":1e1" },
		{ "cpu_usage", "\"cpu_usage\":12.50000000000000000001" },
		{ "cpu_usage", "\"cpu_usage\":33.333333333333336" },
		{ "cpu_usage", "\"cpu_usage\":0.1" },
		{ "cpu_usage", "\"cpu_usage\":12" },
		{ "cpu_usage", "\"cpu_usage\":-0" },
		{ "cpu_usage", "\"cpu_usage\":100.0000000000001" },
		{ "ram_total", "\"ram_total\":24105.0" },
		{ "ram_total", "\"ram_total\":024105" },
		{ "ram_total", "\"ram_total\":2147483647" },
		{ "ram_total", "\"ram_total\":2147483648" },
		{ "ram_total", "\"ram_total\":99999999999999999999" },
		{ "threads", "\"threads\":null" },
		{ "threads", "\"threads\":8388608" },
		{ "cpu_free", "\"cpu_free\":null" },
		{ "ram_available", "\"ram_available\":null" },
		{ "ram_percentage", "\"ram_percentage\":null" },
		{ "cpu_usage", "\"cpu_usage\":null" },
		{ "host", "\"host\":\"\"" },
		{ "host", "\"host\":\"a\x7f\"" },
		{ "host", "\"host\":\"caf\xc3\xa9\"" },
		{ "host", "\"host\":\"a\\\"b\"" },
		{ "host", "\"host\":null" },
		{ "host", "\"host\":1" },
		{ "id", "\"id\":\"01A2186F-F33E-7040-A2BE-A81C53714C88\"" },
		{ "id", "\"id\":\"not-a-uuid\"" },
		{ "id", "\"id\":null" },
		{ "ts", "\"ts\":\"2026-11-26 15:18:39\"" },
		{ "ts", "\"ts\":\"2026-13-26T15:18:39Z\"" },
		{ "ts", "\"ts\":\"2026-11-26T15:18:39+01:00\"" },
		{ "collector", "\"collector\":\"procfs\",\"extra\":[1,2]" },
		{ "collector", "\"collector\":\"procfs\",\"extra\":true" },
		{ "collector", "\"collector\":\"procfs\",\"extra\":-1.5e3" },
		{ "collector", "\"collector\":\"procfs\",\"extra\":\"x\"" },
		{ "collector", "\"collector\":\"procfs\",\"hora\":\"2025-06-27 "
		    "16:47:23\"" },
		{ "collector", "\"collector\":\"procfs\",\"threads\":3" },
		{ "collector", "\"collector\" : \"procfs\" ,\n\t\"x\":null" },
		{ "zombie_processes", "\"procesos_zombies\":1" },
		{ "running_processes", "\"running_processes\":100" },
	};
	char buf[4096];
	size_t i;

	(void)state;
	assert_true(scan_agrees(CANON));
	assert_true(scan_agrees(SEED));
	assert_true(scan_agrees(" \t" SEED "\t "));
	for (i = 0; i < sizeof(declined) / sizeof(declined[0]); i++)
		assert_false(scan_agrees(declined[i]));
	for (i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++)
		scan_agrees(with(CANON, pairs[i][0], pairs[i][1]));
	/* one byte changed at every place, to each of a few characters */
	for (i = 0; i < strlen(CANON); i++) {
		const char *c;

		for (c = "{}[]\":,.-+0159eE \t\\nxa"; *c != '\0'; c++) {
			snprintf(buf, sizeof(buf), "%s", CANON);
			buf[i] = *c;
			scan_agrees(buf);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_canonical),
		cmocka_unit_test(test_seed),
		cmocka_unit_test(test_seed_zombies_alias),
		cmocka_unit_test(test_given_twice),
		cmocka_unit_test(test_seed_fixture_file),
		cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_rejects_json),
		cmocka_unit_test(test_optional_null),
		cmocka_unit_test(test_roundtrip_canonical),
		cmocka_unit_test(test_to_seed),
		cmocka_unit_test(test_percent_format),
		cmocka_unit_test(test_dialect_names),
		cmocka_unit_test(test_scan),
		cmocka_unit_test(test_line_object),
	};

	return cmocka_run_group_tests_name("record", tests, NULL, NULL);
}
