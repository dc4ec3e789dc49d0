/*
 * sm-store's HTTP receiver (httpd.h): libmicrohttpd's callbacks that take
 * a request (route, authenticate, receive and validate the body, hand its
 * records to the committer and answer once it has), the connections'
 * deadlines, and httpd_run, which starts the daemon, waits for a stop
 * signal and drains.  The listening options are httpd_listen.c's; the
 * polling thread, with one HTTP thread, httpd_loop.c's.
 */
#include <err.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "body.h"
#include "clock.h"
#include "httpd.h"
#include "httpd_deadline.h"
#include "httpd_listen.h"
#include "httpd_loop.h"
#include "storemetrics.h"
#include "tls.h"
#include "token.h"

#define HTTPD_BODY_START (16 * 1024)	/* without a Content-Length */
/* body buffer kept for the next request */
#define HTTPD_BODY_KEEP (64 * 1024)
#define HTTPD_REFUSE_SLOTS 32		/* past --max-connections, see below */
/*
 * MHD's memory per connection: the request line and headers (a token of
 * TOKEN_MAX and 1.5 KiB more fit), the read buffer, the answer's
 * headers.  MHD zeroes it all for every request, so no more than that
 * (its default, 32 KiB, cost as much as the rest of its work).
 */
#define HTTPD_CONN_MEMORY (8 * 1024)
/*
 * Up to this --max-connections with one HTTP thread, our own polling
 * thread (httpd_loop.c, epoll); with several, MHD's threads with poll();
 * above it, MHD's threads with epoll (see httpd_start).
 */
#define HTTPD_POLL_MAX 256
/*
 * After a stop signal, how long a request may still take to arrive whole
 * before its connection is cut (httpd_drain).
 */
#define HTTPD_STOP_GRACE_MS 5000

enum httpd_state {
	RQ_BODY,		/* receiving the body */
	RQ_WAIT			/* suspended until the committer answers */
};

/*
 * A request.  Each connection has one for its requests, one after the
 * other, so its buffers (body, rows) serve the next request without
 * allocating again.
 */
struct httpd_req {
	struct httpd *h;
	struct MHD_Connection *conn;
	struct httpd_conn *hc;	/* NULL: not tracked, rq is its own */
	enum httpd_state state;
	enum body_kind kind;
	char *buf;
	size_t len;
	size_t cap;
	size_t want;		/* Content-Length, 0 when none */
	bool too_large;
	bool no_memory;		/* the body could not be held: 503, retry */
	bool decoded;		/* body decoded where MHD received it */
	int rc;			/* then, body_decode's answer */
	struct body body;
	struct store_group group;
};

/*
 * Every open connection, on the deadline list (httpd_deadline.h): the
 * main thread sweeps it every second (httpd_cut; at the stop, sooner:
 * httpd_drain).
 */
struct httpd_conn {
	struct httpd_deadline dl;
	bool over;		/* past --max-connections: gets a 503 */
	struct httpd_req rq;
};

struct httpd {
	const struct httpd_config *c;
	pthread_mutex_t lock;
	pthread_cond_t idle;	/* on CLOCK_MONOTONIC */
	unsigned inflight;	/* atomic: POST requests not completed */
	unsigned served;	/* open connections within max_connections */
	/*
	 * atomic: a stop signal came (httpd_drain).  The listener is shut
	 * next; a POST /metrics that begins now on a connection already open
	 * gets 503 "shutting down" and Connection: close; /health answers.
	 */
	bool stopping;
	struct httpd_deadlines conns;	/* under lock */
	/* the answers to one record, stored or a duplicate: made once */
	struct MHD_Response *one_stored, *one_duplicate;
	struct MHD_Daemon *d;
	/*
	 * With one HTTP thread and at most HTTPD_POLL_MAX connections, the
	 * polling thread is ours (httpd_loop.c), rung once for the whole
	 * group the committer answered, where MHD's thread costs one wake-up
	 * write for every request resumed.
	 */
	bool own_loop;
	struct httpd_loop loop;
	MHD_socket lfd;		/* MHD's threads: the listener, quiesced */
};

