/*
 * What lib/web.c (the server) and lib/webapi.c (its JSON endpoints)
 * share: the server's state and the request helpers.  Not for others:
 * web.h is sm-tail's interface.
 */
#ifndef SM_WEB_IMPL_H
#define SM_WEB_IMPL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include <microhttpd.h>

#include "alert.h"
#include "alertstore.h"
#include "feed.h"
#include "followrun.h"
#include "httpd_deadline.h"
#include "httpd_epoll.h"
#include "web.h"
#include "webhist.h"
#include "why.h"

/*
 * The SSE response's own buffer: MHD callocs it with every response but
 * writes an HTTP/1.1 stream's chunks straight into the connection's pool,
 * so it only serves HTTP/1.0 readers; small, it costs 10,000 streams 5
 * MiB instead of 40.
 */
#define WEB_BLOCK 512
#define WEB_FILE_MAX (4 * 1024 * 1024)	/* a static file, at most */

struct web {
	const struct web_config *c;
	pthread_mutex_t lock;	/* feed, and the trackers' client links */
	pthread_cond_t wake;	/* the follower's sleep; ended by stopping */
	struct feed feed;
	struct tail *tail;
	struct alert_engine *alerts;	/* under lock; NULL: no rules */
	struct alertstore *store;	/* --keep-alerts; NULL: none */
	struct webhist *hist;		/* /history's queries */
	struct httpd_epoll poller;	/* polls the daemon */
	bool stopping;		/* under lock */
	bool fatal;		/* under lock: the follower gave up ... */
	struct why fatal_why;	/* ... for this reason */
	struct followrun_said said;	/* the follower's alone */
	/* every connection, for the whole-request deadline; under lock */
	struct httpd_deadlines conns;
	unsigned long long added;	/* entries added in this step */
	struct pollfd *reap;	/* web_reap's, under lock */
	size_t reap_cap;
	char desc[512];		/* the database, for messages */
};

/* n, a count from 0 to max: 0, or -1. */
int web_parse_count(const char *s, size_t max, size_t *out);

/* Queue body (taken; NULL: out of memory) as the answer. */
enum MHD_Result web_send(struct MHD_Connection *conn, unsigned code,
    const char *type, char *body, size_t len);

/* Queue json (taken) as the answer. */
enum MHD_Result web_json(struct MHD_Connection *conn, unsigned code,
    char *json);

/* Queue {"error": ...} as the answer. */
enum MHD_Result web_error(struct MHD_Connection *conn, unsigned code,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * The query checked: only the names in allowed (" a b "), each once, no
 * NUL byte; 0, or -1 with the 400 queued in *ret.
 */
int web_args_check(struct MHD_Connection *conn, const char *allowed,
    enum MHD_Result *ret);

/* The value of query name, or NULL. */
const char *web_arg(struct MHD_Connection *conn, const char *name);

/*
 * The filters every listing takes: host and source (names), n (rows).
 * 0, or -1 with the 400 answer queued in *ret.
 */
int web_filters(struct web *w, struct MHD_Connection *conn,
    const char *allowed, const char **host, const char **source, size_t *n,
    enum MHD_Result *ret);

/* The JSON endpoints (webapi.c); con_cls: the request's job, if any. */
enum MHD_Result web_rows(struct web *w, struct MHD_Connection *conn);
enum MHD_Result web_hosts(struct web *w, struct MHD_Connection *conn);
enum MHD_Result web_metrics(struct web *w, struct MHD_Connection *conn);
enum MHD_Result web_alerts(struct web *w, struct MHD_Connection *conn,
    void **con_cls);
enum MHD_Result web_health(struct web *w, struct MHD_Connection *conn);
enum MHD_Result web_history(struct web *w, struct MHD_Connection *conn,
    void **con_cls);

#endif
