/* Unit tests for lib/batch.c: records checked, given ids, framed, kept. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <json-c/json.h>

#include "batch.h"
#include "uuid.h"

#define ID1 "018f3e5c-1b2a-7c3d-8e4f-5a6b7c8d9e0f"

static char *
prepared(const char *line, int want_rc, struct why *why)
{
	struct json_tokener *tok = json_tokener_new();
	struct batch_buf out = { NULL, 0, 0 };
	size_t off = 99, len = 99;
	char *s;

	/* as lib/deliver.c sets it */
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
	    JSON_TOKENER_VALIDATE_UTF8 | JSON_TOKENER_ALLOW_TRAILING_CHARS);
	/* something before, to see the offsets are right */
	assert_int_equal(batch_buf_add(&out, "[", 1), 0);
	assert_int_equal(batch_prepare(tok, line, strlen(line), &out, &off,
	    &len, why), want_rc);
	json_tokener_free(tok);
	if (want_rc == -1) {
		assert_int_equal(out.len, 1);
		batch_buf_free(&out);
		return NULL;
	}
	assert_int_equal(off, 1);
	assert_int_equal(len, out.len - 1);
	s = strdup(out.p + 1);
	batch_buf_free(&out);
	return s;
}

static void
test_prepare_keeps_id_and_bytes(void **state)
{
	struct why why;
	char *s;

	(void)state;
	/* unknown fields, spacing and number spelling all pass untouched */
	s = prepared("  {\"id\":\"" ID1 "\", \"x\" : 1.50e1,\"zz\":[1,{}]}  ",
	    0, &why);
	assert_string_equal(s, "{\"id\":\"" ID1 "\", \"x\" : 1.50e1,"
	    "\"zz\":[1,{}]}");
	free(s);
	/* an id the receiver may refuse is still the receiver's call */
	s = prepared("{\"id\":42}", 0, &why);
	assert_string_equal(s, "{\"id\":42}");
	free(s);
}

static void
test_prepare_adds_id(void **state)
{
	struct json_object *o, *id;
	struct why why;
	char *s;

	(void)state;
	s = prepared("{\"hora\":\"2025-06-27 16:47:23\", \"extra\":true}", 0,
	    &why);
	assert_int_equal(strncmp(s, "{\"id\":\"", 7), 0);
	assert_string_equal(s + 7 + 36, "\",\"hora\":\"2025-06-27 "
	    "16:47:23\", \"extra\":true}");
	assert_non_null(o = json_tokener_parse(s));
	assert_true(json_object_object_get_ex(o, "id", &id));
	assert_true(uuid_is_valid(json_object_get_string(id)));
	assert_int_equal(json_object_get_string(id)[14], '7');
	json_object_put(o);
	free(s);

	s = prepared("{}", 0, &why);
	assert_int_equal(strlen(s), 7 + 36 + 2);
	assert_string_equal(s + 7 + 36, "\"}");
	free(s);

	s = prepared("{ }", 0, &why);
	assert_string_equal(s + 7 + 36, "\" }");
	free(s);

	/* a null id is replaced where it stands */
	s = prepared("{\"a\":1,\"id\":null,\"b\":2}", 0, &why);
	assert_non_null(o = json_tokener_parse(s));
	assert_true(json_object_object_get_ex(o, "id", &id));
	assert_true(uuid_is_valid(json_object_get_string(id)));
	assert_int_equal(strncmp(s, "{\"a\":1,\"id\":\"", 13), 0);
	json_object_put(o);
	free(s);
}

/* A valid record: the one-pass way (record_scan), same bytes as json-c's. */
static void
test_prepare_record(void **state)
{
	static const char rest[] = "\"ts\":\"2026-11-26T15:18:39.678Z\", "
	    "\"cpu_usage\":12.5,\"ram_total\":24105,\"ram_free\":23728,"
	    "\"ram_used\":342,\"total_processes\":64,"
	    "\"running_processes\":2,\"sleeping_processes\":60,"
	    "\"stopped_processes\":1,\"zombie_processes\":1}";
	struct json_object *o, *id;
	char line[1024];
	struct why why;
	char *s;

	(void)state;
	snprintf(line, sizeof(line), " {\"id\":\"%s\",%s \t", ID1, rest);
	s = prepared(line, 0, &why);
	assert_int_equal(strncmp(s, line + 1, strlen(s)), 0);
	assert_int_equal(strlen(s), strlen(line) - 3);
	free(s);

	snprintf(line, sizeof(line), "{%s", rest);
	s = prepared(line, 0, &why);
	assert_int_equal(strncmp(s, "{\"id\":\"", 7), 0);
	assert_string_equal(s + 7 + 36 + 2, rest);
	assert_non_null(o = json_tokener_parse(s));
	assert_true(json_object_object_get_ex(o, "id", &id));
	assert_true(uuid_is_valid(json_object_get_string(id)));
	json_object_put(o);
	free(s);

	snprintf(line, sizeof(line), "{\"id\":null,%s", rest);
	s = prepared(line, 0, &why);
	assert_int_equal(strncmp(s, "{\"id\":\"", 7), 0);
	assert_non_null(o = json_tokener_parse(s));
	assert_true(json_object_object_get_ex(o, "id", &id));
	assert_true(uuid_is_valid(json_object_get_string(id)));
	json_object_put(o);
	free(s);

	snprintf(line, sizeof(line), "{%s x", rest);
	assert_null(prepared(line, -1, &why));
	assert_non_null(strstr(why.msg, "text after the object"));
}

