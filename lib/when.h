/*
 * Times and durations as people type them into sm-tail --since/--until/
 * --step, sm-keep's retention options and /history's query: "90s", "5m",
 * "2h", "7d", "2y"; "now", "2h" (two hours ago), "2026-12-01" (midnight
 * UTC) or RFC 3339.  Milliseconds throughout.
 */
#ifndef SM_WHEN_H
#define SM_WHEN_H

#include <stddef.h>
#include <stdint.h>

/* The longest duration taken: 100 years. */
#define WHEN_DURATION_MAX (100LL * 365 * 86400 * 1000)

/*
 * A whole number with a unit: ms, s, m (minutes), h, d, w (7 d) or y
 * (365 d); no unit means seconds.  Returns 0, or -1 with *why set.
 */
int when_duration(const char *s, int64_t *ms, const char **why);

/*
 * A point in time: "now"; a duration (that long before now_ms); a date
 * "YYYY-MM-DD" (its midnight, UTC); or an RFC 3339 time (timefmt_parse).
 * Returns 0, or -1 with *why set.
 */
int when_parse(const char *s, int64_t now_ms, int64_t *ms, const char **why);

#endif
