/*
 * The record of seen ids and open holes that lets a follower of an
 * AUTO_INCREMENT table hand out each committed row once (follow.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "follow.h"

/*
 * Holes are kept in "class space": under auto_increment_increment step,
 * the ids of one class (id % step) form a line of their own, so that a
 * class's ids missing between another class's rows are one range, not one
 * range per id.  key() orders the classes one after the other; with step 1
 * the key is the id itself.
 */
#define FOLLOW_CLASS_SHIFT 58
#define FOLLOW_INDEX_MASK ((UINT64_C(1) << FOLLOW_CLASS_SHIFT) - 1)

static uint64_t
follow_key(const struct follow *f, uint64_t id)
{
	if (f->step == 1)
		return id;
	return (id % f->step) << FOLLOW_CLASS_SHIFT | (id / f->step);
}

static uint64_t
follow_id(const struct follow *f, uint64_t key)
{
	if (f->step == 1)
		return key;
	return (key & FOLLOW_INDEX_MASK) * f->step +
	    (key >> FOLLOW_CLASS_SHIFT);
}

/* Whether rows of id's class have been seen (every class: step 1). */
static int
follow_live(const struct follow *f, uint64_t id)
{
	uint64_t c = id % f->step;

	return c >= 64 || (f->live >> c & 1) != 0;
}

int
follow_init(struct follow *f, size_t max_holes, int64_t gap_timeout_ms)
{
	memset(f, 0, sizeof(*f));
	f->max_holes = max_holes > 0 ? max_holes : FOLLOW_MAX_HOLES;
	f->gap_timeout_ms = gap_timeout_ms;
	f->step = 1;
	f->live = 1;
	/* all of it at once: follow_see then never fails */
	if ((f->holes = calloc(f->max_holes, sizeof(*f->holes))) == NULL)
		return -1;
	return 0;
}

void
follow_free(struct follow *f)
{
	free(f->holes);
	memset(f, 0, sizeof(*f));
}

void
follow_start(struct follow *f, uint64_t high)
{
	f->high = high;
	f->base = high;
	f->nholes = 0;
}

void
follow_set_step(struct follow *f, uint64_t step)
{
	if (f->nholes > 0 || step == f->step)
		return;
	f->step = step > 1 && step < FOLLOW_INDEX_MASK ? step : 1;
	f->live = f->step == 1 ? 1 : 0;
}

void
follow_mark(struct follow *f, uint64_t id)
{
	uint64_t c = id % f->step;

	if (c < 64)
		f->live |= UINT64_C(1) << c;
}

void
follow_prune(struct follow *f)
{
	size_t i, kept = 0;

	for (i = 0; i < f->nholes; i++)
		if (follow_live(f, follow_id(f, f->holes[i].lo)))
			f->holes[kept++] = f->holes[i];
	f->nholes = kept;
}

static uint64_t
follow_hole_size(const struct follow_hole *h)
{
	return h->hi - h->lo + 1;
}

/* Remove holes[i]; its ids count as given up when give_up. */
static void
follow_remove(struct follow *f, size_t i, int give_up)
{
	if (give_up)
		f->given_up += follow_hole_size(&f->holes[i]);
	memmove(&f->holes[i], &f->holes[i + 1],
	    (f->nholes - i - 1) * sizeof(f->holes[0]));
	f->nholes--;
}