static void
test_prepare_ids_differ(void **state)
{
	struct why why;
	char *a, *b;

	(void)state;
	a = prepared("{\"n\":1}", 0, &why);
	b = prepared("{\"n\":1}", 0, &why);
	assert_string_not_equal(a, b);
	free(a);
	free(b);
}

static void
test_prepare_refuses(void **state)
{
	static const struct {
		const char *line, *why;
	} bad[] = {
		{ "{\"a\":1", "invalid JSON: truncated at column 7" },
		{ "{\"a\":}", "invalid JSON at column 6" },
		{ "[1,2]", "not a JSON object but an array" },
		{ "\"x\"", "not a JSON object but a string" },
		{ "12", "not a JSON object but a number" },
		{ "null", "not a JSON object but null" },
		{ "{\"a\":1} x", "invalid JSON at column 9: text after the "
		  "object" },
		{ "{\"a\":1}{}", "invalid JSON at column 8: text after the "
		  "object" },
		{ "\xef\xbb\xbf{\"a\":1}", "a byte order mark before the "
		  "object" },
		{ "{\"a\":\"\xff\"}", "invalid UTF-8 at column 7" },
		{ "{\"a\":\"\xed\xa0\x80\"}", "invalid UTF-8 at column 7" },
	};
	struct why why;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why.msg[0] = '\0';
		assert_null(prepared(bad[i].line, -1, &why));
		if (strncmp(why.msg, bad[i].why, strlen(bad[i].why)) != 0)
			fail_msg("%s: \"%s\", want \"%s\"", bad[i].line,
			    why.msg, bad[i].why);
	}
}

static void
test_prepare_nul(void **state)
{
	struct json_tokener *tok = json_tokener_new();
	struct batch_buf out = { NULL, 0, 0 };
	struct why why;
	size_t off, len;

	(void)state;
	assert_int_equal(batch_prepare(tok, "{\"a\":\0}", 7, &out, &off,
	    &len, &why), -1);
	assert_string_equal(why.msg, "NUL byte at column 6");
	assert_int_equal(out.len, 0);
	json_tokener_free(tok);
	batch_buf_free(&out);
}

/* Framing: the body as the receiver gets it */

static struct json_tokener *
tokener(void)
{
	struct json_tokener *tok = json_tokener_new();

	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
	    JSON_TOKENER_VALIDATE_UTF8);
	return tok;
}

static struct batch *
filled(enum batch_format format, const char *const *lines, size_t n)
{
	struct json_tokener *tok = tokener();
	struct batch *b = calloc(1, sizeof(*b));
	struct why why;
	size_t i;

	assert_int_equal(batch_reset(b, format), 0);
	for (i = 0; i < n; i++)
		if (batch_add(b, tok, lines[i], strlen(lines[i]), 10 + i,
		    &why) == -1)
			fail_msg("%s: %s", lines[i], why.msg);
	assert_int_equal(batch_seal(b), 0);
	json_tokener_free(tok);
	return b;
}

static const char *const withids[] = {
	"{\"id\":\"a\",\"n\":1}", "{\"id\":\"b\",\"n\":2}",
	"{\"id\":\"c\",\"n\":3}",
};

static void
test_formats(void **state)
{
	struct batch *b;
	char desc[64];

	(void)state;
	b = filled(BATCH_ARRAY, withids, 3);
	assert_string_equal(b->body.p, "[{\"id\":\"a\",\"n\":1},"
	    "{\"id\":\"b\",\"n\":2},{\"id\":\"c\",\"n\":3}]");
	assert_int_equal(b->n, 3);
	assert_int_equal(b->rec[1].line, 11);
	assert_memory_equal(b->body.p + b->rec[2].off, withids[2],
	    b->rec[2].len);
	batch_describe(b, desc, sizeof(desc));
	assert_string_equal(desc, "3 records, lines 10-12");
	batch_destroy(b);

	b = filled(BATCH_NDJSON, withids, 2);
	assert_string_equal(b->body.p, "{\"id\":\"a\",\"n\":1}\n"
	    "{\"id\":\"b\",\"n\":2}\n");
	batch_destroy(b);

	b = filled(BATCH_OBJECT, withids, 1);
	assert_string_equal(b->body.p, withids[0]);
	batch_describe(b, desc, sizeof(desc));
	assert_string_equal(desc, "1 record, line 10");
	batch_destroy(b);
}

