/*
 * A request's batch of records, kept as its body text: checking and
 * appending records, sealing the body, the delivery state (batch.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "record.h"
#include "uuid.h"

int
batch_buf_add(struct batch_buf *b, const char *s, size_t len)
{
	if (b->len + len + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *p;

		while (cap < b->len + len + 1)
			cap *= 2;
		if ((p = realloc(b->p, cap)) == NULL)
			return -1;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, len);
	b->len += len;
	b->p[b->len] = '\0';	/* bodies are read as strings too */
	return 0;
}

void
batch_buf_free(struct batch_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/*
 * The common record, read once without json-c (record_scan): a valid
 * record with an id is passed on byte for byte, one without an "id" key
 * gets one first, as below.  Returns 0 when done, 1 when it is not such
 * a record (anything record_scan declines, text after it, "id": null):
 * then json-c judges; -1 when out of memory.
 */
static int
batch_prepare_fast(const char *line, size_t len, struct batch_buf *out)
{
	char uuid[UUID_STR_LEN];
	struct record rec;
	size_t start, end;
	bool id_key;

	if ((end = record_scan(line, len, &rec, &id_key)) == 0 ||
	    (id_key && rec.id[0] == '\0') || record_ws(line, len, end) < len)
		return 1;
	start = record_ws(line, len, 0);
	if (id_key)
		return batch_buf_add(out, line + start, end - start);
	if (uuid7_generate(uuid) == -1)
		return 1;	/* json-c's way says why */
	/* a valid record has fields: the id goes first, with a comma */
	if (batch_buf_add(out, "{\"id\":\"", 7) == -1 ||
	    batch_buf_add(out, uuid, UUID_STR_LEN - 1) == -1 ||
	    batch_buf_add(out, "\",", 2) == -1 ||
	    batch_buf_add(out, line + start + 1, end - start - 1) == -1)
		return -1;
	return 0;
}

int
batch_prepare(struct json_tokener *tok, const char *line, size_t len,
    struct batch_buf *out, size_t *roff, size_t *rlen, struct why *why)
{
	struct json_object *obj, *id;
	char uuid[UUID_STR_LEN];
	size_t start, end, mark = out->len;
	int rc = -1;

	if (record_line_text(line, len, why) == -1)
		return -1;
	if ((rc = batch_prepare_fast(line, len, out)) != 1) {
		if (rc == -1) {
			if (out->len > mark) {
				out->len = mark;
				out->p[mark] = '\0';
			}
			return why_set(why, "out of memory");
		}
		*roff = mark;
		*rlen = out->len - mark;
		return 0;
	}
	if ((obj = record_line_object(tok, line, len, &start, &end,
	    why)) == NULL)
		return -1;
	rc = -1;
	if (json_object_object_get_ex(obj, "id", &id) && id != NULL) {
		/* the common case: pass the bytes through untouched */
		if (batch_buf_add(out, line + start, end - start) == -1)
			goto out_nomem;
	} else if (uuid7_generate(uuid) == -1) {
		rc = why_set(why, "cannot make an id: %s",
		    strerror(errno));
		goto out_put;
	} else if (id == NULL && json_object_object_get_ex(obj, "id", NULL)) {
		/* "id": null: replace it where it stands */
		const char *s;
		size_t slen;

		if (json_object_object_add(obj, "id",
		    json_object_new_string(uuid)) != 0)
			goto out_nomem;
		s = json_object_to_json_string_length(obj,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
		    &slen);
		if (s == NULL || batch_buf_add(out, s, slen) == -1)
			goto out_nomem;
	} else {
		/* insert it first, leaving every other byte as it was */
		if (batch_buf_add(out, "{\"id\":\"", 7) == -1 ||
		    batch_buf_add(out, uuid, UUID_STR_LEN - 1) == -1 ||
		    batch_buf_add(out, "\"", 1) == -1)
			goto out_nomem;
		if (json_object_object_length(obj) > 0 &&
		    batch_buf_add(out, ",", 1) == -1)
			goto out_nomem;
		if (batch_buf_add(out, line + start + 1,
		    end - start - 1) == -1)
			goto out_nomem;
	}
	*roff = mark;
	*rlen = out->len - mark;
	rc = 0;
	goto out_put;
out_nomem:
	rc = why_set(why, "out of memory");
out_put:
	if (rc == -1 && out->len > mark) {
		out->len = mark;
		out->p[mark] = '\0';
	}
	json_object_put(obj);
	return rc;
}

int
batch_reset(struct batch *b, enum batch_format format)
{
	b->format = format;
	b->body.len = 0;
	b->n = 0;
	b->request = 0;
	b->attempts = 0;
	b->round = 0;
	b->resend = false;
	b->rejected = 0;
	b->tried = 0;
	b->ep = -1;
	b->deadline = b->due = 0;
	b->jseq = b->jseg = b->joff = 0;
	b->jn = 0;
	b->jagain = false;
	why_clear(&b->why);
	return format == BATCH_ARRAY ? batch_buf_add(&b->body, "[", 1) : 0;
}

void
batch_destroy(struct batch *b)
{
	if (b == NULL)
		return;
	batch_buf_free(&b->body);
	free(b->rec);
	free(b);
}

/* Drop what a failed addition left after mark. */
static void
batch_truncate(struct batch *b, size_t mark)
{
	if (b->body.len > mark) {
		b->body.len = mark;
		b->body.p[mark] = '\0';
	}
}

/* The bytes between records, and after the last one. */
static const char *
batch_separator(const struct batch *b)
{
	return b->format == BATCH_ARRAY ? "," : "";
}

static const char *
batch_terminator(const struct batch *b)
{
	return b->format == BATCH_NDJSON ? "\n" : "";
}

/* Room for one more record; the separator before it. */
static int
batch_room(struct batch *b, size_t *mark, struct why *why)
{
	const char *sep = b->n > 0 ? batch_separator(b) : "";

	*mark = b->body.len;
	if (b->format == BATCH_OBJECT && b->n > 0)
		return why_set(why, "one record a request");
	if (b->n == b->rec_cap) {
		size_t cap = b->rec_cap ? b->rec_cap * 2 : 16;
		struct batch_rec *r = realloc(b->rec, cap * sizeof(*r));

		if (r == NULL)
			return why_set(why, "out of memory");
		b->rec = r;
		b->rec_cap = cap;
	}
	if (batch_buf_add(&b->body, sep, strlen(sep)) == -1)
		return why_set(why, "out of memory");
	return 0;
}

/* The record at off, rlen long, is in the body: end and count it. */
static int
batch_close_rec(struct batch *b, size_t mark, size_t off, size_t rlen,
    unsigned long lineno, struct why *why)
{
	const char *term = batch_terminator(b);

	if (batch_buf_add(&b->body, term, strlen(term)) == -1) {
		batch_truncate(b, mark);
		return why_set(why, "out of memory");
	}
	b->rec[b->n].off = off;
	b->rec[b->n].len = rlen;
	b->rec[b->n].line = lineno;
	b->n++;
	return 0;
}

int
batch_add(struct batch *b, struct json_tokener *tok, const char *line,
    size_t len, unsigned long lineno, struct why *why)
{
	size_t mark, off, rlen;

	if (batch_room(b, &mark, why) == -1)
		return -1;
	if (batch_prepare(tok, line, len, &b->body, &off, &rlen, why) == -1) {
		batch_truncate(b, mark);
		return -1;
	}
	return batch_close_rec(b, mark, off, rlen, lineno, why);
}

int
batch_add_prepared(struct batch *b, const char *rec, size_t len,
    unsigned long lineno, struct why *why)
{
	size_t mark, off;

	if (batch_room(b, &mark, why) == -1)
		return -1;
	off = b->body.len;
	if (batch_buf_add(&b->body, rec, len) == -1) {
		batch_truncate(b, mark);
		return why_set(why, "out of memory");
	}
	return batch_close_rec(b, mark, off, len, lineno, why);
}

int
batch_seal(struct batch *b)
{
	return b->format == BATCH_ARRAY ? batch_buf_add(&b->body, "]", 1) : 0;
}

int
batch_keep(struct batch *b, char *const *drop)
{
	struct batch_buf nb = { NULL, 0, 0 };
	const char *sep = batch_separator(b), *term = batch_terminator(b);
	size_t *off, i, k = 0;

	if ((off = calloc(b->n ? b->n : 1, sizeof(*off))) == NULL)
		return -1;
	if (b->format == BATCH_ARRAY && batch_buf_add(&nb, "[", 1) == -1)
		goto out_nomem;
	for (i = 0; i < b->n; i++) {
		if (drop[i] != NULL)
			continue;
		if (k++ > 0 && batch_buf_add(&nb, sep, strlen(sep)) == -1)
			goto out_nomem;
		off[i] = nb.len;
		if (batch_buf_add(&nb, b->body.p + b->rec[i].off,
		    b->rec[i].len) == -1 ||
		    batch_buf_add(&nb, term, strlen(term)) == -1)
			goto out_nomem;
	}
	if (b->format == BATCH_ARRAY && batch_buf_add(&nb, "]", 1) == -1)
		goto out_nomem;
	/* all built: now change b */
	for (i = 0, k = 0; i < b->n; i++) {
		if (drop[i] != NULL)
			continue;
		b->rec[k].off = off[i];
		b->rec[k].len = b->rec[i].len;
		b->rec[k].line = b->rec[i].line;
		b->rec[k].jseg = b->rec[i].jseg;
		k++;
	}
	batch_buf_free(&b->body);
	b->body = nb;
	b->n = k;
	free(off);
	return 0;
out_nomem:
	batch_buf_free(&nb);
	free(off);
	return -1;
}

/* Put "prefix: " before the batch's last failure reason, truncating. */
void
batch_describe(const struct batch *b, char *buf, size_t size)
{
	if (b->n == 1)
		snprintf(buf, size, "1 record, line %lu", b->rec[0].line);
	else if (b->n == 0)
		snprintf(buf, size, "no records");
	else
		snprintf(buf, size, "%zu records, lines %lu-%lu", b->n,
		    b->rec[0].line, b->rec[b->n - 1].line);
}
