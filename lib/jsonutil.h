/* Small json-c helpers the record, batch and row modules share. */
#ifndef SM_JSONUTIL_H
#define SM_JSONUTIL_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

/* "a string", "an object", "null", ...: for "must be X, not Y" reasons. */
const char *jsonutil_noun(struct json_object *v);

/*
 * Write obj as one compact line of JSON and a newline into buf.  Returns
 * the length written, or -1 when it does not fit or memory runs out.
 */
int jsonutil_line(struct json_object *obj, char *buf, size_t size);

/*
 * Milliseconds as a JSON number of seconds written to the millisecond, no
 * further: 50.886, 5.0, -0.25 (json-c writes a double computed as ms /
 * 1000 with 17 digits: 50.886000000000003).  NULL when out of memory.
 */
struct json_object *jsonutil_seconds(int64_t ms);

#endif
