#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "follow.h"

int
follow_init(struct follow *f, size_t max_holes, int64_t gap_timeout_ms)
{
	memset(f, 0, sizeof(*f));
	f->max_holes = max_holes > 0 ? max_holes : FOLLOW_MAX_HOLES;
	f->gap_timeout_ms = gap_timeout_ms;
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
	f->nholes = 0;
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

void
follow_hole_add(struct follow *f, uint64_t lo, uint64_t hi, int64_t now_ms)
{
	if (lo > hi)
		return;
	/* the lowest range is the oldest one: it goes first */
	if (f->nholes == f->max_holes)
		follow_remove(f, 0, 1);
	f->holes[f->nholes].lo = lo;
	f->holes[f->nholes].hi = hi;
	f->holes[f->nholes].since_ms = now_ms;
	f->nholes++;
}

/* The index of the hole holding id, or -1. */
static long
follow_find(const struct follow *f, uint64_t id)
{
	size_t lo = 0, hi = f->nholes;

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
	size_t at;
	long i;

	if (id > f->high) {
		if (id > f->high + 1)
			follow_hole_add(f, f->high + 1, id - 1, now_ms);
		f->high = id;
		return 1;
	}
	if ((i = follow_find(f, id)) == -1)
		return 0;
	h = &f->holes[i];
	if (h->lo == h->hi) {
		follow_remove(f, (size_t)i, 0);
	} else if (id == h->lo) {
		h->lo++;
	} else if (id == h->hi) {
		h->hi--;
	} else {
		struct follow_hole upper = { id + 1, h->hi, h->since_ms };

		h->hi = id - 1;
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

size_t
follow_where(const struct follow *f, uint64_t after, char *buf, size_t size)
{
	size_t i, len, listed = 0;
	int n;

	n = snprintf(buf, size, "id > %" PRIu64 " AND (", after);
	len = n > 0 ? (size_t)n : 0;
	for (i = 0; i < f->nholes && len < size; i++) {
		const struct follow_hole *h = &f->holes[i];
		uint64_t lo = h->lo > after ? h->lo : after + 1;

		if (h->hi <= after)
			continue;
		if (listed == FOLLOW_SQL_RANGES) {
			/* the rest in one sweep, the ids above high with it */
			n = snprintf(buf + len, size - len, "id >= %" PRIu64
			    ")", lo);
			return len + (n > 0 ? (size_t)n : 0);
		}
		if (lo == h->hi)
			n = snprintf(buf + len, size - len, "id = %" PRIu64
			    " OR ", lo);
		else
			n = snprintf(buf + len, size - len, "id BETWEEN %"
			    PRIu64 " AND %" PRIu64 " OR ", lo, h->hi);
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
