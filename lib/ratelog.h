/*
 * A budget for log lines that a client can cause (a connection reset, one
 * past a limit): at most RATELOG_BURST lines a window of RATELOG_WINDOW_MS,
 * the rest only counted, and the count said once the window is over.  The
 * listeners (httpd_listen.c's httpd_log) share it, so 1,024 aborted
 * connections cost some ten lines and one "N more suppressed".  No
 * locking: the caller holds its own lock around each call.
 */
#ifndef SM_RATELOG_H
#define SM_RATELOG_H

#include <stdbool.h>
#include <stdint.h>

#define RATELOG_BURST 10
#define RATELOG_WINDOW_MS 10000

struct ratelog {
	int64_t start_ms;	/* the window's start; 0: none yet */
	unsigned said;		/* lines let through in the window */
	unsigned long long held;	/* lines held back in the window */
};

/*
 * A line is to be written at now_ms (monotonic): true if it may be, false
 * if it is held back (and counted).  *report is set to the lines held back
 * in a window that is over, to be said before this one (0: nothing).
 */
bool ratelog_take(struct ratelog *r, int64_t now_ms,
    unsigned long long *report);

/*
 * The lines held back in a window that is over at now_ms, or in the
 * current one too if all (at the end); the count is then reset.  0 when
 * there is nothing to say.
 */
unsigned long long ratelog_flush(struct ratelog *r, int64_t now_ms, bool all);

#endif
