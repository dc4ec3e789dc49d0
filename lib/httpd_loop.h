/*
 * The receiver's polling thread (lib/httpd): one thread that runs a
 * libmicrohttpd daemon started in external mode, woken by MHD's sockets
 * and by a doorbell that the committer rings once for a whole group of
 * answers.  lib/httpd_loop.c says why it is hand-made.
 */
#ifndef SM_HTTPD_LOOP_H
#define SM_HTTPD_LOOP_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/select.h>

#include <microhttpd.h>

#include "why.h"

/* The flags the daemon polled by a loop starts with, besides its own. */
#define HTTPD_LOOP_FLAGS (MHD_ALLOW_SUSPEND_RESUME & ~MHD_USE_ITC)

/* The loop's state: its fields are its own (httpd_loop.c). */
struct httpd_loop {
	struct MHD_Daemon *d;
	pthread_t thread;
	int bell;		/* eventfd, else -1 */
	int ep;			/* epoll set, else -1 */
	int ep_bell;		/* epoll set of the doorbell alone */
	/*
	 * Set before httpd_loop_start, or NULL: while lazy(arg) holds, the
	 * loop waits for the doorbell only (and MHD's time-outs), leaving
	 * what clients send in the kernel for up to HTTPD_LAZY_MS; pass(arg,
	 * true) and pass(arg, false) bracket each run of MHD.
	 */
	bool (*lazy)(void *arg);
	void (*pass)(void *arg, bool begin);
	void *arg;
	int64_t looked;		/* lazy: sockets last looked at, ms; or 0 */
	bool rung;		/* atomic: the bell rang, the loop not yet up */
	bool quiesce;		/* atomic: to stop accepting */
	bool quit;		/* atomic: to end */
	MHD_socket lfd;		/* the listening socket, once quiesced */
	/*
	 * MHD's connection limit (0: none): at it, the listening socket is
	 * not polled, so clients wait in the kernel's queue
	 */
	unsigned limit;
	/* for each of MHD's sockets, the events in ep (0: not in it) */
	uint8_t polled[FD_SETSIZE];
	uint8_t guessed[FD_SETSIZE];	/* passes told writable unasked */
};

/*
 * Make l's doorbell and epoll set, before the daemon starts (its
 * connection callbacks may call httpd_loop_forget).  0, or -1 with the
 * reason in why and nothing left open; once 0, httpd_loop_close undoes it.
 */
int httpd_loop_open(struct httpd_loop *l, struct why *why);

/* Start the thread polling d (started with HTTPD_LOOP_FLAGS): 0 or -1. */
int httpd_loop_start(struct httpd_loop *l, struct MHD_Daemon *d,
    struct why *why);

/* Wake the loop (any thread), after MHD_resume_connection. */
void httpd_loop_ring(struct httpd_loop *l);

/* From MHD_OPTION_NOTIFY_CONNECTION, on MHD_CONNECTION_NOTIFY_CLOSED. */
void httpd_loop_forget(struct httpd_loop *l, struct MHD_Connection *conn);

/* Have the loop stop accepting connections (httpd_quiesce), soon. */
void httpd_loop_quiesce(struct httpd_loop *l);

/* End the thread and wait for it; nothing polls the daemon after. */
void httpd_loop_stop(struct httpd_loop *l);

/*
 * After MHD_stop_daemon: close the listening socket the loop quiesced,
 * the epoll set and the doorbell.
 */
void httpd_loop_close(struct httpd_loop *l);

/*
 * Refuse new connections now, from the thread that polls d (MHD wants the
 * listening socket open until it stops): one accepted by the kernel but
 * never by MHD would be reset after its request was sent, where a refusal
 * says nothing was.  Returns the listening socket, to be closed after
 * MHD_stop_daemon, or MHD_INVALID_SOCKET.
 */
MHD_socket httpd_quiesce(struct MHD_Daemon *d);

#endif