/* Insert the key range lo..hi (one class) in order. */
static void
follow_insert(struct follow *f, uint64_t lo, uint64_t hi, int64_t now_ms)
{
	size_t at;

	/*
	 * A class's run of missing ids, noticed a piece at a time as the
	 * other classes' rows come, is one range: lengthened while its
	 * start is younger than half the gap timeout (whose ids then have
	 * at least that half to come).
	 */
	at = f->nholes;
	while (at > 0 && f->holes[at - 1].lo > lo)
		at--;
	if (at > 0 && f->holes[at - 1].hi + 1 == lo &&
	    now_ms - f->holes[at - 1].since_ms < f->gap_timeout_ms / 2) {
		f->holes[at - 1].hi = hi;
		return;
	}
	/* the lowest range is the oldest one: it goes first */
	if (f->nholes == f->max_holes) {
		follow_remove(f, 0, 1);
		if (at > 0)
			at--;
	}
	memmove(&f->holes[at + 1], &f->holes[at],
	    (f->nholes - at) * sizeof(f->holes[0]));
	f->holes[at].lo = lo;
	f->holes[at].hi = hi;
	f->holes[at].since_ms = now_ms;
	f->nholes++;
}

/* The ids lo..hi of class c (id % step == c), as one range. */
static void
follow_add_class(struct follow *f, uint64_t lo, uint64_t hi, uint64_t c,
    int64_t now_ms)
{
	uint64_t first, last;

	if (lo > hi)
		return;
	first = lo + (c + f->step - lo % f->step) % f->step;
	if (first > hi || first < lo)
		return;
	last = hi - (hi % f->step + f->step - c) % f->step;
	follow_insert(f, follow_key(f, first), follow_key(f, last), now_ms);
}

/* The ids lo..hi, class by class; with live, of the live classes only. */
static void
follow_add(struct follow *f, uint64_t lo, uint64_t hi, int64_t now_ms,
    int live)
{
	uint64_t id;

	if (lo > hi)
		return;
	if (f->step == 1) {
		follow_insert(f, lo, hi, now_ms);
		return;
	}
	for (id = lo; id <= hi && id - lo < f->step; id++)
		if (!live || follow_live(f, id))
			follow_add_class(f, lo, hi, id % f->step, now_ms);
}

void
follow_hole_add(struct follow *f, uint64_t lo, uint64_t hi, int64_t now_ms)
{
	follow_add(f, lo, hi, now_ms, 0);
}

/* The index of the hole holding id, or -1. */
static long
follow_find(const struct follow *f, uint64_t id)
{
	size_t lo = 0, hi = f->nholes;

	id = follow_key(f, id);
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (f->holes[mid].hi < id)
			lo = mid + 1;
		else if (f->holes[mid].lo > id)
			hi = mid;
		else
			return (long)mid;
	}
	return -1;
}

int
follow_see(struct follow *f, uint64_t id, int64_t now_ms)
{
	struct follow_hole *h;
	uint64_t key;
	size_t at;
	long i;

	if (!follow_live(f, id)) {
		/*
		 * The first row of a class no row was seen of (a writer new
		 * to the cluster): its rows were never asked for, so it is
		 * new, and so may be those of the class between where
		 * following started and here.
		 */
		follow_mark(f, id);
		follow_add_class(f, f->base + 1, id - 1 < f->high ? id - 1 :
		    f->high, id % f->step, now_ms);
		if (id <= f->high)
			return 1;
	}
	if (id > f->high) {
		if (id > f->high + 1)
			follow_add(f, f->high + 1, id - 1, now_ms, 1);
		f->high = id;
		return 1;
	}
	if ((i = follow_find(f, id)) == -1)
		return 0;
	h = &f->holes[i];
	key = follow_key(f, id);
	if (h->lo == h->hi) {
		follow_remove(f, (size_t)i, 0);
	} else if (key == h->lo) {
		h->lo++;
	} else if (key == h->hi) {
		h->hi--;
	} else {
		struct follow_hole upper = { key + 1, h->hi, h->since_ms };

		h->hi = key - 1;
		if (f->nholes == f->max_holes) {
			/* room: give up the oldest (maybe the lower half) */
			follow_remove(f, 0, 1);
			i--;
		}
		at = (size_t)(i + 1);
		memmove(&f->holes[at + 1], &f->holes[at],
		    (f->nholes - at) * sizeof(f->holes[0]));
		f->holes[at] = upper;
		f->nholes++;
	}
	return 1;
}

