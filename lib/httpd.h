/*
 * sm-store's HTTP receiver (libmicrohttpd), the contract in sm-store(1):
 * POST /metrics validates the whole body, hands the records to the
 * committer as one atomic group and answers after COMMIT; GET /health says
 * whether the database answers; GET /metrics has the receiver's own
 * counters (storemetrics.h).  Limits: body size, connection count,
 * per-connection time-outs (silence, and a whole request); an optional
 * bearer token.
 */
#ifndef SM_HTTPD_H
#define SM_HTTPD_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "store.h"
#include "tls.h"
#include "why.h"

#define HTTPD_MAX_BODY_DEFAULT (1024 * 1024)
#define HTTPD_MAX_BODY_MAX (64 * 1024 * 1024)
#define HTTPD_TIMEOUT_DEFAULT 30		/* seconds */
#define HTTPD_MAX_CONNECTIONS_DEFAULT 256

struct httpd_config {
	/* from httpd_parse_listen (httpd_listen.h) */
	struct sockaddr_storage addr;
	socklen_t addrlen;
	const char *port_file;		/* NULL: none */
	const char *token;		/* NULL: no token wanted */
	/* GET /metrics' token; NULL: token's (sm-store(1), METRICS) */
	const char *metrics_token;
	/* tls_load's certificate, key, client CAs; NULL: plain HTTP */
	const struct tls_opts *tls;
	size_t max_body;		/* bytes */
	/* seconds: silence, and a request whole */
	unsigned timeout;
	unsigned max_connections;
	unsigned max_per_address;	/* from one address; 0: no cap */
	unsigned threads;		/* polling threads; 0 or 1: one */
	const char *source;		/* the "api" of every answer */
	struct store *store;
};

/*
 * Serve until one of the signals in stop arrives (the caller has blocked
 * them in every thread: httpd_block_stop), then stop accepting, finish
 * the requests in flight (those still arriving get 5 s, then are cut) and
 * return 0.  -1 with the reason in why when the server cannot start.
 */
int httpd_run(const struct httpd_config *c, const sigset_t *stop,
    struct why *why);

#endif
