/*
 * The whole-request deadline that both listeners (sm-store --listen,
 * lib/httpd; sm-tail --listen, lib/web) put on their connections.
 * libmicrohttpd closes a connection only when it falls silent for its
 * time-out, which every byte restarts, so a client that trickles a byte
 * now and then would keep its slot for ever (slowloris).  Each open
 * connection is on a list, with the time its request began (the
 * connection opened, or its last answer went out); the server's main
 * thread sweeps the list every second and shuts down the socket of each
 * connection whose request has not arrived whole by its deadline, which
 * makes MHD close it.  A connection whose request is in (being answered,
 * streaming, waiting for the database) has no deadline.
 *
 * The list is under the caller's lock (add, remove, sweep); the marks
 * are atomic, so the thread that polls the connections sets them without
 * it.  No libmicrohttpd here: sockets are file descriptors.
 */
#ifndef SM_HTTPD_DEADLINE_H
#define SM_HTTPD_DEADLINE_H

#include <stdbool.h>
#include <stdint.h>

/* One connection on a deadline list. */
struct httpd_deadline {
	struct httpd_deadline *prev, *next;
	int fd;
	/* atomic: set by the polling thread, read by the sweep */
	int64_t since_ms;	/* opened, or its last answer went out */
	bool busy;		/* request in: no deadline */
	bool cut;		/* shut down by the sweep */
};

/* The connections of one server. */
struct httpd_deadlines {
	struct httpd_deadline *head;
	unsigned long cut;	/* connections shut down by sweeps */
};

/* Put d, the connection on socket fd, opened now, on the list. */
void httpd_deadline_add(struct httpd_deadlines *l, struct httpd_deadline *d,
    int fd);

/* Take d off the list (MHD is about to close its socket). */
void httpd_deadline_remove(struct httpd_deadlines *l,
    struct httpd_deadline *d);

/*
 * The request of d is in (busy: no deadline), or was answered (not busy:
 * the clock starts again for the next one).  d may be NULL.
 */
void httpd_deadline_mark(struct httpd_deadline *d, bool busy);

/*
 * Shut down the sockets of the connections not busy whose request has
 * taken limit_ms or more (0: every one not busy); how many.  The caller
 * holds the lock under which sockets leave the list, so they are still
 * open.
 */
unsigned long httpd_deadline_sweep(struct httpd_deadlines *l,
    int64_t limit_ms);

/*
 * What a sweep cut, said on stderr (what: "http"): n connections whose
 * request took more than limit_s seconds, or, at the stop (stop), cut
 * because the server stops.
 */
void httpd_deadline_say(const char *what, unsigned long n, bool stop,
    unsigned limit_s);

#endif
