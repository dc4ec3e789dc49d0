/*
 * Rate-limiting log lines a client can cause (ratelog.h): a window, a
 * burst, and a count of what was held back.
 */
#include "ratelog.h"

/* Start a new window at now_ms if the current one is over. */
static void
ratelog_roll(struct ratelog *r, int64_t now_ms)
{
	if (r->start_ms != 0 && now_ms - r->start_ms < RATELOG_WINDOW_MS)
		return;
	r->start_ms = now_ms != 0 ? now_ms : 1;
	r->said = 0;
}

bool
ratelog_take(struct ratelog *r, int64_t now_ms, unsigned long long *report)
{
	*report = ratelog_flush(r, now_ms, false);
	ratelog_roll(r, now_ms);
	if (r->said < RATELOG_BURST) {
		r->said++;
		return true;
	}
	r->held++;
	return false;
}

unsigned long long
ratelog_flush(struct ratelog *r, int64_t now_ms, bool all)
{
	unsigned long long n = r->held;

	if (n == 0 || (!all && now_ms - r->start_ms < RATELOG_WINDOW_MS))
		return 0;
	r->held = 0;
	return n;
}
