/*
 * The HTTP receiver's request bodies: JSON or NDJSON decoded into rows with
 * every bad record's index and reason, and the JSON answers (body.h).
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "body.h"
#include "utf8.h"

#define BODY_KEEP_ROWS 16	/* body_clear keeps arrays this big */
#define BODY_SOURCE_QUOTED (6 * 256 + 3)	/* --source escaped, quoted */

enum body_kind
body_kind_of(const char *content_type)
{
	static const struct {
		const char *type;
		enum body_kind kind;
	} types[] = {
		{ "application/json", BODY_JSON },
		{ "application/x-ndjson", BODY_NDJSON },
		{ "application/ndjson", BODY_NDJSON },
		{ "application/jsonl", BODY_NDJSON },
		{ "application/x-jsonlines", BODY_NDJSON },
	};
	size_t i, len;

	if (content_type == NULL)
		return BODY_AUTO;
	while (*content_type == ' ' || *content_type == '\t')
		content_type++;
	len = strcspn(content_type, "; \t");
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strlen(types[i].type) == len &&
		    strncasecmp(content_type, types[i].type, len) == 0)
			return types[i].kind;
	/* curl -d says form-urlencoded: look at the body instead */
	return BODY_AUTO;
}

static void *(*body_errors_realloc)(void *, size_t) = realloc;

void
body_set_errors_realloc(void *(*fn)(void *, size_t))
{
	body_errors_realloc = fn != NULL ? fn : realloc;
}

/*
 * Note a bad record (index) or body (-1) and why; -1.  Counted in nbad
 * even when no memory is left to keep the reason: never dropped unseen.
 */
static int
body_error(struct body *b, long index, const char *fmt, ...)
{
	struct body_error *e;
	va_list ap;

	b->nbad++;
	if (b->nerrors == b->errcap) {
		size_t cap = b->errcap ? b->errcap * 2 : 8;

		if ((e = body_errors_realloc(b->errors,
		    cap * sizeof(*e))) == NULL)
			return -1;
		b->errors = e;
		b->errcap = cap;
	}
	e = &b->errors[b->nerrors++];
	e->index = index;
	va_start(ap, fmt);
	vsnprintf(e->reason.msg, sizeof(e->reason.msg), fmt, ap);
	va_end(ap);
	return -1;
}

/* The next free row, or NULL when out of memory. */
static struct store_row *
body_row(struct body *b)
{
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 4;
		struct store_row *r;

		if ((r = realloc(b->rows, cap * sizeof(*r))) == NULL)
			return NULL;
		b->rows = r;
		b->cap = cap;
	}
	return &b->rows[b->n];
}

static void
body_take(struct body *b, long index)
{
	if (store_row_init(&b->rows[b->n], (unsigned long)index) == -1) {
		body_error(b, index, "no random bytes for an id");
		return;
	}
	b->n++;
}

static int
body_ndjson(const char *buf, size_t len, struct body *b)
{
	struct why why;
	size_t off = 0;
	long index;

	for (index = 0; off < len; index++) {
		const char *line = buf + off, *nl;
		size_t n, i;
		struct store_row *row;

		nl = memchr(line, '\n', len - off);
		n = nl != NULL ? (size_t)(nl - line) : len - off;
		off += n + (nl != NULL);
		if (n > 0 && line[n - 1] == '\r')
			n--;
		for (i = 0; i < n && (line[i] == ' ' || line[i] == '\t'); i++)
			;
		if (i == n)
			continue;
		if ((row = body_row(b)) == NULL)
			return body_error(b, -1, "out of memory");
		if (record_parse(line, n, &row->rec, &why) == -1)
			body_error(b, index, "%s", why.msg);
		else
			body_take(b, index);
	}
	if (b->n == 0 && b->nbad == 0)
		return body_error(b, -1, "no records in the body");
	return b->nbad > 0 ? -1 : 0;
}

static int
body_object(struct json_object *obj, long index, struct body *b)
{
	struct why why;
	struct store_row *row;

	if ((row = body_row(b)) == NULL)
		return body_error(b, -1, "out of memory");
	if (record_from_json(obj, &row->rec, &why) == -1)
		return body_error(b, index, "%s", why.msg);
	body_take(b, index);
	return 0;
}

static bool
body_blank(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!isspace((unsigned char)s[i]))
			return false;
	return true;
}