/*
 * The socket context of a connection past --max-connections that could
 * not be tracked (out of memory): it gets one 503 and is closed.  At its
 * own limit MHD stops accepting, and clients then wait in the kernel's
 * queue without a word, so MHD's limit is set HTTPD_REFUSE_SLOTS above
 * ours: that many can be told to come back.
 */
static char httpd_over;

/* The tracker of a connection, or NULL (untracked, or past the limit). */
static struct httpd_conn *
httpd_conn_of(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci;

	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	if (ci == NULL || ci->socket_context == NULL ||
	    ci->socket_context == &httpd_over)
		return NULL;
	return ci->socket_context;
}

/*
 * Waiting for the committer (busy: no deadline), or back from it or
 * answered: the clock starts again.  Only the polling thread writes these
 * and frees hc (httpd_connection), so no lock: the sweep reads them
 * atomically, under the lock that keeps hc alive.
 */
static void
httpd_conn_mark(struct httpd_conn *hc, bool busy)
{
	if (hc != NULL)
		httpd_deadline_mark(&hc->dl, busy);
}

/* A JSON answer's response (json is taken), or NULL. */
static struct MHD_Response *
httpd_json(char *json)
{
	struct MHD_Response *r;

	r = MHD_create_response_from_buffer(strlen(json), json,
	    MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		free(json);
		return NULL;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "application/json");
	return r;
}

/* Queue a JSON answer (json is taken); one extra header if name is set. */
static enum MHD_Result
httpd_send(struct MHD_Connection *conn, unsigned code, char *json,
    const char *name, const char *value)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (json == NULL) {
		if ((json = strdup("{\"error\":\"out of memory\"}")) == NULL)
			return MHD_NO;
		code = MHD_HTTP_INTERNAL_SERVER_ERROR;
		name = NULL;
	}
	if ((r = httpd_json(json)) == NULL)
		return MHD_NO;
	if (name != NULL)
		MHD_add_response_header(r, name, value);
	storemetrics_status(code);
	ret = MHD_queue_response(conn, code, r);
	MHD_destroy_response(r);
	return ret;
}

