/*
 * libFuzzer target: body_decode, the HTTP receiver's POST /metrics body
 * decoder (one object, an array of objects, NDJSON).
 *
 * Input: byte 0 picks the announced kind (auto, JSON, NDJSON), the rest
 * is the body.  Properties beyond "no crash":
 * - it succeeds exactly when it reports no error; every row it returns is
 *   a valid record with a lower-case UUID, rows and errors in input order,
 *   a record never both; a whole-body error (index -1) comes alone;
 * - every reason is one line of UTF-8, and the 400 answer built from them
 *   is valid JSON carrying each reason unchanged;
 * - an NDJSON body gives, line by line, what record_parse says of the
 *   line;
 * - the rows, written back as NDJSON and as a JSON array, decode to the
 *   same records.
 */
#include <ctype.h>
#include <stdbool.h>

#include <json-c/json.h>

#include "body.h"
#include "fuzz.h"
#include "uuid.h"

#define LINE_MAX_FMT 4096

static void
check_answer(const struct body *b)
{
	struct json_tokener *tok;
	struct json_object *o, *errs, *e, *reason;
	char *s;
	size_t i, len;

	s = body_answer_invalid(b->errors, b->nerrors, "fuzz");
	FUZZ_CHECK(s != NULL, "no answer");
	len = strlen(s);
	FUZZ_CHECK(utf8_valid_prefix(s, len) == len, "answer not UTF-8: %s",
	    s);
	tok = json_tokener_new();
	FUZZ_CHECK(tok != NULL, "out of memory");
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
	    JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, s, (int)len);
	FUZZ_CHECK(o != NULL && json_tokener_get_parse_end(tok) == len,
	    "answer not JSON: %s", s);
	FUZZ_CHECK(json_object_object_get_ex(o, "errors", &errs) &&
	    json_object_array_length(errs) == b->nerrors, "errors: %s", s);
	for (i = 0; i < b->nerrors; i++) {
		e = json_object_array_get_idx(errs, i);
		FUZZ_CHECK(json_object_object_get_ex(e, "reason", &reason) &&
		    strcmp(json_object_get_string(reason),
		    b->errors[i].reason.msg) == 0, "reason %zu: %s", i, s);
	}
	json_object_put(o);
	json_tokener_free(tok);
	free(s);
}

static void
check_rows_and_errors(const struct body *b, int rc)
{
	long last = -1;
	size_t i, j;

	FUZZ_CHECK(rc == 0 || rc == -1, "rc %d", rc);
	FUZZ_CHECK((rc == 0) == (b->nerrors == 0), "rc %d with %zu errors",
	    rc, b->nerrors);
	FUZZ_CHECK(b->n <= b->cap && b->nerrors <= b->errcap, "sizes");
	for (i = 0; i < b->n; i++) {
		const struct record *r = &b->rows[i].rec;
		struct why why;
		const char *p;

		FUZZ_CHECK(record_validate(r, &why) == 0, "row %zu: %s", i,
		    why.msg);
		FUZZ_CHECK(uuid_is_valid(r->id), "row %zu: id '%s'", i,
		    r->id);
		for (p = r->id; *p != '\0'; p++)
			FUZZ_CHECK(!isupper((unsigned char)*p), "id %s", r->id);
		FUZZ_CHECK(i == 0 || b->rows[i].where > b->rows[i - 1].where,
		    "rows out of order");
	}
	for (i = 0; i < b->nerrors; i++) {
		const struct body_error *e = &b->errors[i];

		fuzz_check_reason(&e->reason);
		if (e->index == -1) {
			FUZZ_CHECK(b->nerrors == 1 && b->n == 0,
			    "body error among others: %s", e->reason.msg);
			continue;
		}
		FUZZ_CHECK(e->index > last, "error index %ld after %ld",
		    e->index, last);
		last = e->index;
		for (j = 0; j < b->n; j++)
			FUZZ_CHECK(b->rows[j].where != (unsigned long)e->index,
			    "record %ld both stored and refused", e->index);
	}
	check_answer(b);
}

