/*
 * libFuzzer target: the bounded NDJSON line reader.
 *
 * Input: byte 0 picks the line limit, byte 1 how the bytes arrive, the
 * rest is the stream.  The reader reads it from a memfd (a blocking
 * regular file) or a non-blocking pipe fed in pieces of fuzzed sizes, the
 * way a poll(2) loop drives it.  What it hands out must be exactly what a
 * plain model of the format says (split at '\n', one CR and a first-line
 * BOM dropped, blank lines skipped, longer lines reported by number and
 * never returned), so: lines never exceed the limit, never hold a
 * newline, line numbers only grow, and the buffer never holds more than
 * one line and a read chunk.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"
#include "ndjson.h"

#define CHUNK (64 * 1024)		/* ndjson.c's read size */
#define EXPANDED_MAX (3 * CHUNK)	/* past a chunk-sized limit and more */

struct event {
	enum ndjson_status st;
	unsigned long lineno;
	const char *line;		/* into the stream; LINE only */
	size_t len;
};

struct events {
	struct event *v;
	size_t n, cap;
};

static void
events_add(struct events *e, enum ndjson_status st, unsigned long lineno,
    const char *line, size_t len)
{
	if (e->n == e->cap) {
		e->cap = e->cap ? e->cap * 2 : 64;
		e->v = realloc(e->v, e->cap * sizeof(*e->v));
		FUZZ_CHECK(e->v != NULL, "out of memory");
	}
	e->v[e->n++] = (struct event){ st, lineno, line, len };
}

/* What the reader must hand out for s[0..len), with limit max. */
static void
model(const char *s, size_t len, size_t max, struct events *want)
{
	unsigned long lineno = 0;
	size_t off = 0;

	if (len >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
		off = 3;
	while (off < len) {
		const char *p = s + off, *nl = memchr(p, '\n', len - off);
		size_t n = nl != NULL ? (size_t)(nl - p) : len - off, i;

		off += n + 1;
		lineno++;
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n > max) {
			events_add(want, NDJSON_TOO_LONG, lineno, NULL, 0);
			continue;
		}
		for (i = 0; i < n && (p[i] == ' ' || p[i] == '\t'); i++)
			;
		if (i < n)
			events_add(want, NDJSON_LINE, lineno, p, n);
	}
}

/*
 * The stream: with byte 1's bit 0x80, a byte 0xfe followed by n repeats
 * the byte before it n * 256 times, so small inputs reach long lines.
 */
static char *
expand(const uint8_t *d, size_t n, bool rle, size_t *outlen)
{
	size_t len = 0, i, cap = n + 1, rep;
	bool run;
	char *s = malloc(cap);

	FUZZ_CHECK(s != NULL, "out of memory");
	for (i = 0; i < n && len < EXPANDED_MAX; i++) {
		run = rle && d[i] == 0xfe && i + 1 < n && len > 0;
		rep = 1;
		if (run) {
			rep = (size_t)d[++i] * 256;
			if (rep > EXPANDED_MAX - len)
				rep = EXPANDED_MAX - len;
		}
		if (len + rep > cap) {
			cap = (len + rep) * 2;
			s = realloc(s, cap);
			FUZZ_CHECK(s != NULL, "out of memory");
		}
		if (run)
			memset(s + len, s[len - 1], rep);
		else
			s[len] = (char)d[i];
		len += rep;
	}
	*outlen = len;
	return s;
}

/* Check one event against the model and the invariants. */
static void
check(struct ndjson_reader *r, const struct events *want, size_t *k,
    enum ndjson_status st, const char *line, size_t len,
    unsigned long *last)
{
	const struct event *w;

	FUZZ_CHECK(r->cap <= (r->max_line + 2 + CHUNK > CHUNK ?
	    r->max_line + 2 + CHUNK : CHUNK), "buffer grew to %zu", r->cap);
	if (st == NDJSON_EOF) {
		FUZZ_CHECK(*k == want->n, "EOF after %zu of %zu events", *k,
		    want->n);
		return;
	}
	FUZZ_CHECK(*k < want->n, "event %d past the model's %zu", (int)st,
	    want->n);
	w = &want->v[(*k)++];
	FUZZ_CHECK(st == w->st, "event %zu: status %d, want %d (line %lu)",
	    *k - 1, (int)st, (int)w->st, w->lineno);
	FUZZ_CHECK(r->lineno == w->lineno, "line number %lu, want %lu",
	    r->lineno, w->lineno);
	FUZZ_CHECK(r->lineno > *last, "line number %lu after %lu",
	    r->lineno, *last);
	*last = r->lineno;
	if (st != NDJSON_LINE)
		return;
	FUZZ_CHECK(len <= r->max_line, "line of %zu > %zu", len, r->max_line);
	FUZZ_CHECK(memchr(line, '\n', len) == NULL, "newline in a line");
	FUZZ_CHECK(len == w->len && memcmp(line, w->line, len) == 0,
	    "line %lu: got %zu bytes, want %zu", w->lineno, len, w->len);
}