/* A connection past the limit: 503, come back in a second, and goodbye. */
static enum MHD_Result
httpd_refuse(struct httpd *h, struct MHD_Connection *conn)
{
	struct MHD_Response *r;
	enum MHD_Result ret;
	char *json;

	if ((json = body_answer("error", "too many connections",
	    h->c->source)) == NULL || (r = httpd_json(json)) == NULL)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, "1");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
	storemetrics_status(MHD_HTTP_SERVICE_UNAVAILABLE);
	ret = MHD_queue_response(conn, MHD_HTTP_SERVICE_UNAVAILABLE, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
httpd_unavailable(struct httpd *h, struct MHD_Connection *conn,
    const char *what)
{
	char secs[16];

	snprintf(secs, sizeof(secs), "%u", store_retry_after(h->c->store));
	return httpd_send(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
	    body_answer("error", what, h->c->source),
	    MHD_HTTP_HEADER_RETRY_AFTER, secs);
}

static enum MHD_Result
httpd_health(struct httpd *h, struct MHD_Connection *conn)
{
	char secs[16];

	if (store_up(h->c->store))
		return httpd_send(conn, MHD_HTTP_OK,
		    body_answer("status", "ok", h->c->source), NULL, NULL);
	snprintf(secs, sizeof(secs), "%u", store_retry_after(h->c->store));
	return httpd_send(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
	    body_answer("status", "database unavailable", h->c->source),
	    MHD_HTTP_HEADER_RETRY_AFTER, secs);
}

/* A missing or wrong bearer token: 401, counted. */
static enum MHD_Result
httpd_deny(struct MHD_Connection *conn)
{
	storemetrics_auth_failed();
	return httpd_send(conn, MHD_HTTP_UNAUTHORIZED,
	    body_answer("error", "unauthorized", NULL),
	    MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"sm\"");
}

/*
 * GET /metrics: the receiver's own counters in Prometheus text
 * (storemetrics.h), behind the metrics token, else the senders' token,
 * when either is set (sm-store(1), METRICS).
 */
static enum MHD_Result
httpd_metrics(struct httpd *h, struct MHD_Connection *conn)
{
	const char *token = h->c->metrics_token != NULL ?
	    h->c->metrics_token : h->c->token;
	struct storemetrics_gauges g = { 0 };
	struct MHD_Response *r;
	enum MHD_Result ret;
	char *text;

	if (token != NULL && !token_bearer_ok(MHD_lookup_connection_value(
	    conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION), token))
		return httpd_deny(conn);
	g.db_up = store_up(h->c->store);
	store_queued(h->c->store, &g.queued_groups, &g.queued_rows);
	g.inflight = __atomic_load_n(&h->inflight, __ATOMIC_RELAXED);
	pthread_mutex_lock(&h->lock);
	g.connections = h->served;
	g.cut = h->conns.cut;
	pthread_mutex_unlock(&h->lock);
	/* this answer counts in itself */
	storemetrics_status(MHD_HTTP_OK);
	if ((text = storemetrics_text(&g)) == NULL || (r =
	    MHD_create_response_from_buffer(strlen(text), text,
	    MHD_RESPMEM_MUST_FREE)) == NULL) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "text/plain; version=0.0.4; charset=utf-8");
	ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

/* The headers are in: route, authenticate, check the announced size. */
static enum MHD_Result
httpd_begin(struct httpd *h, struct MHD_Connection *conn, const char *url,
    const char *method, void **con_cls)
{
	const struct httpd_config *c = h->c;
	const union MHD_ConnectionInfo *ci;
	struct httpd_conn *hc;
	struct httpd_req *rq;
	struct why why;
	const char *v;
	char msg[64];

	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	hc = ci != NULL ? ci->socket_context : NULL;
	if (hc == (void *)&httpd_over || (hc != NULL && hc->over))
		return httpd_refuse(h, conn);
	if (strcmp(url, "/health") == 0) {
		if (strcmp(method, MHD_HTTP_METHOD_GET) == 0 ||
		    strcmp(method, MHD_HTTP_METHOD_HEAD) == 0)
			return httpd_health(h, conn);
		return httpd_send(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
		    body_answer("error", "method not allowed", NULL),
		    MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	}
	if (tls_peer_check(c->tls, conn, &why) == -1)
		return httpd_send(conn, MHD_HTTP_FORBIDDEN,
		    body_answer("error", why.msg, NULL),
		    MHD_HTTP_HEADER_CONNECTION, "close");
	if (strcmp(url, "/metrics") != 0)
		return httpd_send(conn, MHD_HTTP_NOT_FOUND,
		    body_answer("error", "not found", NULL), NULL, NULL);
	if (strcmp(method, MHD_HTTP_METHOD_GET) == 0 ||
	    strcmp(method, MHD_HTTP_METHOD_HEAD) == 0)
		return httpd_metrics(h, conn);
	if (strcmp(method, MHD_HTTP_METHOD_POST) != 0)
		return httpd_send(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
		    body_answer("error", "method not allowed", NULL),
		    MHD_HTTP_HEADER_ALLOW, "GET, HEAD, POST");
	if (c->token != NULL && !token_bearer_ok(
	    MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_AUTHORIZATION), c->token))
		return httpd_deny(conn);
	if (__atomic_load_n(&h->stopping, __ATOMIC_ACQUIRE))
		return httpd_send(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
		    body_answer("error", "shutting down", c->source),
		    MHD_HTTP_HEADER_CONNECTION, "close");
	v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (v != NULL && strtoull(v, NULL, 10) > c->max_body) {
		snprintf(msg, sizeof(msg), "body larger than %zu bytes",
		    c->max_body);
		return httpd_send(conn, MHD_HTTP_CONTENT_TOO_LARGE,
		    body_answer("error", msg, c->source), NULL, NULL);
	}
	if (!store_up(c->store))
		return httpd_unavailable(h, conn, "database unavailable");
	if (hc != NULL)
		rq = &hc->rq;
	else if ((rq = calloc(1, sizeof(*rq))) == NULL)
		return MHD_NO;
	rq->h = h;
	rq->conn = conn;
	rq->hc = hc;
	rq->state = RQ_BODY;
	rq->kind = body_kind_of(MHD_lookup_connection_value(conn,
	    MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE));
	rq->len = 0;
	rq->want = v != NULL ? (size_t)strtoull(v, NULL, 10) : 0;
	rq->too_large = false;
	rq->no_memory = false;
	rq->decoded = false;
	__atomic_add_fetch(&h->inflight, 1, __ATOMIC_RELAXED);
	*con_cls = rq;
	return MHD_YES;
}

/* The request is over: keep its buffers for the next, unless large. */
static void
httpd_req_end(struct httpd_req *rq)
{
	if (rq->hc == NULL || rq->cap > HTTPD_BODY_KEEP) {
		free(rq->buf);
		rq->buf = NULL;
		rq->cap = 0;
	}
	body_clear(&rq->body);
	store_group_reset(&rq->group);
	if (rq->hc == NULL) {
		body_free(&rq->body);
		free(rq);
	}
}

static void
httpd_append(struct httpd_req *rq, const char *data, size_t n)
{
	size_t max = rq->h->c->max_body;

	if (rq->too_large || rq->no_memory)
		return;
	if (rq->len + n > max) {
		/* chunked past the limit: drop it, answer 413 at the end */
		rq->too_large = true;
		free(rq->buf);
		rq->buf = NULL;
		rq->len = rq->cap = 0;
		return;
	}
	if (rq->buf == NULL || rq->len + n > rq->cap) {
		size_t cap = rq->cap > 0 ? rq->cap : HTTPD_BODY_START;
		char *nb;

		if (cap < rq->want)
			cap = rq->want;
		while (cap < rq->len + n)
			cap *= 2;
		if (cap > max)
			cap = max;
		if ((nb = realloc(rq->buf, cap)) == NULL) {
			/* not the client's fault: a 503 it may retry */
			rq->no_memory = true;
			free(rq->buf);
			rq->buf = NULL;
			rq->len = rq->cap = 0;
			return;
		}
		rq->buf = nb;
		rq->cap = cap;
	}
	memcpy(rq->buf + rq->len, data, n);
	rq->len += n;
}

/*
 * Resume a suspended request (any thread).  Once resumed, the request may
 * be answered and its connection closed and freed at once: rq is not
 * read after MHD_resume_connection.
 */
static void
httpd_resume(struct httpd_req *rq)
{
	struct httpd *h = rq->h;

	MHD_resume_connection(rq->conn);
	if (h->own_loop)
		httpd_loop_ring(&h->loop);
}

/*
 * The committer's callback (its thread): wake the connection; the loop
 * once, with the last of the groups answered together (all requests:
 * the committer here serves no one else).
 */
static void
httpd_done(struct store_group *g, void *arg)
{
	struct httpd_req *rq = arg;

	if (g->more)
		MHD_resume_connection(rq->conn);
	else
		httpd_resume(rq);
}

/* The loop's hooks (httpd_loop.h): lazy while a transaction is out. */
static bool
httpd_lazy(void *arg)
{
	struct httpd *h = arg;

	return store_busy(h->c->store);
}

/* Requests queued in one pass of the loop go to the committer at once. */
static void
httpd_pass(void *arg, bool begin)
{
	struct httpd *h = arg;

	if (begin)
		store_plug(h->c->store);
	else
		store_unplug(h->c->store);
}

/* The whole body is in: validate it all, then queue it for storing. */
static enum MHD_Result
httpd_body_done(struct httpd_req *rq)
{
	const struct httpd_config *c = rq->h->c;
	char msg[64];
	int rc;

	if (rq->no_memory)
		return httpd_send(rq->conn, MHD_HTTP_SERVICE_UNAVAILABLE,
		    body_answer("error", "out of memory", c->source),
		    MHD_HTTP_HEADER_RETRY_AFTER, "1");
	if (rq->too_large) {
		snprintf(msg, sizeof(msg), "body larger than %zu bytes",
		    c->max_body);
		return httpd_send(rq->conn, MHD_HTTP_CONTENT_TOO_LARGE,
		    body_answer("error", msg, c->source), NULL, NULL);
	}
	if (rq->decoded)
		rc = rq->rc;
	else
		rc = body_decode(rq->buf != NULL ? rq->buf : "", rq->len,
		    rq->kind, &rq->body);
	if (rc == -1) {
		storemetrics_records(0, 0, rq->body.nerrors);
		return httpd_send(rq->conn, MHD_HTTP_BAD_REQUEST,
		    body_answer_invalid(rq->body.errors, rq->body.nerrors,
		    c->source), NULL, NULL);
	}
	if (rq->body.n == 0)
		return httpd_send(rq->conn, MHD_HTTP_OK,
		    body_answer_ok(0, 0, c->source), NULL, NULL);
	rq->group.rows = rq->body.rows;
	rq->group.n = rq->body.n;
	rq->group.atomic = true;
	rq->group.done = httpd_done;
	rq->group.done_arg = rq;
	rq->state = RQ_WAIT;
	httpd_conn_mark(rq->hc, true);
	/* suspended first: the answer may come before this returns */
	MHD_suspend_connection(rq->conn);
	if (store_submit(c->store, &rq->group) == -1) {
		rq->group.status = STORE_UNAVAILABLE;
		httpd_resume(rq);
	}
	return MHD_YES;
}

/* Resumed: the rows are committed, refused, or not stored. */
static enum MHD_Result
httpd_answer(struct httpd_req *rq)
{
	const struct httpd_config *c = rq->h->c;
	struct store_group *g = &rq->group;
	struct body_error *e;
	enum MHD_Result ret;
	size_t i;

	httpd_conn_mark(rq->hc, false);
	switch (g->status) {
	case STORE_DONE:
		storemetrics_records(g->stored, g->duplicates, 0);
		if (g->stored + g->duplicates == 1) {
			storemetrics_status(MHD_HTTP_OK);
			return MHD_queue_response(rq->conn, MHD_HTTP_OK,
			    g->stored == 1 ? rq->h->one_stored :
			    rq->h->one_duplicate);
		}
		return httpd_send(rq->conn, MHD_HTTP_OK,
		    body_answer_ok(g->stored, g->duplicates, c->source), NULL,
		    NULL);
	case STORE_REFUSED:
		storemetrics_records(0, 0, g->nrejects);
		if ((e = calloc(g->nrejects, sizeof(*e))) == NULL)
			return MHD_NO;
		for (i = 0; i < g->nrejects; i++) {
			e[i].index = (long)g->rows[g->rejects[i].row].where;
			why_set(&e[i].reason,
			    "the database refused it: %.200s",
			    g->rejects[i].reason.msg);
		}
		ret = httpd_send(rq->conn, MHD_HTTP_BAD_REQUEST,
		    body_answer_invalid(e, g->nrejects, c->source), NULL,
		    NULL);
		free(e);
		return ret;
	case STORE_QUEUED:
	case STORE_UNAVAILABLE:
		break;
	}
	return httpd_unavailable(rq->h, rq->conn, "database unavailable");
}

static enum MHD_Result
httpd_handler(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	struct httpd_req *rq = *con_cls;

	(void)version;
	if (rq == NULL)
		return httpd_begin(cls, conn, url, method, con_cls);
	if (rq->state == RQ_BODY && *upload_data_size > 0) {
		storemetrics_bytes(*upload_data_size);
		if (rq->len == 0 && !rq->decoded && !rq->too_large &&
		    !rq->no_memory &&
		    *upload_data_size == rq->want) {
			/* all of it at once, as small bodies come: no copy */
			rq->rc = body_decode(upload_data, rq->want, rq->kind,
			    &rq->body);
			rq->decoded = true;
		} else if (!rq->decoded) {
			httpd_append(rq, upload_data, *upload_data_size);
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (rq->state == RQ_BODY)
		return httpd_body_done(rq);
	return httpd_answer(rq);
}

static void
httpd_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct httpd *h = cls;
	struct httpd_req *rq = *con_cls;

	(void)toe;
	httpd_conn_mark(httpd_conn_of(conn), false);
	if (rq == NULL)
		return;
	*con_cls = NULL;
	httpd_req_end(rq);
	if (__atomic_sub_fetch(&h->inflight, 1, __ATOMIC_ACQ_REL) == 0 &&
	    __atomic_load_n(&h->stopping, __ATOMIC_ACQUIRE)) {
		pthread_mutex_lock(&h->lock);
		pthread_cond_broadcast(&h->idle);
		pthread_mutex_unlock(&h->lock);
	}
}

/* Track the connections; count those served, mark those past the limit. */
static void
httpd_connection(void *cls, struct MHD_Connection *conn, void **ctx,
    enum MHD_ConnectionNotificationCode code)
{
	const union MHD_ConnectionInfo *ci;
	struct httpd *h = cls;
	struct httpd_conn *hc = *ctx;

	if (code == MHD_CONNECTION_NOTIFY_CLOSED && h->own_loop)
		httpd_loop_forget(&h->loop, conn);
	pthread_mutex_lock(&h->lock);
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		ci = MHD_get_connection_info(conn,
		    MHD_CONNECTION_INFO_CONNECTION_FD);
		if (ci == NULL || (hc = calloc(1, sizeof(*hc))) == NULL) {
			/* refused at once, so no deadline needed */
			*ctx = &httpd_over;
			goto out_unlock;
		}
		httpd_deadline_add(&h->conns, &hc->dl, ci->connect_fd);
		if (h->served < h->c->max_connections)
			h->served++;
		else
			hc->over = true;
		*ctx = hc;
	} else if (code == MHD_CONNECTION_NOTIFY_CLOSED &&
	    hc != (void *)&httpd_over && hc != NULL) {
		if (!hc->over)
			h->served--;
		httpd_deadline_remove(&h->conns, &hc->dl);
		free(hc->rq.buf);
		body_free(&hc->rq.body);
		free(hc);
		*ctx = NULL;
	}
out_unlock:
	pthread_mutex_unlock(&h->lock);
}

/*
 * Start the daemon: the polling thread ours (h->own_loop) or MHD's, with
 * poll() or epoll.  NULL when it cannot.
 *
 * MHD's threads poll with poll(), unless there may be many connections:
 * every request is suspended while it is committed, and with epoll MHD
 * takes the connection out of its set and puts it back, two system calls
 * a request, more than poll() costs per wake-up for up to about 256 open
 * connections (bench/RESULTS.md); past that, poll()'s cost grows with
 * them and epoll's does not.  "Turbo": read and write before asking.
 */
static struct MHD_Daemon *
httpd_start(struct httpd *h)
{
	const struct httpd_config *c = h->c;
	struct MHD_OptionItem opts[10 + TLS_MHD_OPTS];
	unsigned flags;
	size_t n = 0;

	flags = MHD_USE_TURBO | MHD_USE_ERROR_LOG;
	if (c->tls != NULL && c->tls->cert != NULL)
		flags |= MHD_USE_TLS;
	if (h->own_loop)
		flags |= HTTPD_LOOP_FLAGS;
	else
		flags |= MHD_USE_INTERNAL_POLLING_THREAD |
		    MHD_ALLOW_SUSPEND_RESUME |
		    (c->max_connections <= HTTPD_POLL_MAX ? MHD_USE_POLL :
		    MHD_USE_EPOLL);
	if (c->addr.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/* first, or MHD complains on its own stderr */
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_EXTERNAL_LOGGER,
	    (intptr_t)httpd_log, NULL };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_SOCK_ADDR, 0,
	    (void *)&c->addr };
	if (c->tls != NULL)
		n += tls_mhd_options(c->tls, opts + n);
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_TIMEOUT,
	    (intptr_t)c->timeout, NULL };
	opts[n++] = (struct MHD_OptionItem){
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, HTTPD_CONN_MEMORY, NULL };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_LIMIT,
	    (intptr_t)c->max_connections + HTTPD_REFUSE_SLOTS, NULL };
	if (c->max_per_address > 0)
		opts[n++] = (struct MHD_OptionItem){
		    MHD_OPTION_PER_IP_CONNECTION_LIMIT,
		    (intptr_t)c->max_per_address, NULL };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_NOTIFY_CONNECTION,
	    (intptr_t)httpd_connection, h };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_NOTIFY_COMPLETED,
	    (intptr_t)httpd_completed, h };
	if (c->threads > 1)
		opts[n++] = (struct MHD_OptionItem){
		    MHD_OPTION_THREAD_POOL_SIZE, (intptr_t)c->threads, NULL };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };
	return MHD_start_daemon(flags, 0, NULL, NULL, httpd_handler, h,
	    MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
}

