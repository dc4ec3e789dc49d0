/*
 * The files where records that were not delivered end up, so nothing is
 * dropped silently:
 *
 *  - a spool holds records that could not be delivered in time, one per
 *    line exactly as they were sent (with their id), so replaying the file
 *    through the same command delivers them, each exactly once;
 *  - a reject file holds records a receiver refused, or input lines that
 *    are not JSON objects, one JSON object a line with the reason:
 *    {"line":N,"request":R,"status":400,"endpoint":"URL","reason":"...",
 *    "record":{...}}, or "text":"..." instead of "record" for a line that
 *    is not a JSON object.
 *
 * Both are appended to (O_APPEND: a crash loses nothing written before
 * it), flushed after every batch of records and synced when closed.
 */
#ifndef SM_SPOOL_H
#define SM_SPOOL_H

#include <stdio.h>
#include <stddef.h>

#include "why.h"

struct spool {
	FILE *f;		/* NULL: not in use */
	char *path;
	unsigned long records;	/* records written */
	int err;		/* errno of the first failed write, or 0 */
};

/* One rejected record or input line, for spool_reject(). */
struct spool_reject {
	unsigned long line;	/* input line number */
	unsigned long request;	/* request number, 0 when never sent */
	int status;		/* HTTP status, 0 when never sent */
	const char *endpoint;	/* NULL when never sent */
	const char *reason;
	const char *text;	/* the record, or the raw input line */
	size_t len;
	int is_record;		/* text is a JSON object: embed it as is */
};

/* Open path for appending (created 0644 when missing); -1 with why set. */
int spool_open(struct spool *s, const char *path, struct why *why);

/* Append one record (len bytes, no newline) as a line. */
int spool_write(struct spool *s, const char *rec, size_t len);

/* Append one reject entry. */
int spool_reject(struct spool *s, const struct spool_reject *r);

/* Push what is buffered to the file; -1 on a write error (errno set). */
int spool_flush(struct spool *s);

/* Flush, fsync and close; -1 with why set when any of it failed. */
int spool_close(struct spool *s, struct why *why);

#endif
