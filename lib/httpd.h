/*
 * sm-store's HTTP receiver (libmicrohttpd), the contract in sm-store(1):
 * POST /metrics validates the whole body, hands the records to the
 * committer as one atomic group and answers after COMMIT; GET /health says
 * whether the database answers.  Limits: body size, connection count,
 * per-connection time-outs (silence, and a whole request); an optional
 * bearer token.
 */
#ifndef SM_HTTPD_H
#define SM_HTTPD_H

#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "store.h"
#include "why.h"

#define HTTPD_MAX_BODY_DEFAULT (1024 * 1024)
#define HTTPD_MAX_BODY_MAX (64 * 1024 * 1024)
#define HTTPD_TIMEOUT_DEFAULT 30		/* seconds */
#define HTTPD_MAX_CONNECTIONS_DEFAULT 256

struct httpd_config {
	struct sockaddr_storage addr;	/* from httpd_parse_listen */
	socklen_t addrlen;
	const char *port_file;		/* NULL: none */
	const char *token;		/* NULL: no token wanted */
	size_t max_body;		/* bytes */
	/* seconds: silence, and a request whole */
	unsigned timeout;
	unsigned max_connections;
	unsigned threads;		/* polling threads; 0 or 1: one */
	const char *source;		/* the "api" of every answer */
	struct store *store;
};

/*
 * The options sm-store --listen and sm-tail --listen share: --listen ADDR
 * (httpd_parse_listen) and --max-connections N (1 to
 * HTTPD_MAX_CONNECTIONS_MAX).  0, or -1 after saying what is wrong (the
 * caller prints its usage).
 */
#define HTTPD_MAX_CONNECTIONS_MAX 100000
int httpd_opt_listen(const char *arg, struct sockaddr_storage *addr,
    socklen_t *addrlen);
int httpd_opt_max_connections(const char *arg, long long *out);

/*
 * Block the stop signals (cli_stop_signals: SIGINT, SIGTERM, SIGHUP) in
 * this thread and every thread it starts from now on, into stop: a
 * server's main thread then waits for them (sigtimedwait) while MHD's
 * threads never see them.
 */
void httpd_block_stop(sigset_t *stop);

/* MHD's error log, onto stderr through warnx (MHD_OPTION_EXTERNAL_LOGGER). */
void httpd_log(void *cls, const char *fmt, va_list ap);

/*
 * Write port into path, whole or not at all (a temporary file renamed).
 * 0, or -1 with the reason in why.
 */
int httpd_write_port(const char *path, unsigned port, struct why *why);

/* "ADDR:PORT" or "[ADDR]:PORT" for messages, into buf. */
void httpd_describe(const struct sockaddr_storage *ss, unsigned port,
    char *buf, size_t size);

/*
 * Serve until one of the signals in stop arrives (the caller has blocked
 * them in every thread), then stop accepting, finish the requests in
 * flight and return 0.  -1 with the reason in why when the server cannot
 * start.
 */
int httpd_run(const struct httpd_config *c, const sigset_t *stop,
    struct why *why);

#endif