/*
 * Shut down the connections past their deadline (--timeout from their
 * request's start), or, at the stop (stop), every one not waiting for the
 * committer; and say so.
 */
static void
httpd_cut(struct httpd *h, bool stop)
{
	unsigned long n;

	pthread_mutex_lock(&h->lock);
	n = httpd_deadline_sweep(&h->conns, stop ? 0 :
	    (int64_t)h->c->timeout * 1000);
	pthread_mutex_unlock(&h->lock);
	httpd_deadline_say("http", n, stop, h->c->timeout);
}

/* Serve until a signal in stop comes, sweeping every second; the signal. */
static int
httpd_serve(struct httpd *h, const sigset_t *stop)
{
	const struct timespec tick = { 1, 0 };
	int sig;

	while ((sig = sigtimedwait(stop, NULL, &tick)) <= 0) {
		httpd_cut(h, false);
		httpd_log_flush(false);
	}
	return sig;
}

/*
 * After the stop signal: stop accepting, and wait until the requests in
 * flight are answered.  The sweep goes on; HTTPD_STOP_GRACE_MS after the
 * signal it cuts every connection that is not waiting for the committer
 * (a body still arriving: nothing of it is stored, its client may send it
 * again), so a client trickling a body cannot hold the stop off.  Those
 * waiting for the committer get their answer: its database time-outs
 * bound them.
 */
