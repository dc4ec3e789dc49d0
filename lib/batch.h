/*
 * A batch: the records of one request of sm-post and sm-split, kept as
 * the request body itself (a JSON object, a JSON array, or NDJSON lines)
 * with where each record sits in it and which input line it came from,
 * plus the state of its delivery.  Records are checked to be JSON objects
 * and given an id when they have none, but otherwise kept byte for byte:
 * fields the sender does not know reach the receiver unchanged.
 */
#ifndef SM_BATCH_H
#define SM_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "why.h"

/* A growing byte buffer, always NUL-terminated once it holds anything. */
struct batch_buf {
	char *p;
	size_t len, cap;
};

int batch_buf_add(struct batch_buf *b, const char *s, size_t len);
void batch_buf_free(struct batch_buf *b);

/* How the records of a request are framed. */
enum batch_format {
	BATCH_OBJECT,		/* one record: the object itself */
	BATCH_ARRAY,		/* a JSON array of objects */
	BATCH_NDJSON		/* one object a line */
};

struct batch_rec {
	size_t off, len;	/* the record's bytes in the body */
	unsigned long line;	/* its input line */
	uint64_t jseg;		/* with a journal: its segment */
};

struct batch {
	struct batch *next;		/* for the owner's lists */
	enum batch_format format;
	struct batch_buf body;
	struct batch_rec *rec;
	size_t n, rec_cap;
	/* delivery state, kept by lib/deliver.c */
	unsigned long request;		/* number, from 1 */
	unsigned attempts;		/* HTTP attempts made */
	unsigned round;			/* backoff rounds waited */
	bool resend;			/* next attempt re-sends after a 400 */
	unsigned long rejected;		/* records refused so far */
	uint32_t tried;			/* endpoints failed since last wait */
	int ep;				/* endpoint last tried, or -1 */
	int64_t deadline;		/* give up (spool) after this */
	int64_t due;			/* next attempt, while waiting */
	/* with a journal (lib/deliver_journal.c) */
	uint64_t jseq;			/* order among sealed batches */
	uint64_t jseg, joff;		/* the journal after its records */
	size_t jn;			/* its records in the journal */
	bool jagain;			/* said it is tried again */
	struct why why;		/* the last failure */
};

/* Empty b for new records in the given format (buffers are kept). */
int batch_reset(struct batch *b, enum batch_format format);

/* Free what b holds, and b (from malloc). */
void batch_destroy(struct batch *b);

/*
 * Check that line (len bytes) is one JSON object and append it to out,
 * giving it a new UUIDv7 "id" when it has none (or a null one); other
 * fields, known or not, are kept byte for byte.  *roff and *rlen locate
 * the record in out.  Returns 0, or -1 with the reason in why and
 * nothing appended.  tok is a reusable tokener.
 */
int batch_prepare(struct json_tokener *tok, const char *line, size_t len,
    struct batch_buf *out, size_t *roff, size_t *rlen, struct why *why);

/* Add input line number lineno as a record; -1 with why as above. */
int batch_add(struct batch *b, struct json_tokener *tok, const char *line,
    size_t len, unsigned long lineno, struct why *why);

/*
 * Add a record batch_prepare() made before (read back from the journal):
 * framed without parsing it again.  -1 with why when out of memory.
 */
int batch_add_prepared(struct batch *b, const char *rec, size_t len,
    unsigned long lineno, struct why *why);

/* Close the body (the "]" of an array) before the first attempt. */
int batch_seal(struct batch *b);

/*
 * Rebuild the sealed body without the records i for which drop[i] is not
 * NULL, for sending the rest again.  -1 when out of memory (b unchanged).
 */
int batch_keep(struct batch *b, char *const *drop);

/* "1 record, line 5" or "3 records, lines 1-4", for reports. */
void batch_describe(const struct batch *b, char *buf, size_t size);

#endif
