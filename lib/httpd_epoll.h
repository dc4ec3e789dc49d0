/*
 * sm-tail --listen's polling thread (lib/web): a libmicrohttpd daemon
 * started in external epoll mode, its epoll set polled by a thread of
 * ours that calls MHD_run, never MHD's own blocking wait.
 *
 * Why not MHD's internal polling thread: in libmicrohttpd 0.9.75 (Debian
 * 12; still so in its master of 2026) the thread drains its epoll set
 * with epoll_wait calls of 128 events while a call returns 128, each with
 * the wait's whole time-out, worked out before the first.  When the
 * ready sockets number exactly 128 or 256, the last call finds none and
 * sleeps out the time-out (a connection's, here 60 s) with every
 * request it has just been told of unread: 256 browsers reconnecting at
 * once saw no answer for 30 s and more (bench/sse-load -i 256, 4 runs
 * of 5).  MHD_run never waits; this thread waits instead, on the same
 * epoll set, for as long as MHD_get_timeout says, which is 0 while MHD
 * knows of work.  The cost is one poll(2) a pass, and the bell: one
 * write for a batch of resumed connections, where MHD's own thread has
 * one for each (10,000 for a row sent to 10,000 streams).
 */
#ifndef SM_HTTPD_EPOLL_H
#define SM_HTTPD_EPOLL_H

#include <pthread.h>
#include <stdbool.h>

#include <microhttpd.h>

#include "why.h"

/*
 * The flags a daemon polled by httpd_epoll is started with.  In external
 * mode MHD has no wake-up channel of its own (it drops MHD_USE_ITC), so
 * whoever resumes a connection rings this thread's bell after.
 */
#define HTTPD_EPOLL_FLAGS (MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME)

/* The thread and its bell: the fields are httpd_epoll.c's. */
struct httpd_epoll {
	struct MHD_Daemon *d;
	pthread_t thread;
	int bell;		/* eventfd: a resume, or the end */
	int epoll_fd;		/* the daemon's */
	bool quit;		/* atomic: end the thread */
	bool running;
};

/*
 * Make p's bell, before anything may ring it: 0, or -1 with the reason
 * in why.  Once 0, httpd_epoll_close undoes it.
 */
int httpd_epoll_open(struct httpd_epoll *p, struct why *why);

/*
 * Start the thread polling d (started with HTTPD_EPOLL_FLAGS, no
 * internal thread): 0, or -1 with the reason in why and nothing started.
 */
int httpd_epoll_start(struct httpd_epoll *p, struct MHD_Daemon *d,
    struct why *why);

/*
 * Wake the thread (any thread may), once after any number of
 * MHD_resume_connection calls: MHD takes them all in its next pass.
 */
void httpd_epoll_ring(struct httpd_epoll *p);

/*
 * End the thread and wait for it (a no-op when it is not running); after
 * it nothing polls d, which MHD_stop_daemon then stops in the caller's
 * thread.
 */
void httpd_epoll_stop(struct httpd_epoll *p);

/* Close the bell (after httpd_epoll_stop). */
void httpd_epoll_close(struct httpd_epoll *p);

#endif