static void
httpd_drain(struct httpd *h)
{
	int64_t grace = clock_mono_ms() + HTTPD_STOP_GRACE_MS;
	struct timespec until;

	__atomic_store_n(&h->stopping, true, __ATOMIC_RELEASE);
	if (h->own_loop)
		/* only the loop may call MHD now */
		httpd_loop_quiesce(&h->loop);
	else
		h->lfd = httpd_quiesce(h->d);
	for (;;) {
		httpd_cut(h, clock_mono_ms() >= grace);
		pthread_mutex_lock(&h->lock);
		if (__atomic_load_n(&h->inflight, __ATOMIC_ACQUIRE) == 0) {
			pthread_mutex_unlock(&h->lock);
			break;
		}
		/* woken by the last one; the time-out to sweep */
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_nsec += 100 * 1000000;
		if (until.tv_nsec >= 1000000000) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&h->idle, &h->lock, &until);
		pthread_mutex_unlock(&h->lock);
	}
}

/* h's lock, and its condition variable on the monotonic clock: 0 or -1. */
static int
httpd_locks_init(struct httpd *h, struct why *why)
{
	pthread_condattr_t ca;
	int rc = -1;

	if (pthread_condattr_init(&ca) != 0)
		return why_set(why, "out of memory");
	if (pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
	    pthread_cond_init(&h->idle, &ca) != 0) {
		why_set(why, "cannot make a condition variable");
		goto out_condattr;
	}
	if (pthread_mutex_init(&h->lock, NULL) != 0) {
		pthread_cond_destroy(&h->idle);
		why_set(why, "cannot make a mutex");
		goto out_condattr;
	}
	rc = 0;
out_condattr:
	pthread_condattr_destroy(&ca);
	return rc;
}