/* An NDJSON body: line by line what record_parse says. */
static void
check_ndjson(const char *buf, size_t len, const struct body *b)
{
	size_t off = 0, row = 0, err = 0, n, i;
	long index;

	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		off = 3;
	if (b->nerrors == 1 && b->errors[0].index == -1)
		return;		/* empty body, no records */
	for (index = 0; off < len; index++) {
		const char *line = buf + off, *nl = memchr(line, '\n',
		    len - off);
		struct why why;
		struct record rec;

		n = nl != NULL ? (size_t)(nl - line) : len - off;
		off += n + 1;
		if (n > 0 && line[n - 1] == '\r')
			n--;
		for (i = 0; i < n && (line[i] == ' ' || line[i] == '\t'); i++)
			;
		if (i == n)
			continue;
		if (record_parse(line, n, &rec, &why) == 0) {
			FUZZ_CHECK(row < b->n &&
			    b->rows[row].where == (unsigned long)index,
			    "line %ld: accepted by record_parse only", index);
			if (rec.id[0] == '\0')
				memcpy(rec.id, b->rows[row].rec.id,
				    sizeof(rec.id));
			for (i = 0; rec.id[i] != '\0'; i++)
				rec.id[i] = (char)tolower(
				    (unsigned char)rec.id[i]);
			FUZZ_CHECK(memcmp(&rec, &b->rows[row].rec,
			    sizeof(rec)) == 0, "line %ld: records differ",
			    index);
			row++;
		} else {
			FUZZ_CHECK(err < b->nerrors &&
			    b->errors[err].index == index &&
			    strcmp(b->errors[err].reason.msg, why.msg) == 0,
			    "line %ld: refused by record_parse only: %s",
			    index, why.msg);
			err++;
		}
	}
	FUZZ_CHECK(row == b->n && err == b->nerrors,
	    "%zu/%zu rows, %zu/%zu errors", row, b->n, err, b->nerrors);
}

/* The rows written back (NDJSON, or an array) decode to themselves. */
static void
check_rewrite(const struct body *b, bool array)
{
	char line[LINE_MAX_FMT], again[LINE_MAX_FMT];
	struct body b2;
	size_t len = 0, i;
	char *buf;
	int n;

	buf = malloc(b->n * LINE_MAX_FMT + 3);
	FUZZ_CHECK(buf != NULL, "out of memory");
	if (array)
		buf[len++] = '[';
	for (i = 0; i < b->n; i++) {
		n = record_format(&b->rows[i].rec, RECORD_CANONICAL, line,
		    sizeof(line));
		FUZZ_CHECK(n > 0, "record_format");
		if (array && i > 0)
			buf[len++] = ',';
		memcpy(buf + len, line, (size_t)n);
		len += (size_t)n;
	}
	if (array)
		buf[len++] = ']';
	memset(&b2, 0, sizeof(b2));
	FUZZ_CHECK(body_decode(buf, len, array ? BODY_JSON : BODY_NDJSON,
	    &b2) == 0, "rewritten body refused: %s", b2.nerrors > 0 ?
	    b2.errors[0].reason.msg : "");
	FUZZ_CHECK(b2.n == b->n, "%zu rows, want %zu", b2.n, b->n);
	for (i = 0; i < b->n; i++) {
		n = record_format(&b->rows[i].rec, RECORD_CANONICAL, line,
		    sizeof(line));
		FUZZ_CHECK(record_format(&b2.rows[i].rec, RECORD_CANONICAL,
		    again, sizeof(again)) == n && memcmp(line, again,
		    (size_t)n) == 0, "row %zu:\n%s%s", i, line, again);
	}
	body_free(&b2);
	free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum body_kind kinds[] = { BODY_AUTO, BODY_JSON,
	    BODY_NDJSON };
	enum body_kind kind;
	const char *buf;
	struct body b;
	int rc;

	if (size < 1)
		return 0;
	kind = kinds[data[0] % 3];
	buf = (const char *)data + 1;
	memset(&b, 0, sizeof(b));
	rc = body_decode(buf, size - 1, kind, &b);
	check_rows_and_errors(&b, rc);
	if (kind == BODY_NDJSON)
		check_ndjson(buf, size - 1, &b);
	if (rc == 0 && b.n > 0) {
		check_rewrite(&b, false);
		check_rewrite(&b, true);
	}
	body_free(&b);
	return 0;
}
