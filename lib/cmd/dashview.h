/*
 * sm-tail --dashboard: a full-screen ncurses view of the newest rows,
 * redrawn in place every poll (lib/dash.h holds what it shows, lib/tail.h
 * reads the rows).  Keys: q quits; Tab, n or the right arrow show the next
 * host, Shift-Tab, p or the left arrow the previous one.  Losing the
 * database does not end it: it says it is reconnecting and carries on.
 * The database is polled on a thread of its own, so that a server that
 * hangs freezes neither the screen nor q: the view says how long it has
 * been waiting for the server.
 */
#ifndef SM_DASHVIEW_H
#define SM_DASHVIEW_H

#include <signal.h>
#include <stdbool.h>

#include "tail.h"

#define DASHVIEW_MIN_COLS 60
#define DASHVIEW_MIN_LINES 18
#define DASHVIEW_CONNECT_TIMEOUT 2	/* seconds: keep the screen alive */
#define DASHVIEW_IO_TIMEOUT 10

struct dashview_config {
	struct tail_config tail;	/* emit, bad and arg are its own */
	int64_t interval_ms;		/* between polls */
	double warn;			/* percent */
	volatile sig_atomic_t *stop;
};

/*
 * Run until q or *stop.  The caller has called setlocale(LC_ALL, "") and
 * mysql_library_init().  Returns the exit status, within about a second
 * even when the server hangs; the poller thread may then be left blocked
 * in the client library, to end with the process: *left says so, and the
 * caller must then exit soon without mysql_library_end().
 */
int dashview_run(const struct dashview_config *cfg, bool *left);

#endif