int
httpd_run(const struct httpd_config *c, const sigset_t *stop, struct why *why)
{
	const union MHD_DaemonInfo *info;
	struct httpd h;
	unsigned port = 0;
	char where[NI_MAXHOST + 16];
	int sig = 0, ret = -1;

	memset(&h, 0, sizeof(h));
	h.c = c;
	h.lfd = MHD_INVALID_SOCKET;
	/*
	 * Not with TLS: GnuTLS may hold records already read from a socket
	 * that epoll then never reports; MHD's own threads know of them.
	 */
	h.own_loop = c->threads <= 1 &&
	    c->max_connections <= HTTPD_POLL_MAX &&
	    (c->tls == NULL || c->tls->cert == NULL);
	if (httpd_locks_init(&h, why) == -1)
		return -1;
	if ((h.one_stored = httpd_json(body_answer_ok(1, 0,
	    c->source))) == NULL || (h.one_duplicate = httpd_json(
	    body_answer_ok(0, 1, c->source))) == NULL) {
		why_set(why, "out of memory");
		goto out_destroy;
	}
	if (h.own_loop && httpd_loop_open(&h.loop, why) == -1)
		goto out_destroy;
	h.loop.lazy = httpd_lazy;
	h.loop.pass = httpd_pass;
	h.loop.arg = &h;
	if ((h.d = httpd_start(&h)) == NULL) {
		httpd_listen_failed(&c->addr, c->addrlen, why);
		goto out_close_loop;
	}
	if ((info = MHD_get_daemon_info(h.d,
	    MHD_DAEMON_INFO_BIND_PORT)) != NULL)
		port = info->port;
	httpd_describe(&c->addr, port, where, sizeof(where));
	if (c->port_file != NULL && httpd_write_port(c->port_file, port,
	    why) == -1)
		goto out_stop_daemon;
	h.loop.limit = c->max_connections + HTTPD_REFUSE_SLOTS;
	if (h.own_loop && httpd_loop_start(&h.loop, h.d, why) == -1)
		goto out_unlink;
	warnx("listening on %s://%s/metrics as \"%s\"",
	    c->tls != NULL && c->tls->cert != NULL ? "https" : "http", where,
	    c->source);
	sig = httpd_serve(&h, stop);
	/* stop accepting; answer what is in flight, then stop */
	httpd_drain(&h);
	if (h.own_loop)
		httpd_loop_stop(&h.loop);
	httpd_log_flush(true);
	ret = 0;
out_unlink:
	if (c->port_file != NULL)
		unlink(c->port_file);
out_stop_daemon:
	MHD_stop_daemon(h.d);
	if (h.lfd != MHD_INVALID_SOCKET)
		close(h.lfd);
out_close_loop:
	if (h.own_loop)
		httpd_loop_close(&h.loop);
out_destroy:
	if (h.one_stored != NULL)
		MHD_destroy_response(h.one_stored);
	if (h.one_duplicate != NULL)
		MHD_destroy_response(h.one_duplicate);
	pthread_cond_destroy(&h.idle);
	pthread_mutex_destroy(&h.lock);
	if (ret == 0)
		warnx("stopped on signal %d", sig);
	return ret;
}
