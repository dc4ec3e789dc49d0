/* RFC 3339 timestamps, held as milliseconds since the Unix epoch (UTC). */
#ifndef SM_TIMEFMT_H
#define SM_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

/* "2026-11-26T15:12:53.123Z" plus NUL */
#define TIMEFMT_RFC3339_LEN 25
/* "2026-11-26 15:12:53" plus NUL: the seed dialect's "hora" */
#define TIMEFMT_SEED_LEN 20

/* Milliseconds since the epoch, from CLOCK_REALTIME. */
int64_t timefmt_now_ms(void);

/*
 * Format ms as RFC 3339 UTC with milliseconds; buf holds
 * TIMEFMT_RFC3339_LEN.
 */
int timefmt_rfc3339(int64_t ms, char *buf, size_t size);

/* Format ms as "YYYY-MM-DD HH:MM:SS" (UTC); buf holds TIMEFMT_SEED_LEN. */
int timefmt_seed(int64_t ms, char *buf, size_t size);

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
int64_t timefmt_days_from_civil(int y, int m, int d);

/*
 * Parse an RFC 3339 date-time ("T" or space between date and time, optional
 * fraction, "Z" or a numeric offset) or the seed dialect's
 * "YYYY-MM-DD HH:MM:SS" (taken as UTC).  Returns 0, or -1 with *why set.
 */
int timefmt_parse(const char *s, int64_t *ms, const char **why);

#endif