static void
test_object_takes_one(void **state)
{
	struct json_tokener *tok = tokener();
	struct batch *b = filled(BATCH_OBJECT, withids, 0);
	struct why why;

	(void)state;
	assert_int_equal(batch_reset(b, BATCH_OBJECT), 0);
	assert_int_equal(batch_add(b, tok, withids[0], strlen(withids[0]), 1,
	    &why), 0);
	assert_int_equal(batch_add(b, tok, withids[1], strlen(withids[1]), 2,
	    &why), -1);
	assert_string_equal(why.msg, "one record a request");
	assert_string_equal(b->body.p, withids[0]);
	json_tokener_free(tok);
	batch_destroy(b);
}

static void
test_bad_line_leaves_batch(void **state)
{
	struct json_tokener *tok = tokener();
	struct batch *b = calloc(1, sizeof(*b));
	struct why why;

	(void)state;
	assert_int_equal(batch_reset(b, BATCH_ARRAY), 0);
	assert_int_equal(batch_add(b, tok, withids[0], strlen(withids[0]), 1,
	    &why), 0);
	/* a bad line leaves neither its bytes nor a stray comma behind */
	assert_int_equal(batch_add(b, tok, "{oops", 5, 2, &why), -1);
	assert_int_equal(batch_add(b, tok, withids[1], strlen(withids[1]), 3,
	    &why), 0);
	assert_int_equal(batch_seal(b), 0);
	assert_string_equal(b->body.p, "[{\"id\":\"a\",\"n\":1},"
	    "{\"id\":\"b\",\"n\":2}]");
	assert_int_equal(b->rec[1].line, 3);
	json_tokener_free(tok);
	batch_destroy(b);
}

static void
test_keep(void **state)
{
	static const enum batch_format formats[] = { BATCH_ARRAY,
	    BATCH_NDJSON };
	static const char *const want[] = {
		"[{\"id\":\"a\",\"n\":1},{\"id\":\"c\",\"n\":3}]",
		"{\"id\":\"a\",\"n\":1}\n{\"id\":\"c\",\"n\":3}\n",
	};
	char *drop[3] = { NULL, "bad", NULL };
	char *first[3] = { "bad", NULL, NULL };
	size_t f;

	(void)state;
	for (f = 0; f < 2; f++) {
		struct batch *b = filled(formats[f], withids, 3);

		assert_int_equal(batch_keep(b, drop), 0);
		assert_string_equal(b->body.p, want[f]);
		assert_int_equal(b->n, 2);
		assert_int_equal(b->rec[0].line, 10);
		assert_int_equal(b->rec[1].line, 12);
		assert_memory_equal(b->body.p + b->rec[1].off, withids[2],
		    b->rec[1].len);
		/* and again, dropping the new first */
		assert_int_equal(batch_keep(b, first), 0);
		assert_int_equal(b->n, 1);
		assert_int_equal(b->rec[0].line, 12);
		assert_memory_equal(b->body.p + b->rec[0].off, withids[2],
		    b->rec[0].len);
		batch_destroy(b);
	}
}

static void
test_reset_reuses(void **state)
{
	struct batch *b = filled(BATCH_ARRAY, withids, 3);
	char *body = b->body.p;

	(void)state;
	b->attempts = 4;
	b->ep = 2;
	why_set(&b->why, "old");
	assert_int_equal(batch_reset(b, BATCH_NDJSON), 0);
	assert_int_equal(b->n, 0);
	assert_int_equal(b->body.len, 0);
	assert_int_equal(b->attempts, 0);
	assert_int_equal(b->ep, -1);
	assert_string_equal(b->why.msg, "");
	/* the buffer stays for the next records */
	assert_ptr_equal(b->body.p, body);
	batch_destroy(b);
	batch_destroy(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prepare_keeps_id_and_bytes),
		cmocka_unit_test(test_prepare_adds_id),
		cmocka_unit_test(test_prepare_record),
		cmocka_unit_test(test_prepare_ids_differ),
		cmocka_unit_test(test_prepare_refuses),
		cmocka_unit_test(test_prepare_nul),
		cmocka_unit_test(test_formats),
		cmocka_unit_test(test_object_takes_one),
		cmocka_unit_test(test_bad_line_leaves_batch),
		cmocka_unit_test(test_keep),
		cmocka_unit_test(test_reset_reuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
