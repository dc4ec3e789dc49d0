/*
 * The follow loop of sm-tail's three views (the printer of -f, the
 * terminal dashboard's poller, --listen's follower), written once: step
 * the follower (its rows go to the view's emit, lib/tail.h), tell the view
 * what the step did, then wait with the view's one idiom until the next
 * step is due or the view stops.
 *
 * A fatal follower error (TAIL_STEP_FATAL: a configuration fault met
 * before the history could be read, such as access denied, an unknown
 * database, a table without sm's columns, or --via binlog refused) ends
 * every view the same way: followrun returns SM_EXIT_USAGE with
 * "database: reason" in why, which the view reports once and its command
 * exits with.
 */
#ifndef SM_FOLLOWRUN_H
#define SM_FOLLOWRUN_H

#include <stdbool.h>
#include <stdint.h>

#include "tail.h"
#include "why.h"

struct followrun {
	struct tail *tail;
	const char *desc;	/* the database, for messages (db_describe) */
	int64_t interval_ms;	/* between steps */
	int64_t first_ms;	/* the first step, not before (monotonic) */
	/*
	 * Wait until when_ms (monotonic) at most, or until the view stops:
	 * true to stop.  The view's idiom: poll(2) on stdout for the
	 * printer, a condition variable on the monotonic clock for a thread.
	 */
	bool (*wait)(void *arg, int64_t when_ms);
	/* After each step but a fatal one: what it did; true to stop. */
	bool (*stepped)(void *arg, enum tail_step st);
	void *arg;
};

/* What a follower said since the last followrun_news, for warnx. */
struct followrun_said {
	unsigned long long resets;
	unsigned long long via_changes;
};

/*
 * Step and wait until a stop (wait or stepped said so, or emit asked to
 * stop: SM_EXIT_OK) or a fatal error (SM_EXIT_USAGE, the reason in why).
 */
int followrun(const struct followrun *fr, struct why *why);

/* "desc: reason" of t's last failure, into why. */
void followrun_why(struct tail *t, const char *desc, struct why *why);

/*
 * Say (warnx) what changed since *said: the table's ids started again, or
 * how rows are read.
 */
void followrun_news(struct tail *t, const char *desc,
    struct followrun_said *said);

#endif
