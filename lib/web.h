/*
 * sm-tail --listen (sm-tail(1), LISTEN): one follower of the table
 * (lib/tail) feeding lib/feed, and an HTTP server (libmicrohttpd) that
 * serves any number of browsers and scrapers from it: the dashboard page
 * and its files, /events (Server-Sent Events), /rows, /hosts, /metrics
 * (Prometheus) and /health.  No request queries the database: what they
 * answer comes from the follower's ring and its table of newest rows.
 */
#ifndef SM_WEB_H
#define SM_WEB_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "alert.h"
#include "httpd_listen.h"
#include "tail.h"
#include "tls.h"
#include "webauth.h"
#include "why.h"

#define WEB_MAX_CONNECTIONS_DEFAULT 1024
#define WEB_TIMEOUT 60		/* seconds a connection may make no progress */
/* seconds a request may take to arrive whole (--request-timeout) */
#define WEB_REQUEST_TIMEOUT_DEFAULT 30
/*
 * Each connection's memory pool (MHD's default is 32 KiB): the request's
 * headers (about the pool less 3.5 KiB of them at most: more is answered
 * 431) and the SSE chunks.  6 KiB keeps a stream under 8 KiB of RSS
 * (bench/RESULTS.md, sm-tail --listen fan-out), headers to about 2.5 KiB.
 */
#define WEB_CONN_MEMORY_DEFAULT (6 * 1024)
#define WEB_CONN_MEMORY_MIN (4 * 1024)
#define WEB_CONN_MEMORY_MAX (1024 * 1024)
#define WEB_KEEPALIVE_MS 15000	/* an SSE comment this often */
#define WEB_SNDBUF (64 * 1024)	/* kernel send buffer of an SSE stream */
#define WEB_ROWS_DEFAULT 100	/* /rows without ?n= */
#define WEB_DYGRAPHS_DIR "/usr/share/javascript/dygraphs"

struct web_config {
	struct sockaddr_storage addr;	/* from httpd_parse_listen */
	socklen_t addrlen;
	const char *port_file;		/* NULL: none */
	const char *web_root;		/* the page's files; NULL: built in */
	const char *vendor_dir;		/* dygraphs' files */
	unsigned max_connections;
	unsigned request_timeout;	/* seconds: a request whole */
	size_t max_hosts;		/* (host, source) pairs, alert hosts */
	int64_t forget_ms;		/* a pair silent this long goes */
	unsigned max_per_address;	/* from one address; 0: no cap */
	size_t conn_memory;		/* each connection's pool, bytes */
	size_t backlog;			/* rows in the ring */
	int64_t stale_ms;		/* 0: from each host's interval */
	double warn;			/* the page's warning level, percent */
	int64_t interval_ms;		/* between polls */
	struct tail_config tail;	/* db, filters, history, gap timeout */
	/* --rule, --stale; NULL: none */
	const struct alert_ruleset *rules;
	bool keep_alerts;		/* --keep-alerts: into sm_alerts */
	const struct tls_opts *tls;	/* tls_load's; NULL: plain HTTP */
	struct webauth *auth;		/* --auth-file...; NULL: open */
};

/*
 * Follow and serve until one of the signals in stop arrives (the caller
 * has blocked them in every thread).  Returns SM_EXIT_OK; with the reason
 * in why, SM_EXIT_USAGE when the server cannot
 * listen or the database settings are wrong, SM_EXIT_FATAL when memory or
 * threads run out.
 */
int web_run(const struct web_config *c, const sigset_t *stop, struct why *why);

#endif
