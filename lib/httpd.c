#include <ctype.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "clock.h"
#include "body.h"
#include "cli.h"
#include "httpd_impl.h"

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
#define HTTPD_POLL_MAX 256	/* --max-connections served with poll() */
/* httpd_loop's events at once: every connection, the listener, the bell */
#define HTTPD_EVENTS (HTTPD_POLL_MAX + HTTPD_REFUSE_SLOTS + 2)
/* passes a socket is said to be writable without asking (httpd_loop) */
#define HTTPD_GUESSES 3

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
 * Every open connection, for the deadline sweep: MHD closes a connection
 * only when it falls silent, so a client that trickles a byte now and
 * then would keep its slot for ever.  The main thread looks at the list
 * every second and shuts down the socket of a connection whose request
 * has not arrived whole within --timeout of its start.
 */
struct httpd_conn {
	struct httpd_conn *prev, *next;
	MHD_socket fd;
	/* atomic: set by the polling thread, read by the sweep */
	int64_t since_ms;	/* opened, or its last answer went out */
	bool busy;		/* request in: storing or answering */
	bool over;		/* past --max-connections: gets a 503 */
	bool cut;		/* shut down by the sweep */
	struct httpd_req rq;
};

struct httpd {
	const struct httpd_config *c;
	pthread_mutex_t lock;
	pthread_cond_t idle;
	unsigned inflight;	/* atomic: POST requests not completed */
	unsigned served;	/* open connections within max_connections */
	int stopping;		/* SIGTERM came: refuse new requests */
	struct httpd_conn *conns;	/* under lock */
	unsigned long cut;	/* connections the sweep shut down */
	/* the answers to one record, stored or a duplicate: made once */
	struct MHD_Response *one_stored, *one_duplicate;
	/*
	 * With one polling thread of its own (httpd_loop) rather than MHD's:
	 * MHD's daemon, and the doorbell (an eventfd, else -1) that the
	 * committer rings once for the whole group it answered, where MHD's
	 * thread costs one wake-up write for every request resumed.
	 */
	struct MHD_Daemon *d;
	pthread_t loop;
	int bell;
	bool rung;		/* atomic: the bell rang, the loop not yet up */
	bool quit;		/* atomic: the loop is to stop */
	MHD_socket lfd;		/* the listening socket, after quiescing */
	/*
	 * The loop's epoll set (else -1) and, for each of MHD's sockets, the
	 * events it holds for it (EPOLLIN, EPOLLOUT; 0: not in it): only the
	 * loop's thread reads and writes them (see httpd_loop).
	 */
	int ep;
	uint8_t polled[FD_SETSIZE];
	uint8_t guessed[FD_SETSIZE];	/* passes told writable unasked */
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
	if (hc == NULL)
		return;
	if (!busy)
		__atomic_store_n(&hc->since_ms, clock_mono_ms(),
		    __ATOMIC_RELAXED);
	__atomic_store_n(&hc->busy, busy, __ATOMIC_RELEASE);
}

/*
 * Shut down the connections past their deadline.  Under the lock their
 * sockets are still open: MHD tells httpd_connection before it closes one.
 */
static void
httpd_sweep(struct httpd *h)
{
	struct httpd_conn *hc;
	int64_t now = clock_mono_ms();
	unsigned long n = 0;

	pthread_mutex_lock(&h->lock);
	for (hc = h->conns; hc != NULL; hc = hc->next) {
		if (__atomic_load_n(&hc->busy, __ATOMIC_ACQUIRE) || hc->cut ||
		    now - __atomic_load_n(&hc->since_ms, __ATOMIC_RELAXED) <
		    (int64_t)h->c->timeout * 1000)
			continue;
		shutdown(hc->fd, SHUT_RDWR);
		hc->cut = true;
		n++;
	}
	h->cut += n;
	pthread_mutex_unlock(&h->lock);
	if (n > 0)
		warnx("http: closed %lu connection%s whose request took more "
		    "than %u s", n, n == 1 ? "" : "s", h->c->timeout);
}

