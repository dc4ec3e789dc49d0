/* Small json-c helpers the record, batch and row modules share. */
#ifndef SM_JSONUTIL_H
#define SM_JSONUTIL_H

#include <stddef.h>

#include <json-c/json.h>

/* "a string", "an object", "null", ...: for "must be X, not Y" reasons. */
const char *jsonutil_noun(struct json_object *v);

/*
 * Write obj as one compact line of JSON and a newline into buf.  Returns
 * the length written, or -1 when it does not fit or memory runs out.
 */
int jsonutil_line(struct json_object *obj, char *buf, size_t size);

#endif
