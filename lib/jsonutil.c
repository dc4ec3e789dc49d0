/*
 * Small json-c helpers: a JSON value's kind named for messages, and an
 * object written as one line of JSON (jsonutil.h).
 */
#include <string.h>

#include "jsonutil.h"

const char *
jsonutil_noun(struct json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_null:
		return "null";
	case json_type_boolean:
		return "a boolean";
	case json_type_double:
	case json_type_int:
		return "a number";
	case json_type_object:
		return "an object";
	case json_type_array:
		return "an array";
	case json_type_string:
		return "a string";
	}
	return "unknown";
}

int
jsonutil_line(struct json_object *obj, char *buf, size_t size)
{
	const char *s;
	size_t len;

	s = json_object_to_json_string_length(obj, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	if (s == NULL || len + 2 > size)
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\n';
	buf[len + 1] = '\0';
	return (int)len + 1;
}