int
httpd_parse_listen(const char *spec, struct sockaddr_storage *addr,
    socklen_t *addrlen, struct why *why)
{
	struct addrinfo hints, *res;
	char host[256] = "127.0.0.1";
	const char *port = spec, *colon;
	size_t i;
	int rc;

	if (spec[0] == '[') {
		const char *end = strchr(spec, ']');

		if (end == NULL || end[1] != ':' ||
		    (size_t)(end - spec) - 1 >= sizeof(host))
			return why_set(why, "want [IPv6]:PORT");
		memcpy(host, spec + 1, (size_t)(end - spec) - 1);
		host[end - spec - 1] = '\0';
		port = end + 2;
	} else if ((colon = strrchr(spec, ':')) != NULL) {
		if ((size_t)(colon - spec) >= sizeof(host))
			return why_set(why, "address too long");
		memcpy(host, spec, (size_t)(colon - spec));
		host[colon - spec] = '\0';
		if (strchr(host, ':') != NULL)
			return why_set(why, "an IPv6 address goes in "
			    "brackets: [ADDR]:PORT");
		if (strcmp(host, "*") == 0 || host[0] == '\0')
			strcpy(host, "0.0.0.0");
		port = colon + 1;
	}
	if (port[0] == '\0' || strlen(port) > 5)
		return why_set(why, "want [ADDR:]PORT");
	for (i = 0; port[i] != '\0'; i++)
		if (!isdigit((unsigned char)port[i]))
			return why_set(why, "port \"%s\" is not a number",
			    port);
	if (atoi(port) > 65535)
		return why_set(why, "port %s out of range", port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0)
		return why_set(why, "%s: %s", host, gai_strerror(rc));
	memcpy(addr, res->ai_addr, res->ai_addrlen);
	*addrlen = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

int
httpd_opt_listen(const char *arg, struct sockaddr_storage *addr,
    socklen_t *addrlen)
{
	struct why why;

	if (httpd_parse_listen(arg, addr, addrlen, &why) == 0)
		return 0;
	warnx("--listen: \"%s\": %s", arg, why.msg);
	return -1;
}

int
httpd_opt_max_connections(const char *arg, long long *out)
{
	if (cli_parse_count(arg, 1, HTTPD_MAX_CONNECTIONS_MAX, out) == 0)
		return 0;
	warnx("--max-connections: \"%s\": want 1 to %d", arg,
	    HTTPD_MAX_CONNECTIONS_MAX);
	return -1;
}

void
httpd_block_stop(sigset_t *stop)
{
	cli_stop_signals(stop);
	pthread_sigmask(SIG_BLOCK, stop, NULL);
}

bool
httpd_token_check(const char *header, const char *token)
{
	size_t tlen = strlen(token), glen, i;
	volatile unsigned char d;
	const char *given;

	if (header == NULL || strncasecmp(header, "Bearer ", 7) != 0)
		return false;
	for (given = header + 7; *given == ' '; given++)
		;
	glen = strlen(given);
	while (glen > 0 && given[glen - 1] == ' ')
		glen--;
	/* every byte of the token is compared, whatever differs first */
	d = glen != tlen;
	for (i = 0; i < tlen; i++)
		d |= (unsigned char)token[i] ^
		    (unsigned char)(i < glen ? given[i] : 0);
	return d == 0;
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

/* The headers are in: route, authenticate, check the announced size. */
static enum MHD_Result
httpd_begin(struct httpd *h, struct MHD_Connection *conn, const char *url,
    const char *method, void **con_cls)
{
	const struct httpd_config *c = h->c;
	const union MHD_ConnectionInfo *ci;
	struct httpd_conn *hc;
	struct httpd_req *rq;
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
	if (strcmp(url, "/metrics") != 0)
		return httpd_send(conn, MHD_HTTP_NOT_FOUND,
		    body_answer("error", "not found", NULL), NULL, NULL);
	if (strcmp(method, MHD_HTTP_METHOD_POST) != 0)
		return httpd_send(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
		    body_answer("error", "method not allowed", NULL),
		    MHD_HTTP_HEADER_ALLOW, "POST");
	if (c->token != NULL && !httpd_token_check(
	    MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_AUTHORIZATION), c->token))
		return httpd_send(conn, MHD_HTTP_UNAUTHORIZED,
		    body_answer("error", "unauthorized", NULL),
		    MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"sm\"");
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
 * Wake the loop (httpd_loop), unless it was woken since it last looked:
 * one system call for the many connections the committer resumes at once.
 * After MHD_resume_connection: the loop clears rung before it lets MHD
 * run, so either that run sees the connection, or this rings again.
 */
static void
httpd_ring(struct httpd *h)
{
	uint64_t one = 1;

	if (h->bell == -1 || __atomic_exchange_n(&h->rung, true,
	    __ATOMIC_SEQ_CST))
		return;
	/* a full counter still wakes the loop */
	if (write(h->bell, &one, sizeof(one)) == -1 && errno != EAGAIN)
		warn("http: eventfd");
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
	httpd_ring(h);
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
	if (rc == -1)
		return httpd_send(rq->conn, MHD_HTTP_BAD_REQUEST,
		    body_answer_invalid(rq->body.errors, rq->body.nerrors,
		    c->source), NULL, NULL);
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
		if (g->stored + g->duplicates == 1)
			return MHD_queue_response(rq->conn, MHD_HTTP_OK,
			    g->stored == 1 ? rq->h->one_stored :
			    rq->h->one_duplicate);
		return httpd_send(rq->conn, MHD_HTTP_OK,
		    body_answer_ok(g->stored, g->duplicates, c->source), NULL,
		    NULL);
	case STORE_REFUSED:
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

/*
 * MHD is about to close a connection's socket, which leaves the loop's
 * epoll set with it (nothing else holds it: no fork, close-on-exec); the
 * next socket accepted may get its number, and is to be added afresh.
 * Called where MHD closes connections: in external mode the loop's
 * thread, or the main thread's MHD_stop_daemon once the loop is over.
 */
static void
httpd_unpoll(struct httpd *h, struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci;

	if (h->ep == -1)
		return;
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (ci != NULL && ci->connect_fd >= 0 &&
	    ci->connect_fd < FD_SETSIZE) {
		h->polled[ci->connect_fd] = 0;
		h->guessed[ci->connect_fd] = 0;
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

	if (code == MHD_CONNECTION_NOTIFY_CLOSED)
		httpd_unpoll(h, conn);
	pthread_mutex_lock(&h->lock);
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		ci = MHD_get_connection_info(conn,
		    MHD_CONNECTION_INFO_CONNECTION_FD);
		if (ci == NULL || (hc = calloc(1, sizeof(*hc))) == NULL) {
			/* refused at once, so no deadline needed */
			*ctx = &httpd_over;
			goto out_unlock;
		}
		hc->fd = ci->connect_fd;
		hc->since_ms = clock_mono_ms();
		if (h->served < h->c->max_connections)
			h->served++;
		else
			hc->over = true;
		hc->next = h->conns;
		if (h->conns != NULL)
			h->conns->prev = hc;
		h->conns = hc;
		*ctx = hc;
	} else if (code == MHD_CONNECTION_NOTIFY_CLOSED &&
	    hc != (void *)&httpd_over && hc != NULL) {
		if (!hc->over)
			h->served--;
		if (hc->prev != NULL)
			hc->prev->next = hc->next;
		else
			h->conns = hc->next;
		if (hc->next != NULL)
			hc->next->prev = hc->prev;
		free(hc->rq.buf);
		body_free(&hc->rq.body);
		free(hc);
		*ctx = NULL;
	}
out_unlock:
	pthread_mutex_unlock(&h->lock);
}

void
httpd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[512];
	size_t len;

	(void)cls;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	len = strlen(buf);
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		buf[--len] = '\0';
	warnx("http: %s", buf);
}

int
httpd_write_port(const char *path, unsigned port, struct why *why)
{
	char tmp[4096];
	FILE *f;

	if (snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path,
	    (long)getpid()) >= (int)sizeof(tmp))
		return why_set(why, "%s: name too long", path);
	if ((f = fopen(tmp, "w")) == NULL)
		return why_set(why, "%s: %s", tmp, strerror(errno));
	fprintf(f, "%u\n", port);
	if (fclose(f) == EOF) {
		unlink(tmp);
		return why_set(why, "%s: %s", tmp, strerror(errno));
	}
	/* all at once: a reader never sees half a number */
	if (rename(tmp, path) == -1) {
		unlink(tmp);
		return why_set(why, "%s: %s", path, strerror(errno));
	}
	return 0;
}

void
httpd_describe(const struct sockaddr_storage *ss, unsigned port, char *buf,
    size_t size)
{
	char host[NI_MAXHOST];

	if (getnameinfo((const struct sockaddr *)ss, sizeof(*ss), host,
	    sizeof(host), NULL, 0, NI_NUMERICHOST) != 0)
		strcpy(host, "?");
	snprintf(buf, size, ss->ss_family == AF_INET6 ? "[%s]:%u" : "%s:%u",
	    host, port);
}

/*
 * Refuse new connections now (MHD wants the listening socket open until
 * it stops): one accepted by the kernel but never by MHD would be reset
 * after its request was sent, where a refusal says nothing was.  From the
 * thread that polls MHD.
 */
static void
httpd_quiesce(struct httpd *h)
{
	h->lfd = MHD_quiesce_daemon(h->d);
	if (h->lfd != MHD_INVALID_SOCKET)
		shutdown(h->lfd, SHUT_RDWR);
}

/* The loop's epoll set, with the doorbell in it for good. */
static int
httpd_poll_open(struct httpd *h, struct why *why)
{
	struct epoll_event e;

	if ((h->ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		return why_set(why, "epoll_create1: %s", strerror(errno));
	memset(&e, 0, sizeof(e));
	e.events = EPOLLIN;
	e.data.fd = h->bell;
	if (epoll_ctl(h->ep, EPOLL_CTL_ADD, h->bell, &e) == -1)
		return why_set(why, "epoll_ctl: %s", strerror(errno));
	return 0;
}

/*
 * Make the loop's epoll set hold events ev (EPOLLIN, EPOLLOUT, 0: none)
 * for fd.  Should polled[] be wrong (it should not), epoll_ctl says so and
 * the other operation makes it right; a socket already closed is no
 * longer in the set.
 */
static void
httpd_poll_set(struct httpd *h, int fd, uint32_t ev)
{
	struct epoll_event e;
	int op;

	if (ev == h->polled[fd])
		return;
	memset(&e, 0, sizeof(e));
	e.events = ev;
	e.data.fd = fd;
	op = ev == 0 ? EPOLL_CTL_DEL : h->polled[fd] == 0 ? EPOLL_CTL_ADD :
	    EPOLL_CTL_MOD;
	if (epoll_ctl(h->ep, op, fd, &e) == -1) {
		if (errno == EEXIST)
			op = EPOLL_CTL_MOD;
		else if (errno == ENOENT && op == EPOLL_CTL_MOD)
			op = EPOLL_CTL_ADD;
		else
			op = -1;
		if (errno == EBADF || (errno == ENOENT && ev == 0))
			ev = 0;
		else if (op == -1 || epoll_ctl(h->ep, op, fd, &e) == -1) {
			warn("http: epoll_ctl");
			ev = 0;
		}
	}
	h->polled[fd] = (uint8_t)ev;
}

/*
 * The polling thread when MHD has none of its own: wait for MHD's sockets
 * and the doorbell, then let MHD handle what is ready.  When the main
 * thread says so (stopping), stop accepting; when it says quit, end.
 *
 * MHD hands out the sockets it wants as fd_sets, every time; select()
 * would have the kernel look at each of them on every wake-up.  Here each
 * socket is added to an epoll set once, when MHD first wants it, with
 * EPOLLIN (EPOLLOUT too while MHD wants to write), and stays: a request
 * suspended while it is committed leaves MHD's sets but not ours, as its
 * client is silent until answered.  A socket reported that MHD does not
 * want at the moment (one suspended whose client went away, the listener
 * at the connection limit, EPOLLOUT no longer wanted) loses the event
 * then, or level-triggered it would wake the loop for ever; MHD wanting
 * it again adds it again.
 *
 * A socket MHD wants to write to is said writable without asking, for
 * HTTPD_GUESSES passes: MHD wants a resumed request's socket writable for
 * two (it sends the answer, then ends the request), and a send buffer
 * all but always has room for an answer of a few hundred bytes (were it
 * full, MHD's send would just say so).  Only a socket MHD still wants to
 * write to after that (a large answer, a client that does not read) is
 * added for EPOLLOUT.  So a keep-alive request costs no epoll_ctl, and no
 * more waits than select() did.
 *
 * MHD's exception set is not asked of epoll: on Linux select() reports
 * there urgent data only; errors make the socket readable and writable,
 * which is how MHD is told of them.
 */
static void *
httpd_loop(void *arg)
{
	struct httpd *h = arg;
	struct epoll_event ev[HTTPD_EVENTS];
	MHD_UNSIGNED_LONG_LONG ms;
	bool quiesced = false;
	uint64_t v;

	for (;;) {
		fd_set want_r, want_w, rs, ws, es;
		MHD_socket max = 0;
		int fd, i, n, timeout = 1000;
		uint32_t e, keep;
		bool r, w;

		if (__atomic_load_n(&h->quit, __ATOMIC_ACQUIRE))
			break;
		if (!quiesced && __atomic_load_n(&h->stopping,
		    __ATOMIC_ACQUIRE)) {
			httpd_quiesce(h);
			quiesced = true;
			/* shut down: it would be readable for ever */
			if (h->lfd != MHD_INVALID_SOCKET &&
			    h->lfd < FD_SETSIZE)
				httpd_poll_set(h, h->lfd, 0);
		}
		FD_ZERO(&want_r);
		FD_ZERO(&want_w);
		FD_ZERO(&es);
		if (MHD_get_fdset2(h->d, &want_r, &want_w, &es, &max,
		    FD_SETSIZE) != MHD_YES) {
			/* not expected: MHD refuses sockets past FD_SETSIZE */
			warnx("http: cannot poll the connections");
			FD_ZERO(&want_r);
			FD_ZERO(&want_w);
			max = 0;
		}
		if (MHD_get_timeout(h->d, &ms) == MHD_YES && ms < 1000)
			timeout = (int)ms;
		FD_ZERO(&rs);
		FD_ZERO(&ws);
		for (fd = 0; fd <= max; fd++) {
			r = FD_ISSET(fd, &want_r);
			w = FD_ISSET(fd, &want_w);
			e = r ? EPOLLIN : 0;
			if (!w) {
				h->guessed[fd] = 0;
			} else if (h->guessed[fd] >= HTTPD_GUESSES) {
				e |= EPOLLOUT;	/* still to write: ask */
			} else if ((h->polled[fd] & EPOLLOUT) == 0) {
				h->guessed[fd]++;
				FD_SET(fd, &ws);
				timeout = 0;
			}
			if ((e & ~(uint32_t)h->polled[fd]) != 0)
				httpd_poll_set(h, fd, h->polled[fd] | e);
		}
		if ((n = epoll_wait(h->ep, ev, HTTPD_EVENTS, timeout)) == -1) {
			if (errno != EINTR)
				warn("http: epoll_wait");
			continue;
		}
		FD_ZERO(&es);
		for (i = 0; i < n; i++) {
			fd = ev[i].data.fd;
			e = ev[i].events;
			if (fd == h->bell) {
				if (read(h->bell, &v, sizeof(v)) == -1 &&
				    errno != EAGAIN)
					warn("http: eventfd");
				/* before MHD runs: see httpd_ring */
				__atomic_store_n(&h->rung, false,
				    __ATOMIC_SEQ_CST);
				continue;
			}
			if (fd < 0 || fd >= FD_SETSIZE)
				continue;
			r = FD_ISSET(fd, &want_r);
			w = FD_ISSET(fd, &want_w);
			if (r && (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP |
			    EPOLLERR)) != 0)
				FD_SET(fd, &rs);
			if (w && (e & (EPOLLOUT | EPOLLHUP | EPOLLERR)) != 0)
				FD_SET(fd, &ws);
			/*
			 * What fired unwanted goes, errors with the rest; but
			 * not the next request come while MHD still writes:
			 * it does not spin the loop while MHD can write.
			 */
			keep = h->polled[fd];
			if (!r && !FD_ISSET(fd, &ws) &&
			    (e & (EPOLLIN | EPOLLRDHUP)) != 0)
				keep &= ~(uint32_t)EPOLLIN;
			if (!w && (e & EPOLLOUT) != 0)
				keep &= ~(uint32_t)EPOLLOUT;
			if (!r && !w)
				keep = 0;
			httpd_poll_set(h, fd, keep);
		}
		MHD_run_from_select(h->d, &rs, &ws, &es);
	}
	return NULL;
}

int
httpd_run(const struct httpd_config *c, const sigset_t *stop, struct why *why)
{
	struct MHD_OptionItem opts[10];
	const union MHD_DaemonInfo *info;
	struct MHD_Daemon *d;
	struct httpd h;
	unsigned flags, port = 0;
	size_t n = 0;
	char where[NI_MAXHOST + 16];
	const struct timespec tick = { 1, 0 };
	sigset_t all, old;
	bool own_loop;
	int sig, rc, ret = -1;

	memset(&h, 0, sizeof(h));
	h.c = c;
	h.bell = -1;
	h.ep = -1;
	h.lfd = MHD_INVALID_SOCKET;
	pthread_mutex_init(&h.lock, NULL);
	pthread_cond_init(&h.idle, NULL);
	if ((h.one_stored = httpd_json(body_answer_ok(1, 0,
	    c->source))) == NULL || (h.one_duplicate = httpd_json(
	    body_answer_ok(0, 1, c->source))) == NULL) {
		why_set(why, "out of memory");
		goto out_destroy;
	}
	/*
	 * poll(), unless there may be many connections: every request is
	 * suspended while it is committed, and with epoll MHD takes the
	 * connection out of its set and puts it back, two system calls a
	 * request, more than poll() costs per wake-up for up to about 256
	 * open connections (bench/RESULTS.md); past that, poll()'s cost grows
	 * with them and epoll's does not.  "Turbo": read and write before
	 * asking.
	 *
	 * With one thread and few connections, the polling thread is ours
	 * (httpd_loop, epoll without a system call a request): MHD's own
	 * resumes every connection with a write to wake itself, one system
	 * call a request, where ours is woken once for all the answers of a
	 * group commit.
	 */
	own_loop = c->threads <= 1 && c->max_connections <= HTTPD_POLL_MAX;
	flags = MHD_USE_TURBO | MHD_USE_ERROR_LOG;
	if (own_loop) {
		/* suspend and resume without MHD's wake-up channel */
		flags |= MHD_ALLOW_SUSPEND_RESUME & ~MHD_USE_ITC;
		if ((h.bell = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1) {
			why_set(why, "eventfd: %s", strerror(errno));
			goto out_destroy;
		}
		if (httpd_poll_open(&h, why) == -1)
			goto out_destroy;
	} else {
		flags |= MHD_USE_INTERNAL_POLLING_THREAD |
		    MHD_ALLOW_SUSPEND_RESUME;
		flags |= c->max_connections <= HTTPD_POLL_MAX ? MHD_USE_POLL :
		    MHD_USE_EPOLL;
	}
	if (c->addr.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/* first, or MHD complains on its own stderr */
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_EXTERNAL_LOGGER,
	    (intptr_t)httpd_log, NULL };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_SOCK_ADDR, 0,
	    (void *)&c->addr };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_TIMEOUT,
	    (intptr_t)c->timeout, NULL };
	opts[n++] = (struct MHD_OptionItem){
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, HTTPD_CONN_MEMORY, NULL };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_LIMIT,
	    (intptr_t)c->max_connections + HTTPD_REFUSE_SLOTS, NULL };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_NOTIFY_CONNECTION,
	    (intptr_t)httpd_connection, &h };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_NOTIFY_COMPLETED,
	    (intptr_t)httpd_completed, &h };
	if (c->threads > 1)
		opts[n++] = (struct MHD_OptionItem){
		    MHD_OPTION_THREAD_POOL_SIZE, (intptr_t)c->threads, NULL };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };
	d = MHD_start_daemon(flags, 0, NULL, NULL, httpd_handler, &h,
	    MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
	if (d == NULL) {
		why_set(why, "cannot listen (address in use?)");
		goto out_destroy;
	}
	if ((info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)) != NULL)
		port = info->port;
	httpd_describe(&c->addr, port, where, sizeof(where));
	if (c->port_file != NULL && httpd_write_port(c->port_file, port,
	    why) == -1) {
		MHD_stop_daemon(d);
		goto out_destroy;
	}
	h.d = d;
	if (own_loop) {
		/* signals are for the main thread */
		sigfillset(&all);
		pthread_sigmask(SIG_BLOCK, &all, &old);
		rc = pthread_create(&h.loop, NULL, httpd_loop, &h);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		if (rc != 0) {
			why_set(why, "pthread_create: %s", strerror(rc));
			MHD_stop_daemon(d);
			if (c->port_file != NULL)
				unlink(c->port_file);
			goto out_destroy;
		}
	}
	warnx("listening on http://%s/metrics as \"%s\"", where, c->source);

	for (;;) {
		if ((sig = sigtimedwait(stop, NULL, &tick)) > 0)
			break;
		httpd_sweep(&h);
	}
	/* stop accepting; answer what is in flight, then stop */
	__atomic_store_n(&h.stopping, 1, __ATOMIC_RELEASE);
	if (own_loop) {
		/* the loop quiesces MHD (only it may call MHD now) */
		httpd_ring(&h);
	} else {
		httpd_quiesce(&h);
	}
	pthread_mutex_lock(&h.lock);
	while (__atomic_load_n(&h.inflight, __ATOMIC_ACQUIRE) > 0) {
		struct timespec until;

		/* woken by the last one; the time-out only in case */
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 100 * 1000000;
		if (until.tv_nsec >= 1000000000) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&h.idle, &h.lock, &until);
	}
	pthread_mutex_unlock(&h.lock);
	if (own_loop) {
		__atomic_store_n(&h.quit, true, __ATOMIC_RELEASE);
		__atomic_store_n(&h.rung, false, __ATOMIC_SEQ_CST);
		httpd_ring(&h);
		pthread_join(h.loop, NULL);
	}
	MHD_stop_daemon(d);
	if (h.lfd != MHD_INVALID_SOCKET)
		close(h.lfd);
	if (c->port_file != NULL)
		unlink(c->port_file);
	warnx("stopped on signal %d", sig);
	ret = 0;
out_destroy:
	if (h.ep != -1)
		close(h.ep);
	if (h.bell != -1)
		close(h.bell);
	if (h.one_stored != NULL)
		MHD_destroy_response(h.one_stored);
	if (h.one_duplicate != NULL)
		MHD_destroy_response(h.one_duplicate);
	pthread_cond_destroy(&h.idle);
	pthread_mutex_destroy(&h.lock);
	return ret;
}