/*
 * The common body read in one pass (record_scan): an object, or an array
 * of objects, every one of them plain and valid, nothing after it.
 * Returns 0 when done; -1 when it declines, b untouched, for the json-c
 * way to judge.
 */
static int
body_fast(const char *buf, size_t len, struct body *b)
{
	struct store_row *row;
	size_t i = 0, end, k;
	bool array = buf[0] == '[';

	if (array)
		i = record_ws(buf, len, 1);
	for (;;) {
		if ((row = body_row(b)) == NULL ||
		    (end = record_scan(buf + i, len - i, &row->rec, NULL)) == 0)
			goto out_decline;
		/* ids last: a declined body must not have used randomness */
		b->n++;
		i = record_ws(buf, len, i + end);
		if (!array)
			break;
		if (i < len && buf[i] == ',') {
			i = record_ws(buf, len, i + 1);
			continue;
		}
		if (i < len && buf[i] == ']') {
			i++;
			break;
		}
		goto out_decline;
	}
	if (!body_blank(buf + i, len - i))
		goto out_decline;
	/* as body_take leaves them: a row without an id is dropped */
	end = b->n;
	b->n = 0;
	for (k = 0; k < end; k++) {
		if (b->n != k)
			b->rows[b->n] = b->rows[k];
		body_take(b, (long)k);
	}
	return 0;
out_decline:
	b->n = 0;
	return -1;
}

/* record_twice's answer: the name, at its index in arg's array. */
static void
body_twice(void *arg, size_t nth, const char *name)
{
	((const char **)arg)[nth] = name;
}

int
body_decode(const char *buf, size_t len, enum body_kind kind,
    struct body *b)
{
	struct json_tokener *tok;
	struct json_object *v;
	size_t end, i;
	int rc = -1;

	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0) {
		buf += 3;
		len -= 3;
	}
	if (body_blank(buf, len))
		return body_error(b, -1, "empty body");
	/* NDJSON lines are judged one by one, NUL bytes and UTF-8 too */
	if (kind == BODY_NDJSON)
		return body_ndjson(buf, len, b);
	if (memchr(buf, '\0', len) != NULL)
		return body_error(b, -1, "NUL byte in the body");
	if ((i = utf8_valid_prefix(buf, len)) < len)
		return body_error(b, -1, "invalid UTF-8 at offset %zu", i);
	for (i = 0; isspace((unsigned char)buf[i]); i++)
		;
	if (buf[i] != '{' && buf[i] != '[')
		return body_error(b, -1, "want a JSON object or an array of "
		    "objects");
	if (body_fast(buf + i, len - i, b) == 0)
		return b->nbad > 0 ? -1 : 0;
	if ((tok = json_tokener_new()) == NULL)
		return body_error(b, -1, "out of memory");
	/* trailing text is judged below: NDJSON, or an error */
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
	    JSON_TOKENER_ALLOW_TRAILING_CHARS | JSON_TOKENER_VALIDATE_UTF8);
	v = json_tokener_parse_ex(tok, buf, (int)len);
	end = json_tokener_get_parse_end(tok);
	if (v != NULL && !body_blank(buf + end, len - end)) {
		/* one value and more: NDJSON, unless JSON was announced */
		if (kind == BODY_AUTO) {
			rc = body_ndjson(buf, len, b);
			goto out_put;
		}
		body_error(b, -1, "invalid JSON at offset %zu: text after "
		    "the value (NDJSON wants Content-Type: "
		    "application/x-ndjson)", end);
		goto out_put;
	}
	if (v == NULL) {
		enum json_tokener_error jerr = json_tokener_get_error(tok);

		if (jerr == json_tokener_continue)
			body_error(b, -1, "invalid JSON: truncated");
		else
			body_error(b, -1, "invalid JSON at offset %zu: %s",
			    end, json_tokener_error_desc(jerr));
		goto out_free_tok;
	}
	if (json_object_is_type(v, json_type_array)) {
		size_t n = json_object_array_length(v);
		const char **twice = NULL;

		if (n > 0 && (twice = calloc(n, sizeof(*twice))) == NULL) {
			body_error(b, -1, "out of memory");
			goto out_put;
		}
		record_twice(tok, buf, end, 2, body_twice, twice);
		for (i = 0; i < n; i++) {
			if (twice[i] != NULL)
				body_error(b, (long)i, "%s: given twice",
				    twice[i]);
			else
				body_object(json_object_array_get_idx(v, i),
				    (long)i, b);
		}
		free(twice);
		rc = b->nbad > 0 ? -1 : 0;
	} else if (json_object_is_type(v, json_type_object)) {
		const char *twice = NULL;

		if (record_twice(tok, buf, end, 1, body_twice, &twice) > 0)
			rc = body_error(b, 0, "%s: given twice", twice);
		else
			rc = body_object(v, 0, b);
	} else {
		body_error(b, -1, "want a JSON object or an array of objects");
	}
