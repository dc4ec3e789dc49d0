/*
 * A bounded NDJSON line reader over a file descriptor.  Lines longer than
 * the limit are reported and skipped whole, never truncated; blank lines
 * are skipped; CRLF endings and a UTF-8 BOM before the first line are
 * accepted.  Works with blocking and non-blocking descriptors, so a poll(2)
 * loop can drain what has arrived and wait for more.
 */
#ifndef SM_NDJSON_H
#define SM_NDJSON_H

#include <stdbool.h>
#include <stddef.h>

#define NDJSON_MAX_LINE_DEFAULT (1024 * 1024)
#define NDJSON_MAX_LINE_MAX (256 * 1024 * 1024)	/* --max-line */

enum ndjson_status {
	NDJSON_LINE,		/* a line is in *line / *len */
	NDJSON_TOO_LONG,	/* line *lineno exceeded the limit; skipped */
	NDJSON_AGAIN,		/* no complete line buffered: read more */
	NDJSON_EOF,		/* end of input */
	NDJSON_ERROR		/* read error, errno set */
};

struct ndjson_reader {
	int fd;
	char *buf;
	size_t cap;		/* allocated */
	size_t start;		/* first unconsumed byte */
	size_t len;		/* bytes held from start */
	size_t scanned;		/* bytes after start known to hold no '\n' */
	size_t max_line;	/* longest accepted line, without its newline */
	unsigned long lineno;	/* number of the line last returned */
	size_t discarded;	/* bytes of an overlong line skipped so far */
	bool discarding;	/* inside a line that is too long */
	bool eof;
	bool bom_checked;
};

/* 0, or -1 when out of memory.  max_line 0 means the default. */
int ndjson_reader_init(struct ndjson_reader *r, int fd, size_t max_line);
void ndjson_reader_free(struct ndjson_reader *r);

/*
 * Hand out the next complete line already buffered, without reading:
 * NDJSON_LINE, NDJSON_TOO_LONG, NDJSON_AGAIN or (after EOF) NDJSON_EOF.
 * The line stays valid until the next call.
 */
enum ndjson_status ndjson_next(struct ndjson_reader *r, const char **line,
    size_t *len);

/*
 * One read(2) into the buffer.  Returns bytes read, 0 at end of input, or
 * -1 with errno set (EAGAIN on an empty non-blocking descriptor).
 */
long ndjson_fill(struct ndjson_reader *r);

/*
 * ndjson_fill with rd(arg, buf, len) in the place of read(2): it returns
 * bytes put in buf, 0 at the end, or -1 with errno.
 */
long ndjson_fill_with(struct ndjson_reader *r,
    long (*rd)(void *arg, char *buf, size_t len), void *arg);

/* ndjson_next, reading as needed: never NDJSON_AGAIN on a blocking fd. */
enum ndjson_status ndjson_read(struct ndjson_reader *r, const char **line,
    size_t *len);

#endif
