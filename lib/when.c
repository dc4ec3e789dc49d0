/*
 * Parsing the times and durations that people type (when.h): relative
 * times are durations before "now", dates alone are their midnight UTC.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "timefmt.h"
#include "when.h"

static const struct {
	const char *name;
	int64_t ms;
} when_units[] = {
	{ "ms", 1 },
	{ "s", 1000 },
	{ "m", 60 * 1000 },
	{ "h", 3600 * 1000 },
	{ "d", 86400 * 1000 },
	{ "w", 7 * 86400 * 1000LL },
	{ "y", 365 * 86400 * 1000LL },
};

#define WHEN_NUNITS (sizeof(when_units) / sizeof(when_units[0]))

int
when_duration(const char *s, int64_t *ms, const char **why)
{
	const char *p = s;
	int64_t n = 0, unit = 1000;
	size_t i;

	if (!isdigit((unsigned char)*p)) {
		*why = "not a duration (want a whole number and a unit: "
		    "ms, s, m, h, d, w or y, e.g. 90s, 5m, 7d)";
		return -1;
	}
	for (; isdigit((unsigned char)*p); p++) {
		n = n * 10 + (*p - '0');
		if (n > WHEN_DURATION_MAX) {
			*why = "duration too long (at most 100 years)";
			return -1;
		}
	}
	if (*p != '\0') {
		for (i = 0; i < WHEN_NUNITS; i++)
			if (strcmp(p, when_units[i].name) == 0)
				break;
		if (i == WHEN_NUNITS) {
			*why = "unknown unit (want ms, s, m, h, d, w or y)";
			return -1;
		}
		unit = when_units[i].ms;
	}
	if (n > WHEN_DURATION_MAX / unit) {
		*why = "duration too long (at most 100 years)";
		return -1;
	}
	*ms = n * unit;
	return 0;
}

int
when_parse(const char *s, int64_t now_ms, int64_t *ms, const char **why)
{
	char buf[32];
	int64_t d;

	if (strcmp(s, "now") == 0) {
		*ms = now_ms;
		return 0;
	}
	/* "2026-12-01": a date alone, its midnight UTC */
	if (strlen(s) == 10 && s[4] == '-' && s[7] == '-') {
		snprintf(buf, sizeof(buf), "%sT00:00:00Z", s);
		return timefmt_parse(buf, ms, why);
	}
	if (!isdigit((unsigned char)*s)) {
		*why = "not a time";
		return -1;
	}
	if (strchr(s, '-') == NULL && strchr(s, ':') == NULL) {
		if (when_duration(s, &d, why) == -1)
			return -1;
		if (d > now_ms) {
			*why = "that long ago is before 1970";
			return -1;
		}
		*ms = now_ms - d;
		return 0;
	}
	return timefmt_parse(s, ms, why);
}