uint64_t
follow_expire(struct follow *f, int64_t now_ms)
{
	uint64_t before = f->given_up;
	size_t i, kept = 0;

	for (i = 0; i < f->nholes; i++) {
		if (now_ms - f->holes[i].since_ms >= f->gap_timeout_ms) {
			f->given_up += follow_hole_size(&f->holes[i]);
			continue;
		}
		f->holes[kept++] = f->holes[i];
	}
	f->nholes = kept;
	return f->given_up - before;
}

void
follow_touch(struct follow *f, int64_t now_ms)
{
	size_t i;

	for (i = 0; i < f->nholes; i++)
		f->holes[i].since_ms = now_ms;
}

void
follow_round(struct follow *f, int64_t now_ms)
{
	f->prev_ms = f->rounds ? f->round_ms : INT64_MIN / 2;
	f->round_ms = now_ms;
	f->rounds = true;
}

/* -1 for a fresh hole's age, else k for 2^k <= age / FOLLOW_FRESH_MS. */
static int
follow_age_level(int64_t age_ms)
{
	if (age_ms < FOLLOW_FRESH_MS)
		return -1;
	return 63 - __builtin_clzll((unsigned long long)(age_ms /
	    FOLLOW_FRESH_MS));
}

/* Is hole h asked for in this round? */
static bool
follow_asked(const struct follow *f, const struct follow_hole *h)
{
	int64_t age = f->round_ms - h->since_ms;

	if (!f->rounds || age < FOLLOW_FRESH_MS || age >= f->gap_timeout_ms)
		return true;
	return follow_age_level(age) > follow_age_level(f->prev_ms -
	    h->since_ms);
}

size_t
follow_where(const struct follow *f, uint64_t after, char *buf, size_t size)
{
	size_t i, j, len, listed = 0;
	int n;

	n = snprintf(buf, size, "id > %" PRIu64 " AND (", after);
	len = n > 0 ? (size_t)n : 0;
	for (i = 0; i < f->nholes && len < size; i++) {
		const struct follow_hole *h = &f->holes[i];
		uint64_t lo = follow_id(f, h->lo), hi = follow_id(f, h->hi);

		if (hi <= after || !follow_asked(f, h))
			continue;
		if (lo <= after)
			lo += ((after - lo) / f->step + 1) * f->step;
		if (listed == FOLLOW_SQL_RANGES) {
			/* the rest in one sweep, the ids above high with it */
			for (j = i + 1; j < f->nholes; j++) {
				uint64_t l = follow_id(f, f->holes[j].lo);

				if (l <= after)
					l = after + 1;
				if (follow_id(f, f->holes[j].hi) > after &&
				    follow_asked(f, &f->holes[j]) && l < lo)
					lo = l;
			}
			n = snprintf(buf + len, size - len, "id >= %" PRIu64
			    ")", lo);
			return len + (n > 0 ? (size_t)n : 0);
		}
		if (lo == hi)
			n = snprintf(buf + len, size - len, "id = %" PRIu64
			    " OR ", lo);
		else if (f->step == 1)
			n = snprintf(buf + len, size - len, "id BETWEEN %"
			    PRIu64 " AND %" PRIu64 " OR ", lo, hi);
		else
			n = snprintf(buf + len, size - len, "(id BETWEEN %"
			    PRIu64 " AND %" PRIu64 " AND id %% %" PRIu64
			    " = %" PRIu64 ") OR ", lo, hi, f->step,
			    lo % f->step);
		len += n > 0 ? (size_t)n : 0;
		listed++;
	}
	if (len < size) {
		n = snprintf(buf + len, size - len, "id > %" PRIu64 ")",
		    f->high);
		len += n > 0 ? (size_t)n : 0;
	}
	return len < size ? len : size - 1;
}

uint64_t
follow_pending(const struct follow *f)
{
	uint64_t n = 0;
	size_t i;

	for (i = 0; i < f->nholes; i++)
		n += follow_hole_size(&f->holes[i]);
	return n;
}
