/*
 * A bounded NDJSON line reader over a descriptor: long lines skipped whole,
 * blank lines, CRLF and a BOM handled (ndjson.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ndjson.h"

#define NDJSON_CHUNK (64 * 1024)

int
ndjson_reader_init(struct ndjson_reader *r, int fd, size_t max_line)
{
	memset(r, 0, sizeof(*r));
	r->fd = fd;
	r->max_line = max_line ? max_line : NDJSON_MAX_LINE_DEFAULT;
	r->cap = NDJSON_CHUNK;
	if ((r->buf = malloc(r->cap)) == NULL)
		return -1;
	return 0;
}

void
ndjson_reader_free(struct ndjson_reader *r)
{
	free(r->buf);
	r->buf = NULL;
}

static bool
ndjson_blank(const char *s, size_t len)
{
	while (len > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		len--;
	}
	return len == 0;
}

static void
ndjson_consume(struct ndjson_reader *r, size_t n)
{
	r->start += n;
	r->len -= n;
	r->scanned = 0;
	if (r->len == 0)
		r->start = 0;
}

enum ndjson_status
ndjson_next(struct ndjson_reader *r, const char **line, size_t *len)
{
	for (;;) {
		char *p = r->buf + r->start;
		char *nl;
		size_t n;

		if (!r->bom_checked) {
			if (r->len < 3 && !r->eof &&
			    memcmp(p, "\xef\xbb\xbf", r->len) == 0)
				return NDJSON_AGAIN;
			r->bom_checked = true;
			if (r->len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0) {
				ndjson_consume(r, 3);
				continue;
			}
		}
		nl = memchr(p + r->scanned, '\n', r->len - r->scanned);
		if (r->discarding) {
			if (nl == NULL) {
				r->discarded += r->len;
				ndjson_consume(r, r->len);
				if (r->eof) {
					r->discarding = false;
					return NDJSON_TOO_LONG;
				}
				return NDJSON_AGAIN;
			}
			ndjson_consume(r, (size_t)(nl - p) + 1);
			r->discarding = false;
			return NDJSON_TOO_LONG;
		}
		if (nl == NULL) {
			/* a final line without a newline still counts */
			if (!r->eof || r->len == 0) {
				r->scanned = r->len;
				if (r->len > r->max_line + 1) {
					/* +1: room for the CR of a CRLF */
					r->lineno++;
					r->discarding = true;
					r->discarded = 0;
					continue;
				}
				return r->eof ? NDJSON_EOF : NDJSON_AGAIN;
			}
			n = r->len;
			ndjson_consume(r, n);
		} else {
			n = (size_t)(nl - p);
			ndjson_consume(r, n + 1);
		}
		r->lineno++;
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n > r->max_line)
			return NDJSON_TOO_LONG;
		if (ndjson_blank(p, n))
			continue;
		*line = p;
		*len = n;
		return NDJSON_LINE;
	}
}

static long
ndjson_read_fd(void *arg, char *buf, size_t len)
{
	ssize_t got;

	do
		got = read(*(int *)arg, buf, len);
	while (got < 0 && errno == EINTR);
	return (long)got;
}

long
ndjson_fill(struct ndjson_reader *r)
{
	return ndjson_fill_with(r, ndjson_read_fd, &r->fd);
}

long
ndjson_fill_with(struct ndjson_reader *r,
    long (*rd)(void *arg, char *buf, size_t len), void *arg)
{
	long got;

	if (r->eof)
		return 0;
	if (r->start > 0 && r->start + r->len == r->cap) {
		memmove(r->buf, r->buf + r->start, r->len);
		r->start = 0;
	}
	if (r->start + r->len == r->cap) {
		/* grow up to one line and a chunk; longer lines are dropped */
		size_t want = r->cap * 2;
		char *nbuf;

		if (want > r->max_line + 2 + NDJSON_CHUNK)
			want = r->max_line + 2 + NDJSON_CHUNK;
		if (want <= r->cap) {
			errno = ENOBUFS;
			return -1;
		}
		if ((nbuf = realloc(r->buf, want)) == NULL)
			return -1;
		r->buf = nbuf;
		r->cap = want;
	}
	got = rd(arg, r->buf + r->start + r->len, r->cap - r->start - r->len);
	if (got < 0)
		return -1;
	if (got == 0)
		r->eof = true;
	r->len += (size_t)got;
	return got;
}

enum ndjson_status
ndjson_read(struct ndjson_reader *r, const char **line, size_t *len)
{
	for (;;) {
		enum ndjson_status st = ndjson_next(r, line, len);

		if (st != NDJSON_AGAIN)
			return st;
		if (ndjson_fill(r) < 0)
			return NDJSON_ERROR;
	}
}
