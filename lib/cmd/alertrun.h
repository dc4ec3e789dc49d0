/*
 * sm-alert's stream: records (NDJSON, either dialect) from a descriptor
 * into an alert engine, its events as NDJSON lines on a stream and, with
 * a hook, to a command each (sm-alert(1)).
 */
#ifndef SM_ALERTRUN_H
#define SM_ALERTRUN_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "alert.h"
#include "hook.h"

struct alertstore;

struct alertrun_config {
	int fd;				/* records */
	FILE *out;			/* events */
	const struct alert_rule *rules;
	size_t nrules;
	/*
	 * The clock: each record's ts when replaying (stale alerts fire as
	 * record time passes them), else the monotonic clock for durations
	 * and the real-time clock for the events' times (alert_now), which
	 * also run while the input is silent.
	 */
	bool replay;
	size_t max_line;		/* 0: the default */
	struct hook *hook;		/* NULL: no command per event */
	struct alertstore *store;	/* --store (alertstore.h); NULL: none */
	volatile sig_atomic_t *stop;	/* set: stop reading */
};

/*
 * Read to the end of the input (or stop), then wait for the commands still
 * running.  Bad lines are reported with their number and skipped; a
 * summary goes to stderr.  Returns the exit status (exitcode.h): 1 when a
 * line was rejected, a command failed or the output could not be written.
 */
int alertrun(const struct alertrun_config *c);

#endif
