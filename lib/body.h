/*
 * HTTP bodies of the receiver (sm-store(1), "HTTP receiver"): decoding a
 * POST /metrics body (one JSON object, a JSON array of objects, or
 * NDJSON; records in either dialect) with every bad record's index and
 * reason, and writing the JSON answers.
 */
#ifndef SM_BODY_H
#define SM_BODY_H

#include <stddef.h>

#include "record.h"
#include "store.h"
#include "why.h"

enum body_kind {
	BODY_AUTO,	/* one JSON value if it is one, else NDJSON */
	BODY_JSON,	/* application/json: an object or an array */
	BODY_NDJSON	/* application/x-ndjson: one object a line */
};

struct body_error {
	long index;	/* record position (array index, NDJSON line), or -1 */
	struct why reason;
};

struct body {
	struct store_row *rows;		/* valid records, ids assigned */
	size_t n;
	size_t cap;
	struct body_error *errors;
	size_t nerrors;
	size_t errcap;
	/* bad records and body errors, each counted even when out of memory
	 * left no room for its reason in errors */
	size_t nbad;
};

/* The kind a Content-Type names (parameters and case ignored). */
enum body_kind body_kind_of(const char *content_type);

/*
 * Decode buf[0..len) into b (zeroed by the caller, or reused after
 * body_free).  Every record is checked; returns 0 when all are valid (the
 * rows then carry ids: a record without one gets a new UUIDv7), -1 when
 * any is not (b->errors says which and why, in order, as far as memory
 * allowed; b->nbad counts them all).  An NDJSON index is the 0-based line
 * number; blank lines are skipped.
 */
int body_decode(const char *buf, size_t len, enum body_kind kind,
    struct body *b);

void body_free(struct body *b);

/*
 * For tests: the realloc that grows the error list (NULL: realloc), to
 * play out of memory.
 */
void body_set_errors_realloc(void *(*fn)(void *, size_t));

/* Empty b for the next body, keeping its arrays unless they grew large. */
void body_clear(struct body *b);

/* {"stored":N,"duplicates":D,"api":"SOURCE"}; NULL when out of memory. */
char *body_answer_ok(size_t stored, size_t duplicates, const char *source);

/* {"error":"invalid records","api":"SOURCE","errors":[{"index":I,
 * "reason":"..."}, ...]}; NULL when out of memory. */
char *body_answer_invalid(const struct body_error *errors, size_t n,
    const char *source);

/* {"KEY":"VALUE"[,"api":"SOURCE"]} (source may be NULL). */
char *body_answer(const char *key, const char *value, const char *source);

#endif