out_put:
	json_object_put(v);
out_free_tok:
	json_tokener_free(tok);
	return rc;
}

void
body_clear(struct body *b)
{
	if (b->cap > BODY_KEEP_ROWS || b->errcap > BODY_KEEP_ROWS) {
		body_free(b);
		return;
	}
	b->n = 0;
	b->nerrors = 0;
	b->nbad = 0;
}

void
body_free(struct body *b)
{
	free(b->rows);
	free(b->errors);
	memset(b, 0, sizeof(*b));
}

/* Serialise and free obj; NULL when out of memory. */
static char *
body_string(struct json_object *obj)
{
	const char *s;
	char *out = NULL;

	if (obj == NULL)
		return NULL;
	s = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	if (s != NULL)
		out = strdup(s);
	json_object_put(obj);
	return out;
}

/*
 * s as a JSON string, quotes and all, into out (size bytes, at least 8);
 * escaped as json-c does (NOSLASHESCAPE).  Returns the length, or -1 when
 * it does not fit.
 */
static int
body_quote(const char *s, char *out, size_t size)
{
	size_t o = 0;

	out[o++] = '"';
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		const char *esc = NULL;

		if (o + 8 >= size)
			return -1;
		switch (c) {
		case '"': esc = "\\\""; break;
		case '\\': esc = "\\\\"; break;
		case '\b': esc = "\\b"; break;
		case '\f': esc = "\\f"; break;
		case '\n': esc = "\\n"; break;
		case '\r': esc = "\\r"; break;
		case '\t': esc = "\\t"; break;
		}
		if (esc != NULL)
			o += (size_t)sprintf(out + o, "%s", esc);
		else if (c < 0x20)
			o += (size_t)sprintf(out + o, "\\u%04x", c);
		else
			out[o++] = (char)c;
	}
	out[o++] = '"';
	out[o] = '\0';
	return (int)o;
}

/* Without json-c: the answer to every stored request. */
char *
body_answer_ok(size_t stored, size_t duplicates, const char *source)
{
	char api[BODY_SOURCE_QUOTED], *out;

	if (body_quote(source, api, sizeof(api)) == -1 ||
	    asprintf(&out, "{\"stored\":%zu,\"duplicates\":%zu,\"api\":%s}",
	    stored, duplicates, api) == -1)
		return NULL;
	return out;
}

char *
body_answer_invalid(const struct body_error *errors, size_t n,
    const char *source)
{
	struct json_object *o = json_object_new_object(), *a;
	size_t i;

	if (o == NULL)
		return NULL;
	json_object_object_add(o, "error",
	    json_object_new_string("invalid records"));
	json_object_object_add(o, "api", json_object_new_string(source));
	if ((a = json_object_new_array_ext((int)n)) == NULL) {
		json_object_put(o);
		return NULL;
	}
	for (i = 0; i < n; i++) {
		struct json_object *e = json_object_new_object();

		if (e == NULL) {	/* an answer without a reason: none */
			json_object_put(a);
			json_object_put(o);
			return NULL;
		}
		json_object_object_add(e, "index",
		    json_object_new_int64(errors[i].index));
		json_object_object_add(e, "reason",
		    json_object_new_string(errors[i].reason.msg));
		json_object_array_add(a, e);
	}
	json_object_object_add(o, "errors", a);
	return body_string(o);
}

char *
body_answer(const char *key, const char *value, const char *source)
{
	struct json_object *o = json_object_new_object();

	if (o == NULL)
		return NULL;
	json_object_object_add(o, key, json_object_new_string(value));
	if (source != NULL)
		json_object_object_add(o, "api",
		    json_object_new_string(source));
	return body_string(o);
}
