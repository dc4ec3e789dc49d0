/*
 * Following an AUTO_INCREMENT table without missing or repeating a row.
 *
 * InnoDB hands out auto-increment ids at INSERT time, not at COMMIT: a
 * transaction holding id 5 may commit after another one committed id 6,
 * so a reader that has seen 6 and asks only for "id > 6" loses 5 for good.
 * This module keeps the highest id seen and the "holes" below it: ids not
 * seen yet, as ranges, each with the time it was first noticed.  Every
 * poll asks for the ids above the highest and for those in the holes; a
 * row that fills a hole closes it (the range shrinks or splits).  Some
 * holes never fill (a rollback or an INSERT ... ON DUPLICATE KEY burns its
 * ids): a hole is given up once it has been open for the gap timeout.
 * Memory is bounded: past FOLLOW_MAX_HOLES ranges the oldest is given up.
 *
 * Galera (and any auto_increment_increment above 1) hands each writer its
 * own class of ids (id % step): the ids of a class no node writes never
 * come, and a class's ids skipped when its writer's counter jumps past
 * another node's rows come neither.  So holes are kept per class, a class's
 * run of missing ids being one range however the others interleave, and
 * only for the classes rows have been seen of: ids of classes nobody
 * writes are never asked for.  The first row of a new class is new
 * whatever its id, and opens its class's ids from where following started
 * as a hole, in case an earlier transaction of that writer commits late.
 *
 * A hole that has stayed open for FOLLOW_FRESH_MS is most likely for good
 * (a rollback, a writer's skipped ids) rather than a transaction about to
 * commit: past that age it is asked for again each time its age doubles
 * (1, 2, 4, 8 ... s) and once more when it reaches the gap timeout, just
 * before it is given up (follow_round), not at every poll, so that a
 * burst's skipped ids do not cost the server a long query twenty times a
 * second until they are given up.  A row committed into an old hole is
 * seen within about as long again as it was late.
 *
 * Pure: no I/O, times are passed in (milliseconds on any monotonic clock).
 */
#ifndef SM_FOLLOW_H
#define SM_FOLLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FOLLOW_MAX_HOLES 4096		/* open ranges kept at most */
#define FOLLOW_SQL_RANGES 128		/* ranges named in one WHERE */
#define FOLLOW_WHERE_LEN (64 + FOLLOW_SQL_RANGES * 96)
#define FOLLOW_GAP_TIMEOUT_MS 60000	/* default for --gap-timeout */
#define FOLLOW_FRESH_MS 1000		/* a hole this old is "old" */

struct follow_hole {
	/* ids lo..hi (inclusive) not seen yet, as keys (follow.c) */
	uint64_t lo, hi;
	int64_t since_ms;	/* when the range was first noticed */
};

struct follow {
	uint64_t high;		/* highest id seen; 0: none yet */
	struct follow_hole *holes;	/* sorted by lo, disjoint, < high */
	size_t nholes;
	size_t max_holes;
	int64_t gap_timeout_ms;
	uint64_t given_up;	/* ids whose hole was given up */
	uint64_t step;		/* auto_increment_increment */
	uint64_t live;		/* bit c: rows of class id % step == c seen */
	uint64_t base;		/* the high mark following started from */
	bool rounds;		/* follow_round was called */
	int64_t round_ms;	/* this poll's time (follow_round) */
	int64_t prev_ms;	/* the previous poll's */
};

/* 0, or -1 when out of memory.  max_holes 0: FOLLOW_MAX_HOLES. */
int follow_init(struct follow *f, size_t max_holes, int64_t gap_timeout_ms);
void follow_free(struct follow *f);

/*
 * Start from a snapshot: ids up to high are taken as seen, except those
 * marked with follow_hole_add afterwards.
 */
void follow_start(struct follow *f, uint64_t high);

/*
 * Holes per class of ids under auto_increment_increment step (1: all ids
 * one class, the default).  Only before any hole is held.
 */
void follow_set_step(struct follow *f, uint64_t step);

/* Rows of id's class exist (read in a snapshot). */
void follow_mark(struct follow *f, uint64_t id);

/* Drop the holes of classes no row was marked or seen of. */
void follow_prune(struct follow *f);

/*
 * Mark lo..hi as a hole noticed at now_ms (an id below the high mark not
 * seen in a snapshot).  Ranges must not overlap a hole already held and
 * must be at most the high mark.
 */
void follow_hole_add(struct follow *f, uint64_t lo, uint64_t hi,
    int64_t now_ms);

/*
 * Id id has been read (in any order).  Returns 1 when it is new (print
 * it), 0 when it was seen before or its hole was given up.
 */
int follow_see(struct follow *f, uint64_t id, int64_t now_ms);

/* Give up the holes open for the gap timeout or longer; ids given up. */
uint64_t follow_expire(struct follow *f, int64_t now_ms);

/*
 * Restart every hole's clock (after an outage, whose length says nothing
 * about the transactions that hold the missing ids).
 */
void follow_touch(struct follow *f, int64_t now_ms);

/*
 * Start a poll at now_ms: its follow_where asks for the fresh holes, the
 * old ones whose age doubled since the previous poll, and those at the gap
 * timeout (call follow_expire after the poll).  Without a call every poll
 * asks for every hole.
 */
void follow_round(struct follow *f, int64_t now_ms);

/*
 * The SQL condition for the next page of rows after id after (0 for the
 * first page of a poll): "id > after AND (id BETWEEN lo AND hi OR ... OR
 * id > high)", the holes being those of this round (follow_round).  Past
 * FOLLOW_SQL_RANGES ranges the rest is asked for as
 * "id >= lo" (rows seen already are then read again and skipped).
 * buf holds FOLLOW_WHERE_LEN bytes.  Returns the length written.
 */
size_t follow_where(const struct follow *f, uint64_t after, char *buf,
    size_t size);

/* Ids held in holes now. */
uint64_t follow_pending(const struct follow *f);

#endif
