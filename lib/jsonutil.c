/*
 * Small json-c helpers: a JSON value's kind named for messages, and an
 * object written as one line of JSON, milliseconds as seconds (jsonutil.h).
 */
#include <inttypes.h>
#include <stdio.h>
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

struct json_object *
jsonutil_seconds(int64_t ms)
{
	uint64_t a = ms < 0 ? -(uint64_t)ms : (uint64_t)ms;
	char buf[32];
	int len;

	len = snprintf(buf, sizeof(buf), "%s%" PRIu64 ".%03u", ms < 0 ? "-" :
	    "", a / 1000, (unsigned)(a % 1000));
	/* 5.000 is 5.0, 50.800 is 50.8: one decimal at least */
	while (buf[len - 1] == '0' && buf[len - 2] != '.')
		buf[--len] = '\0';
	return json_object_new_double_s((double)ms / 1000, buf);
}
