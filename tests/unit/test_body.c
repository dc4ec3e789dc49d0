/* Unit tests for lib/body.c: request bodies and JSON answers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "body.h"
#include "uuid.h"

#define SEED "{\"total_ram\":3913,\"ram_libre\":2413,\"uso_ram\":1500," \
	"\"porcentaje_ram\":38,\"porcentaje_cpu_uso\":2," \
	"\"porcentaje_cpu_libre\":98,\"procesos_corriendo\":1," \
	"\"total_procesos\":113,\"procesos_durmiendo\":112," \
	"\"procesos_zombie\":0,\"procesos_parados\":0," \
	"\"hora\":\"2025-06-27 16:47:23\"}"
#define CANON "{\"id\":\"01A2187E-8992-706A-A64F-7969378A9EC5\"," \
	"\"ts\":\"2026-11-26T15:34:35.666Z\",\"host\":\"a\"," \
	"\"cpu_usage\":52.08,\"ram_total\":24105,\"ram_free\":21939," \
	"\"ram_used\":1716,\"total_processes\":89,\"running_processes\":1," \
	"\"sleeping_processes\":88,\"stopped_processes\":0," \
	"\"zombie_processes\":0}"
#define NOTS "{\"total_ram\":1}"

static int
decode(const char *s, enum body_kind kind, struct body *b)
{
	memset(b, 0, sizeof(*b));
	return body_decode(s, strlen(s), kind, b);
}

static void
test_kind(void **state)
{
	(void)state;
	assert_int_equal(body_kind_of(NULL), BODY_AUTO);
	assert_int_equal(body_kind_of("application/json"), BODY_JSON);
	assert_int_equal(body_kind_of("Application/JSON; charset=utf-8"),
	    BODY_JSON);
	assert_int_equal(body_kind_of("application/x-ndjson"), BODY_NDJSON);
	assert_int_equal(body_kind_of(" application/jsonl"), BODY_NDJSON);
	assert_int_equal(body_kind_of("application/json-seq"), BODY_AUTO);
	assert_int_equal(body_kind_of("application/x-www-form-urlencoded"),
	    BODY_AUTO);
}

static void
test_object_and_array(void **state)
{
	struct body b;

	(void)state;
	assert_int_equal(decode(SEED, BODY_JSON, &b), 0);
	assert_int_equal(b.n, 1);
	assert_int_equal(b.rows[0].where, 0);
	/* the first to see a record without id gives it one */
	assert_true(uuid_is_valid(b.rows[0].rec.id));
	assert_int_equal(b.rows[0].rec.id[14], '7');
	body_free(&b);

	assert_int_equal(decode(" [" SEED ",\n" CANON "] \n", BODY_JSON, &b),
	    0);
	assert_int_equal(b.n, 2);
	assert_int_equal(b.rows[1].where, 1);
	/* ids are brought to lower case */
	assert_string_equal(b.rows[1].rec.id,
	    "01a2187e-8992-706a-a64f-7969378a9ec5");
	assert_string_equal(b.rows[1].rec.host, "a");
	body_free(&b);

	assert_int_equal(decode("[]", BODY_AUTO, &b), 0);
	assert_int_equal(b.n, 0);
	body_free(&b);
}

/* A field given twice: that record refused, by index; the others kept. */
static void
test_given_twice(void **state)
{
	char body[2048], twice[1024];
	struct body b;

	(void)state;
	/* CANON with a host before its own */
	snprintf(twice, sizeof(twice), "{\"host\":\"b\",%s", CANON + 1);
	snprintf(body, sizeof(body), "[%s, 1, %s, %s]", CANON, twice, SEED);
	assert_int_equal(decode(body, BODY_JSON, &b), -1);
	assert_int_equal(b.n, 2);
	assert_int_equal(b.nerrors, 2);
	assert_int_equal(b.errors[0].index, 1);
	assert_int_equal(b.errors[1].index, 2);
	assert_string_equal(b.errors[1].reason.msg, "host: given twice");
	assert_int_equal(b.rows[1].where, 3);
	body_free(&b);
	assert_int_equal(decode(twice, BODY_JSON, &b), -1);
	assert_int_equal(b.n, 0);
	assert_string_equal(b.errors[0].reason.msg, "host: given twice");
	body_free(&b);
	snprintf(body, sizeof(body), "%s\n%s\n", CANON, twice);
	assert_int_equal(decode(body, BODY_NDJSON, &b), -1);
	assert_int_equal(b.n, 1);
	assert_int_equal(b.errors[0].index, 1);
	assert_string_equal(b.errors[0].reason.msg, "host: given twice");
	body_free(&b);
}

static void
test_ndjson(void **state)
{
	struct body b;

	(void)state;
	assert_int_equal(decode(SEED "\r\n\n  \n" CANON, BODY_NDJSON, &b), 0);
	assert_int_equal(b.n, 2);
	assert_int_equal(b.rows[1].where, 3);	/* the line, blanks counted */
	body_free(&b);
	/* without a type, two values are NDJSON; one object stays one */
	assert_int_equal(decode(SEED "\n" SEED "\n", BODY_AUTO, &b), 0);
	assert_int_equal(b.n, 2);
	assert_string_not_equal(b.rows[0].rec.id, b.rows[1].rec.id);
	body_free(&b);
	assert_int_equal(decode("{\n \"total_ram\": 3913, \"ram_libre\": 2413,"
	    " \"uso_ram\": 1500, \"porcentaje_cpu_uso\": 2,\n"
	    "\"procesos_corriendo\": 1, \"total_procesos\": 113,"
	    " \"procesos_durmiendo\": 112, \"procesos_zombie\": 0,"
	    " \"procesos_parados\": 0, \"hora\": \"2025-06-27 16:47:23\"\n}",
	    BODY_AUTO, &b), 0);
	assert_int_equal(b.n, 1);
	body_free(&b);
}