/* A regular file read with blocking ndjson_read. */
static void
run_memfd(const char *s, size_t len, size_t max, const struct events *want)
{
	struct ndjson_reader r;
	unsigned long last = 0;
	enum ndjson_status st;
	const char *line;
	size_t n, k = 0;
	int fd;

	fd = memfd_create("fuzz", 0);
	FUZZ_CHECK(fd != -1, "memfd_create: %s", strerror(errno));
	FUZZ_CHECK(write(fd, s, len) == (ssize_t)len, "write");
	FUZZ_CHECK(lseek(fd, 0, SEEK_SET) == 0, "lseek");
	FUZZ_CHECK(ndjson_reader_init(&r, fd, max) == 0, "init");
	do {
		st = ndjson_read(&r, &line, &n);
		FUZZ_CHECK(st != NDJSON_AGAIN && st != NDJSON_ERROR,
		    "status %d", (int)st);
		check(&r, want, &k, st, line, n, &last);
	} while (st != NDJSON_EOF);
	FUZZ_CHECK(ndjson_read(&r, &line, &n) == NDJSON_EOF, "EOF twice");
	ndjson_reader_free(&r);
	close(fd);
}

/* A non-blocking pipe fed piece by piece, drained as a poll loop would. */
static void
run_pipe(const char *s, size_t len, size_t max, const struct events *want,
    uint32_t seed)
{
	struct ndjson_reader r;
	unsigned long last = 0;
	enum ndjson_status st;
	const char *line;
	size_t n, k = 0, off = 0;
	int p[2];

	FUZZ_CHECK(pipe2(p, O_NONBLOCK) == 0, "pipe2");
	FUZZ_CHECK(ndjson_reader_init(&r, p[0], max) == 0, "init");
	for (;;) {
		if (off < len) {
			/* xorshift: tiny pieces, middling ones, big ones */
			size_t piece;
			ssize_t w;

			seed ^= seed << 13;
			seed ^= seed >> 17;
			seed ^= seed << 5;
			if (seed % 8 == 0)
				piece = (seed >> 3) % (2 * CHUNK) + 1;
			else if (seed % 8 < 4)
				piece = (seed >> 3) % 4096 + 1;
			else
				piece = (seed >> 3) % 16 + 1;
			if (piece > len - off)
				piece = len - off;
			w = write(p[1], s + off, piece);
			FUZZ_CHECK(w > 0 || errno == EAGAIN, "write: %s",
			    strerror(errno));
			if (w > 0)
				off += (size_t)w;
		}
		if (off == len && p[1] != -1) {
			close(p[1]);
			p[1] = -1;
		}
		st = ndjson_next(&r, &line, &n);
		if (st == NDJSON_AGAIN) {
			long got = ndjson_fill(&r);

			FUZZ_CHECK(got >= 0 || errno == EAGAIN, "fill: %s",
			    strerror(errno));
			FUZZ_CHECK(got != 0 || p[1] == -1, "EOF too soon");
			FUZZ_CHECK(got != -1 || p[1] != -1,
			    "EAGAIN after the writer closed");
			continue;
		}
		check(&r, want, &k, st, line, n, &last);
		if (st == NDJSON_EOF)
			break;
	}
	FUZZ_CHECK(ndjson_next(&r, &line, &n) == NDJSON_EOF, "EOF twice");
	ndjson_reader_free(&r);
	close(p[0]);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct events want = { NULL, 0, 0 };
	size_t max, len;
	char *s;

	if (size < 2)
		return 0;
	/* tiny limits for the too-long paths; some around the read size */
	if (data[0] == 0)
		max = 0;	/* the default */
	else if (data[0] & 0x80)
		max = CHUNK - 4 + (data[0] & 7);
	else
		max = data[0] & 0x3f;
	if (max == 0 && data[0] != 0)
		max = 1;
	s = expand(data + 2, size - 2, data[1] & 0x80, &len);
	model(s, len, max ? max : NDJSON_MAX_LINE_DEFAULT, &want);
	if (data[1] & 1)
		run_pipe(s, len, max, &want, 0x9e3779b9u ^ data[1] ^
		    (uint32_t)size << 8);
	else
		run_memfd(s, len, max, &want);
	free(want.v);
	free(s);
	return 0;
}
