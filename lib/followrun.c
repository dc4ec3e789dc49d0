/*
 * The one follow loop of sm-tail's views (followrun.h): step, tell, wait.
 */
#include <err.h>

#include "clock.h"
#include "exitcode.h"
#include "followrun.h"

int
followrun(const struct followrun *fr, struct why *why)
{
	int64_t step = fr->interval_ms < 1 ? 1 : fr->interval_ms;
	int64_t next = fr->first_ms;
	enum tail_step st;

	for (;;) {
		next = tail_next_ms(fr->tail, next, clock_mono_ms());
		if (fr->wait(fr->arg, next))
			return SM_EXIT_OK;
		if ((st = tail_step(fr->tail, clock_mono_ms())) ==
		    TAIL_STEP_FATAL) {
			followrun_why(fr->tail, fr->desc, why);
			return SM_EXIT_USAGE;
		}
		if (fr->stepped(fr->arg, st) || st == TAIL_STEP_STOP)
			return SM_EXIT_OK;
		next += step;
	}
}

void
followrun_why(struct tail *t, const char *desc, struct why *why)
{
	struct tail_status st;

	tail_status(t, &st);
	why_set(why, "%.100s: %.400s", desc, st.why);
}

void
followrun_news(struct tail *t, const char *desc,
    struct followrun_said *said)
{
	struct tail_status st;

	tail_status(t, &st);
	if (st.resets != said->resets) {
		warnx("%s: the table's ids started again (TRUNCATE?): "
		    "following its new rows from the first", desc);
		said->resets = st.resets;
	}
	if (st.via_changes != said->via_changes) {
		warnx("%s: %s", desc, st.via_why);
		said->via_changes = st.via_changes;
	}
}