static void
test_errors(void **state)
{
	struct body b;

	(void)state;
	/* every bad record is named, in order */
	assert_int_equal(decode("[" SEED "," NOTS ",3," SEED "]", BODY_JSON,
	    &b), -1);
	assert_int_equal(b.nerrors, 2);
	assert_int_equal(b.errors[0].index, 1);
	assert_string_equal(b.errors[0].reason.msg, "ts: missing");
	assert_int_equal(b.errors[1].index, 2);
	assert_string_equal(b.errors[1].reason.msg, "not a JSON object but a "
	    "number");
	body_free(&b);

	assert_int_equal(decode(SEED "\n{\"x\":\n" SEED, BODY_NDJSON, &b), -1);
	assert_int_equal(b.nerrors, 1);
	assert_int_equal(b.errors[0].index, 1);
	body_free(&b);

	/* the body itself: index -1 */
	assert_int_equal(decode("", BODY_JSON, &b), -1);
	assert_int_equal(b.errors[0].index, -1);
	assert_string_equal(b.errors[0].reason.msg, "empty body");
	body_free(&b);
	assert_int_equal(decode(" \n ", BODY_NDJSON, &b), -1);
	assert_string_equal(b.errors[0].reason.msg, "empty body");
	body_free(&b);
	assert_int_equal(decode("[" SEED, BODY_JSON, &b), -1);
	assert_string_equal(b.errors[0].reason.msg, "invalid JSON: truncated");
	body_free(&b);
	assert_int_equal(decode("\"x\"", BODY_AUTO, &b), -1);
	assert_string_equal(b.errors[0].reason.msg, "want a JSON object or an "
	    "array of objects");
	body_free(&b);
	assert_int_equal(decode(SEED SEED, BODY_JSON, &b), -1);
	assert_int_equal(b.errors[0].index, -1);
	assert_non_null(strstr(b.errors[0].reason.msg, "text after the value"));
	body_free(&b);
	assert_int_equal(decode("{\"hora\":\"\xff\"}", BODY_JSON, &b), -1);
	assert_int_equal(b.errors[0].index, -1);
	body_free(&b);
	memset(&b, 0, sizeof(b));
	assert_int_equal(body_decode("{}\0{}", 5, BODY_JSON, &b), -1);
	assert_string_equal(b.errors[0].reason.msg, "NUL byte in the body");
	body_free(&b);
}

static void
test_answers(void **state)
{
	struct body_error e[2] = {
		{ 0, { "ts: missing" } },
		{ 3, { "say \"hi\"" } },
	};
	char *s;

	(void)state;
	s = body_answer_ok(3, 1, "python_api");
	assert_string_equal(s, "{\"stored\":3,\"duplicates\":1,"
	    "\"api\":\"python_api\"}");
	free(s);
	s = body_answer_invalid(e, 2, "a/b");
	assert_string_equal(s, "{\"error\":\"invalid records\",\"api\":\"a/b\","
	    "\"errors\":[{\"index\":0,\"reason\":\"ts: missing\"},"
	    "{\"index\":3,\"reason\":\"say \\\"hi\\\"\"}]}");
	free(s);
	s = body_answer("status", "ok", "x");
	assert_string_equal(s, "{\"status\":\"ok\",\"api\":\"x\"}");
	free(s);
	s = body_answer("error", "unauthorized", NULL);
	assert_string_equal(s, "{\"error\":\"unauthorized\"}");
	free(s);
}

static void *
no_memory(void *p, size_t size)
{
	(void)p;
	(void)size;
	return NULL;
}

/*
 * No memory for the error list: a bad record is still a bad body (-1,
 * counted in nbad), never a good one with the record dropped unseen.
 */
static void
test_errors_out_of_memory(void **state)
{
	struct body b;

	(void)state;
	body_set_errors_realloc(no_memory);
	assert_int_equal(decode(SEED "\n" NOTS "\n", BODY_NDJSON, &b), -1);
	assert_int_equal(b.n, 1);
	assert_int_equal(b.nerrors, 0);
	assert_int_equal(b.nbad, 1);
	body_free(&b);
	assert_int_equal(decode("[" SEED "," NOTS "]", BODY_JSON, &b), -1);
	assert_int_equal(b.nbad, 1);
	body_free(&b);
	assert_int_equal(decode(NOTS, BODY_JSON, &b), -1);
	assert_int_equal(b.nbad, 1);
	body_free(&b);
	body_set_errors_realloc(NULL);
	assert_int_equal(decode(SEED "\n" NOTS "\n", BODY_NDJSON, &b), -1);
	assert_int_equal(b.nerrors, 1);
	assert_int_equal(b.nbad, 1);
	body_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kind),
		cmocka_unit_test(test_object_and_array),
		cmocka_unit_test(test_given_twice),
		cmocka_unit_test(test_ndjson),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_errors_out_of_memory),
		cmocka_unit_test(test_answers),
	};

	return cmocka_run_group_tests_name("body", tests, NULL, NULL);
}
