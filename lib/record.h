/*
 * The sample record (sm-record(5)): parsed from one JSON object in either
 * dialect, validated, and written back in either dialect.
 */
#ifndef SM_RECORD_H
#define SM_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "uuid.h"
#include "why.h"

#define RECORD_HOST_MAX 255
#define RECORD_COLLECTOR_MAX 31

enum record_dialect {
	RECORD_CANONICAL,	/* English keys, DESIGN.md / sm-record(5) */
	RECORD_SEED		/* the replaced system's flat Spanish keys */
};

struct record {
	char id[UUID_STR_LEN];	/* "" when absent */
	int64_t ts_ms;		/* sample time, ms since the epoch, UTC */
	char host[RECORD_HOST_MAX + 1];			/* "" when absent */
	char collector[RECORD_COLLECTOR_MAX + 1];	/* "" when absent */
	double cpu_usage;	/* percent */
	double cpu_free;
	int64_t ram_total;	/* MiB */
	int64_t ram_free;
	int64_t ram_available;
	int64_t ram_used;
	double ram_percentage;
	int64_t total_processes;
	int64_t running_processes;
	int64_t sleeping_processes;
	int64_t stopped_processes;
	int64_t zombie_processes;
	int64_t threads;	/* -1 when absent */
};

/*
 * Parse one line (len bytes, need not be NUL-terminated) holding one JSON
 * object in either dialect, and validate it.  Returns 0, or -1 with a
 * one-line reason in why.
 */
int record_parse(const char *line, size_t len, struct record *rec,
    struct why *why);

/*
 * The fast path of record_parse and of the receiver's bodies: one flat
 * JSON object at the start of p[0..len) (white space before it allowed;
 * valid UTF-8 without NUL bytes, as the callers check first), read in one
 * pass without allocating.  Returns the offset just past its "}" with rec
 * filled and valid, or 0 when it declines: escapes, nested values, a key
 * given twice, anything record_from_json would refuse.  A declined object
 * goes the json-c way, which gives the same record or the reason.
 * *id_key (id_key may be NULL) tells whether the object had an "id" key,
 * null or not: an id that is not null is in rec->id.
 */
size_t record_scan(const char *p, size_t len, struct record *rec,
    bool *id_key);

/* The offset of the first byte from i on in p[0..len) not JSON white space. */
size_t record_ws(const char *p, size_t len, size_t i);

/*
 * The bytes of a line fit to parse: no NUL byte, valid UTF-8, no byte
 * order mark.  Returns 0, or -1 with the reason in why.  record_scan
 * wants this checked first.
 */
int record_line_text(const char *line, size_t len, struct why *why);

/*
 * The one test of "this line is one JSON object", for every reader of
 * lines: line (len bytes, need not be NUL-terminated) passes
 * record_line_text and holds one JSON object with nothing but JSON white
 * space (space, tab, CR, LF) before and after it, and no field named
 * twice (record_twice).  tok is a reusable tokener, or NULL for one made
 * for the call.  Returns the object (the caller puts it), its bytes at
 * line[*start, *end) where start and end are not NULL; or NULL with the
 * reason in why.
 */
struct json_object *record_line_object(struct json_tokener *tok,
    const char *line, size_t len, size_t *start, size_t *end,
    struct why *why);

/*
 * A field's name given twice in a JSON object, which json-c accepts
 * keeping the last value without a word (so "host" twice would store a
 * host the sender may not have meant).  text[0, len), which json-c has
 * parsed already, holds the objects at depth (1: text is one object; 2:
 * an array of them, as a body).  For each of them that names a field
 * twice (record_from_json's names, seed's too; other names may come any
 * number of times, as record_scan lets them), twice(arg, nth, name) is
 * called once, nth its index in the array (0 for depth 1).  A lexical
 * pass over strings and brackets finds the keys, json-c (with tok)
 * decodes them: not a second JSON parser.  Returns how many objects did.
 * record_line_object does this for its line.
 */
size_t record_twice(struct json_tokener *tok, const char *text, size_t len,
    int depth, void (*twice)(void *arg, size_t nth, const char *name),
    void *arg);

/* As record_parse, for an object already parsed (an element of an array). */
int record_from_json(struct json_object *obj, struct record *rec,
    struct why *why);

/* Check ranges and consistency; 0, or -1 with the reason in why. */
int record_validate(const struct record *rec, struct why *why);

/* A new JSON object for rec in the given dialect; NULL when out of memory. */
struct json_object *record_to_json(const struct record *rec,
    enum record_dialect dialect);

/*
 * Write rec as one line of JSON and a newline into buf.  Returns the length
 * written, or -1 when it does not fit or memory runs out.
 */
int record_format(const struct record *rec, enum record_dialect dialect,
    char *buf, size_t size);

/*
 * A numeric field, found by its canonical or seed-dialect key, for code
 * that compares field values by name (alert rules, sm-alert(1)).
 */
struct record_metric {
	const char *name;	/* canonical key */
	size_t offset;		/* in struct record */
	int integer;		/* int64_t when nonzero, else double */
	int percent;		/* nonzero: 0 to 100; else 0 or more */
};

/* 0 and *m for a numeric field's key in either dialect; -1 when unknown. */
int record_metric_find(const char *key, struct record_metric *m);

/* The i-th numeric field (0, 1, ...); -1 past the last, to list them. */
int record_metric_at(size_t i, struct record_metric *m);

/*
 * rec's value of the field; 0 when the record lacks it (threads is
 * optional), 1 with *value otherwise.
 */
int record_metric_value(const struct record *rec,
    const struct record_metric *m, double *value);

/* Parse "canonical" or "seed"; -1 when the name is unknown. */
int record_dialect_parse(const char *name, enum record_dialect *dialect);

#endif
