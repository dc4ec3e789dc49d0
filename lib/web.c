/*
 * sm-tail --listen's HTTP side: the server (libmicrohttpd, its
 * connections and their deadlines), the event streams over lib/feed, the
 * page's files, the follower thread and alerts on its rows (web.h); the
 * JSON endpoints are in webapi.c.
 */
#include <ctype.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "clock.h"
#include "cli.h"
#include "exitcode.h"
#include "feed.h"
#include "followrun.h"
#include "httpd_epoll.h"
#include "httpd_deadline.h"
#include "record.h"
#include "schema.h"
#include "timefmt.h"
#include "alert.h"
#include "alertstore.h"
#include "web.h"
#include "webhist.h"
#include "webpage.h"
#include "when.h"

#include "web_impl.h"

/* An alert fired or resolved (under lock): an event for every stream. */
static void
web_alert(const struct alert_event *ev, void *arg)
{
	struct web *w = arg;
	char line[ALERT_EVENT_MAX];
	int n;

	if ((n = alert_event_format(ev, line, sizeof(line))) <= 0 ||
	    feed_add_alert(&w->feed, line, (size_t)n - 1) == -1)
		warnx("alert %s on %s: cannot pass it on", ev->rule, ev->host);
	else
		w->added++;
	if (w->store != NULL)
		alertstore_put(w->store, ev);
}

/*
 * A connection's socket: its place on the deadline list (its fd), its
 * client once it streams events.
 */
struct web_sock {
	struct httpd_deadline dl;
	struct feed_client *client;	/* under lock */
};

/* The socket of conn, or NULL (not tracked: out of memory). */
static struct web_sock *
web_sock_of(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci;

	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci != NULL ? ci->socket_context : NULL;
}

/*
 * Parse /events, /rows query values.  The count in s within 0..max;
 * 0, or -1.
 */
int
web_parse_count(const char *s, size_t max, size_t *out)
{
	long long v;

	if (cli_parse_count(s, 0, (long long)max, &v) == -1)
		return -1;
	*out = (size_t)v;
	return 0;
}

/* Queue body (taken; NULL: out of memory) as the answer. */
enum MHD_Result
web_send(struct MHD_Connection *conn, unsigned code, const char *type,
    char *body, size_t len)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (body == NULL) {
		if ((body = strdup("{\"error\":\"out of memory\"}")) == NULL)
			return MHD_NO;
		len = strlen(body);
		code = MHD_HTTP_INTERNAL_SERVER_ERROR;
		type = "application/json";
	}
	if ((r = MHD_create_response_from_buffer(len, body,
	    MHD_RESPMEM_MUST_FREE)) == NULL) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	ret = MHD_queue_response(conn, code, r);
	MHD_destroy_response(r);
	return ret;
}

enum MHD_Result
web_json(struct MHD_Connection *conn, unsigned code, char *json)
{
	return web_send(conn, code, "application/json", json,
	    json != NULL ? strlen(json) : 0);
}

/* {"error": why}: a 4xx or 5xx answer. */
enum MHD_Result
web_error(struct MHD_Connection *conn, unsigned code, const char *fmt, ...)
{
	struct json_object *o;
	char why[512], *json = NULL;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if ((o = json_object_new_object()) != NULL) {
		json_object_object_add(o, "error", json_object_new_string(why));
		json = strdup(json_object_to_json_string_ext(o,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
	}
	return web_json(conn, code, json);
}

/*
 * The query of a request, checked: only the names in allowed, each at
 * most once, no NUL byte (%00) in a name or value (MHD would cut the
 * value there: "5%00x" would read as "5").
 */
struct web_args {
	const char *allowed;	/* " n host source " */
	char bad[128];		/* the first unknown name */
	char why[128];		/* or what else is wrong */
	char seen[128];		/* " n host ": the names given */
};

static enum MHD_Result
web_arg_check(void *cls, enum MHD_ValueKind kind, const char *key,
    size_t key_size, const char *value, size_t value_size)
{
	struct web_args *a = cls;
	char pat[80];
	size_t len;

	(void)kind;
	if (strlen(key) != key_size) {
		snprintf(a->why, sizeof(a->why), "a query parameter's name "
		    "holds a NUL byte (%%00)");
		return MHD_NO;
	}
	snprintf(pat, sizeof(pat), " %.64s ", key);
	if (key_size > 64 || strstr(a->allowed, pat) == NULL) {
		snprintf(a->bad, sizeof(a->bad), "%.64s", key);
		return MHD_NO;
	}
	if (value != NULL && strlen(value) != value_size) {
		snprintf(a->why, sizeof(a->why), "%s: holds a NUL byte (%%00)",
		    key);
		return MHD_NO;
	}
	if (strstr(a->seen, pat) != NULL) {
		snprintf(a->why, sizeof(a->why), "%s: given more than once",
		    key);
		return MHD_NO;
	}
	/* the names allowed are short and few: room for them all */
	len = strlen(a->seen);
	snprintf(a->seen + len, sizeof(a->seen) - len, "%s",
	    len == 0 ? pat : pat + 1);
	return MHD_YES;
}

/* The query checked (web_args): 0, or -1 with the 400 queued in *ret. */
int
web_args_check(struct MHD_Connection *conn, const char *allowed,
    enum MHD_Result *ret)
{
	struct web_args a = { .allowed = allowed };

	MHD_get_connection_values_n(conn, MHD_GET_ARGUMENT_KIND,
	    web_arg_check, &a);
	if (a.why[0] != '\0')
		*ret = web_error(conn, MHD_HTTP_BAD_REQUEST, "%s", a.why);
	else if (a.bad[0] != '\0' && strcmp(allowed, " ") == 0)
		*ret = web_error(conn, MHD_HTTP_BAD_REQUEST, "unknown query "
		    "parameter \"%s\"; this takes none", a.bad);
	else if (a.bad[0] != '\0')
		*ret = web_error(conn, MHD_HTTP_BAD_REQUEST, "unknown query "
		    "parameter \"%s\"; want one of:%s", a.bad, allowed);
	else
		return 0;
	return -1;
}

/* The value of query name, or NULL. */
const char *
web_arg(struct MHD_Connection *conn, const char *name)
{
	return MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, name);
}

/*
 * The filters every listing takes: host and source (names), n (rows).
 * 0, or -1 with the 400 answer queued in *ret.
 */
int
web_filters(struct web *w, struct MHD_Connection *conn, const char *allowed,
    const char **host, const char **source, size_t *n, enum MHD_Result *ret)
{
	const char *v;

	if (web_args_check(conn, allowed, ret) == -1)
		return -1;
	*host = web_arg(conn, "host");
	*source = web_arg(conn, "source");
	if (*host != NULL && !cli_name_ok(*host, RECORD_HOST_MAX)) {
		*ret = web_error(conn, MHD_HTTP_BAD_REQUEST, "host: want 1 to "
		    "%d printable bytes", RECORD_HOST_MAX);
		return -1;
	}
	if (*source != NULL && !cli_name_ok(*source, SCHEMA_SOURCE_MAX)) {
		*ret = web_error(conn, MHD_HTTP_BAD_REQUEST, "source: want 1 "
		    "to %d printable bytes", SCHEMA_SOURCE_MAX);
		return -1;
	}
	if ((v = web_arg(conn, "n")) != NULL && web_parse_count(v,
	    w->feed.cap, n) == -1) {
		*ret = web_error(conn, MHD_HTTP_BAD_REQUEST, "n: \"%.64s\": "
		    "want a count of rows from 0 to %zu (--backlog)", v,
		    w->feed.cap);
		return -1;
	}
	return 0;
}

/*
 * A request ended: the next one's deadline starts; a /history job left
 * when its client went away.
 */
static void
web_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct webhist_job *job = *con_cls;
	struct web_sock *sock = web_sock_of(conn);

	(void)cls;
	(void)toe;
	if (sock != NULL)
		httpd_deadline_mark(&sock->dl, false);
	if (job == NULL)
		return;
	free(job->body);
	free(job);
	*con_cls = NULL;
}

/* An SSE stream: the callbacks' argument. */
struct web_stream {
	struct web *w;
	struct feed_client *c;
};

/*
 * Resume the clients waiting for an entry and shut down the sockets of
 * those cut off.  Resumed outside the lock, a batch at a time: a client
 * taken off the waiting list stays suspended (so alive) until then.
 */
static void
web_wake(struct web *w)
{
	struct MHD_Connection *batch[256];
	struct feed_client *c;
	size_t n, i;

	do {
		n = 0;
		pthread_mutex_lock(&w->lock);
		for (c = w->feed.clients; c != NULL; c = c->next) {
			if (c->cut && !c->shut && c->fd >= 0) {
				/* a stalled reader is never polled: wake MHD */
				shutdown(c->fd, SHUT_RDWR);
				c->shut = true;
			}
			if (c->suspended && n < sizeof(batch) /
			    sizeof(batch[0])) {
				c->suspended = false;
				batch[n++] = c->conn;
			}
		}
		pthread_mutex_unlock(&w->lock);
		for (i = 0; i < n; i++)
			MHD_resume_connection(batch[i]);
		if (n > 0)
			httpd_epoll_ring(&w->poller);
	} while (n == sizeof(batch) / sizeof(batch[0]));
}

/*
 * Find the waiting streams whose reader has gone and close them now: a
 * suspended connection is out of MHD's epoll set, so without this a
 * browser that left would hold its connection (and a place under
 * --max-connections) until the next event or ping wrote to it.  One
 * poll(2) of the waiting sockets under the lock, which keeps their
 * numbers from being closed and given to others meanwhile (about 5 ms
 * for 10,000 idle sockets here, once a second: events wait that long at
 * most); a hang-up or an error marks the client cut, which web_wake
 * shuts down and resumes, and MHD closes.
 */
static void
web_reap(struct web *w)
{
	struct feed_client *c;
	size_t n = 0, i, gone = 0;

	pthread_mutex_lock(&w->lock);
	if (w->feed.nclients > w->reap_cap) {
		struct pollfd *p = realloc(w->reap,
		    w->feed.nclients * sizeof(*p));

		if (p == NULL)
			goto out_unlock;	/* next second, maybe */
		w->reap = p;
		w->reap_cap = w->feed.nclients;
	}
	for (c = w->feed.clients; c != NULL && n < w->reap_cap; c = c->next) {
		if (!c->suspended || c->cut || c->fd < 0)
			continue;
		w->reap[n].fd = c->fd;
		w->reap[n].events = POLLRDHUP;
		w->reap[n].revents = 0;
		n++;
	}
	if (n == 0 || poll(w->reap, n, 0) <= 0)
		goto out_unlock;
	i = 0;
	for (c = w->feed.clients; c != NULL && i < n; c = c->next) {
		if (!c->suspended || c->cut || c->fd < 0)
			continue;
		if (w->reap[i++].revents & (POLLRDHUP | POLLHUP | POLLERR)) {
			c->cut = true;
			gone++;
		}
	}
out_unlock:
	pthread_mutex_unlock(&w->lock);
	if (gone > 0)
		web_wake(w);
}

/* The SSE reader (MHD's polling thread): what the client has not had. */
static ssize_t
web_sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct web_stream *s = cls;
	struct web *w = s->w;
	long n;

	(void)pos;
	pthread_mutex_lock(&w->lock);
	n = feed_client_read(&w->feed, s->c, buf, max);
	if (n == 0) {
		/* nothing for it now: out of the event loop until an entry */
		s->c->suspended = true;
		MHD_suspend_connection(s->c->conn);
	}
	pthread_mutex_unlock(&w->lock);
	if (n == -1)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	if (n == -2)
		return MHD_CONTENT_READER_END_OF_STREAM;
	return n;
}

static void
web_sse_free(void *cls)
{
	struct web_stream *s = cls;
	struct web *w = s->w;

	pthread_mutex_lock(&w->lock);
	if (s->c->ctx != NULL)
		((struct web_sock *)s->c->ctx)->client = NULL;
	feed_client_free(&w->feed, s->c);
	pthread_mutex_unlock(&w->lock);
	free(s);
}

/* An unsigned decimal id (Last-Event-ID): 0, or -1. */
static int
web_parse_id(const char *s, uint64_t *id)
{
	char *end;

	if (!isdigit((unsigned char)s[0]) || strlen(s) > 20)
		return -1;
	errno = 0;
	*id = strtoull(s, &end, 10);
	return errno != 0 || *end != '\0' ? -1 : 0;
}

static enum MHD_Result
web_events(struct web *w, struct MHD_Connection *conn)
{
	const char *host, *source, *last;
	struct web_sock *sock;
	struct web_stream *s;
	struct MHD_Response *r;
	enum MHD_Result ret;
	size_t n = 0;
	uint64_t last_id = 0;
	int sndbuf = WEB_SNDBUF;

	if (web_filters(w, conn, " n host source after ", &host, &source, &n,
	    &ret) == -1)
		return ret;
	/* the header a reconnecting browser sends; ?after= for a new one */
	if ((last = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    "Last-Event-ID")) == NULL)
		last = web_arg(conn, "after");
	if (last != NULL && web_parse_id(last, &last_id) == -1)
		return web_error(conn, MHD_HTTP_BAD_REQUEST, "Last-Event-ID "
		    "or after: \"%.64s\": want a row id", last);
	if ((sock = web_sock_of(conn)) == NULL ||
	    (s = calloc(1, sizeof(*s))) == NULL)
		return web_error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "out of memory");
	s->w = w;
	pthread_mutex_lock(&w->lock);
	s->c = feed_client_new(&w->feed, host, source, last != NULL, last_id,
	    n);
	if (s->c != NULL) {
		s->c->conn = conn;
		s->c->ctx = sock;
		s->c->fd = sock->dl.fd;
		sock->client = s->c;
	}
	pthread_mutex_unlock(&w->lock);
	if (s->c == NULL) {
		free(s);
		return web_error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "out of memory");
	}
	/* what a reader has not taken waits in the ring, not the kernel */
	setsockopt(sock->dl.fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	if ((r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, WEB_BLOCK,
	    web_sse_read, s, web_sse_free)) == NULL) {
		web_sse_free(s);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "text/event-stream; charset=utf-8");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	/* nginx would hold the stream back in its buffers */
	MHD_add_response_header(r, "X-Accel-Buffering", "no");
	ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

/* A file the page needs, by URL: where it is and its type. */
struct web_file {
	const char *url;
	bool vendor;		/* under vendor_dir, else web_root */
	const char *name;
	const char *type;
};

static const struct web_file web_files[] = {
	{ "/", false, "index.html", "text/html; charset=utf-8" },
	{ "/index.html", false, "index.html", "text/html; charset=utf-8" },
	{ "/app.js", false, "app.js", "text/javascript; charset=utf-8" },
	{ "/app.css", false, "app.css", "text/css; charset=utf-8" },
	{ "/vendor/dygraph.min.js", true, "dygraph.min.js",
	    "text/javascript; charset=utf-8" },
	{ "/vendor/dygraph.min.css", true, "dygraph.min.css",
	    "text/css; charset=utf-8" },
};

/* Send r, one of web_files, with the page's headers. */
static enum MHD_Result
web_file_send(struct MHD_Connection *conn, const struct web_file *f,
    struct MHD_Response *r)
{
	enum MHD_Result ret;

	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, f->type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	/* scripts only from here, none inline: a second wall against XSS */
	MHD_add_response_header(r, "Content-Security-Policy",
	    "default-src 'self'; script-src 'self'; object-src 'none'; "
	    "style-src 'self' 'unsafe-inline'; base-uri 'none'; "
	    "frame-ancestors 'none'");
	ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

/* Serve one of the page's files from the copy compiled in. */
static enum MHD_Result
web_page_file(struct MHD_Connection *conn, const struct web_file *f)
{
	const struct webpage_file *p = webpage_find(f->name);
	struct MHD_Response *r;

	if (p == NULL)
		return web_error(conn, MHD_HTTP_NOT_FOUND, "%s is not "
		    "built in", f->url);
	if ((r = MHD_create_response_from_buffer(p->len, (void *)p->data,
	    MHD_RESPMEM_PERSISTENT)) == NULL)
		return MHD_NO;
	return web_file_send(conn, f, r);
}

/* Serve one of web_files, from --web-root or the copy compiled in. */
static enum MHD_Result
web_file(struct web *w, struct MHD_Connection *conn, const struct web_file *f)
{
	char path[4096], *buf = NULL;
	struct MHD_Response *r;
	struct stat st;
	ssize_t got;
	size_t len = 0;
	int fd;

	if (!f->vendor && w->c->web_root == NULL)
		return web_page_file(conn, f);
	snprintf(path, sizeof(path), "%s/%s", f->vendor ? w->c->vendor_dir :
	    w->c->web_root, f->name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		warnx("%s: %s", path, strerror(errno));
		return web_error(conn, MHD_HTTP_NOT_FOUND, "%s is not "
		    "installed", f->url);
	}
	if (fstat(fd, &st) == -1 || st.st_size > WEB_FILE_MAX ||
	    (buf = malloc((size_t)st.st_size + 1)) == NULL)
		goto out_close;
	while (len < (size_t)st.st_size && (got = read(fd, buf + len,
	    (size_t)st.st_size - len)) > 0)
		len += (size_t)got;
	close(fd);
	if ((r = MHD_create_response_from_buffer(len, buf,
	    MHD_RESPMEM_MUST_FREE)) == NULL) {
		free(buf);
		return MHD_NO;
	}
	return web_file_send(conn, f, r);
out_close:
	close(fd);
	free(buf);
	return web_error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot read "
	    "%s", f->url);
}

static enum MHD_Result
web_handler(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	struct web *w = cls;
	struct web_sock *sock;
	enum MHD_Result ret;
	size_t i;
	int gate;

	(void)version;
	(void)upload_data;
	if (*con_cls == NULL && webauth_guard(w->c->auth, w->c->tls, conn,
	    url, &gate) == -1)
		return (enum MHD_Result)gate;
	if (*upload_data_size > 0) {
		*upload_data_size = 0;	/* a GET's body: ignored */
		return MHD_YES;
	}
	/* the request is in: answered, streamed or waiting, no deadline */
	if ((sock = web_sock_of(conn)) != NULL)
		httpd_deadline_mark(&sock->dl, true);
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
		struct MHD_Response *r;

		if ((r = MHD_create_response_from_buffer(0, NULL,
		    MHD_RESPMEM_PERSISTENT)) == NULL)
			return MHD_NO;
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
		ret = MHD_queue_response(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
		    r);
		MHD_destroy_response(r);
		return ret;
	}
	if (strcmp(url, "/events") == 0)
		return web_events(w, conn);
	if (strcmp(url, "/rows") == 0)
		return web_rows(w, conn);
	if (strcmp(url, "/hosts") == 0)
		return web_hosts(w, conn);
	if (strcmp(url, "/metrics") == 0)
		return web_metrics(w, conn);
	if (strcmp(url, "/health") == 0)
		return web_health(w, conn);
	if (strcmp(url, "/alerts") == 0)
		return web_alerts(w, conn, con_cls);
	if (strcmp(url, "/history") == 0)
		return web_history(w, conn, con_cls);
	if (strcmp(url, "/favicon.ico") == 0)	/* browsers ask; none */
		return web_send(conn, MHD_HTTP_NO_CONTENT, "image/x-icon",
		    strdup(""), 0);
	for (i = 0; i < sizeof(web_files) / sizeof(web_files[0]); i++)
		if (strcmp(url, web_files[i].url) == 0)
			return web_file(w, conn, &web_files[i]);
	return web_error(conn, MHD_HTTP_NOT_FOUND, "not found: see "
	    "sm-tail(1), LISTEN");
}

/*
 * Track sockets, for the whole-request deadline and so that a cut-off
 * client's can be shut down.
 */
static void
web_connection(void *cls, struct MHD_Connection *conn, void **ctx,
    enum MHD_ConnectionNotificationCode code)
{
	const union MHD_ConnectionInfo *ci;
	struct web *w = cls;
	struct web_sock *sock = *ctx;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		ci = MHD_get_connection_info(conn,
		    MHD_CONNECTION_INFO_CONNECTION_FD);
		if (ci != NULL && (sock = calloc(1, sizeof(*sock))) != NULL) {
			pthread_mutex_lock(&w->lock);
			httpd_deadline_add(&w->conns, &sock->dl,
			    ci->connect_fd);
			pthread_mutex_unlock(&w->lock);
		}
		*ctx = sock;
		return;
	}
	if (code != MHD_CONNECTION_NOTIFY_CLOSED || sock == NULL)
		return;
	/* before MHD closes it: its number may soon be another's */
	pthread_mutex_lock(&w->lock);
	httpd_deadline_remove(&w->conns, &sock->dl);
	if (sock->client != NULL) {
		sock->client->fd = -1;
		sock->client->ctx = NULL;
	}
	pthread_mutex_unlock(&w->lock);
	free(sock);
	*ctx = NULL;
}

static void
web_emit_bad(unsigned long long id, const char *why, void *arg)
{
	(void)arg;
	warnx("row %llu: %s; skipped", id, why);
}

static int
web_emit(const struct rowfmt_row *row, bool history, void *arg)
{
	struct web *w = arg;
	int rc;

	pthread_mutex_lock(&w->lock);
	rc = feed_add_row(&w->feed, row);
	w->added++;
	/* live, as sm-alert without --replay: the clock, not the row's ts */
	if (!history && w->alerts != NULL &&
	    alert_feed(w->alerts, &row->rec, alert_now()) == -1)
		warnx("row %llu: out of memory; no alerts for it", row->id);
	pthread_mutex_unlock(&w->lock);
	if (rc == -1)
		warnx("row %llu: out of memory; not served", row->id);
	return 0;
}

/*
 * Note the database's state; say when it changes (an event for the
 * streams, counted with the rows for waking them).
 */
static void
web_db_state(struct web *w, bool up)
{
	bool was;

	pthread_mutex_lock(&w->lock);
	was = w->feed.db_up;
	if (feed_set_db(&w->feed, up) == -1)
		warnx("out of memory");
	if (was != up)
		w->added++;
	pthread_mutex_unlock(&w->lock);
	if (was && !up) {
		struct tail_status st;

		tail_status(w->tail, &st);
		warnx("%s: %s; reconnecting", w->desc, st.why);
	}
	else if (!was && up)
		warnx("%s: connected", w->desc);
}

/* followrun's wait: on w->wake until when_ms or stopping. */
static bool
web_follow_wait(void *arg, int64_t when_ms)
{
	struct web *w = arg;
	struct timespec ts = clock_mono_timespec(when_ms);
	bool stop;

	pthread_mutex_lock(&w->lock);
	while (!w->stopping && pthread_cond_timedwait(&w->wake,
	    &w->lock, &ts) == 0)
		;
	stop = w->stopping;
	pthread_mutex_unlock(&w->lock);
	return stop;
}

/* followrun's stepped: the database's state, alerts, clients woken. */
static bool
web_follow_stepped(void *arg, enum tail_step st)
{
	struct web *w = arg;
	bool added;

	web_db_state(w, st == TAIL_STEP_OK || tail_socket(w->tail) != -1);
	followrun_news(w->tail, w->desc, &w->said);
	pthread_mutex_lock(&w->lock);
	if (w->alerts != NULL)
		alert_tick(w->alerts, alert_now());
	feed_forget(&w->feed, clock_mono_ms());
	added = w->added > 0;
	w->added = 0;
	pthread_mutex_unlock(&w->lock);
	if (added)
		web_wake(w);
	return false;
}

/*
 * The follower: followrun, a step every interval, then the waiting
 * clients woken, until stopping or a fatal step; that ends the server
 * (web_run looks at w->fatal at each tick).
 */
static void *
web_follow(void *arg)
{
	struct web *w = arg;
	struct followrun fr = {
		.tail = w->tail, .desc = w->desc,
		.interval_ms = w->c->interval_ms, .first_ms = clock_mono_ms(),
		.wait = web_follow_wait, .stepped = web_follow_stepped,
		.arg = w
	};
	struct why why;

	mysql_thread_init();	/* a thread of its own on the connection */
	if (followrun(&fr, &why) != SM_EXIT_OK) {
		pthread_mutex_lock(&w->lock);
		w->fatal = true;
		w->fatal_why = why;
		if (feed_set_db(&w->feed, false) == -1)
			warnx("out of memory");
		pthread_mutex_unlock(&w->lock);
		web_wake(w);
	}
	mysql_thread_end();
	return NULL;
}

/* Room for max_connections sockets, as far as the hard limit allows. */
static void
web_raise_files(unsigned max_connections)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)max_connections + 64;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ?
	    want : rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur < want)
		warnx("only %llu open files allowed: fewer than "
		    "--max-connections clients",
		    (unsigned long long)rl.rlim_cur);
}

/*
 * MHD's error log, less what is routine for event streams: readers that
 * went away, and streams ended because their client was cut off or had
 * gone (web_reap).
 */
static void
web_log(void *cls, const char *fmt, va_list ap)
{
	static const char *routine[] = {
		"The socket is no longer available for sending",
		"application reported error generating data",
		"application error generating response",	/* resumed */
		"Connection reset by peer",
		"forcibly closed by remote peer",	/* the same, sending */
	};
	char buf[512];
	va_list copy;
	size_t i;

	va_copy(copy, ap);
	vsnprintf(buf, sizeof(buf), fmt, copy);
	va_end(copy);
	for (i = 0; i < sizeof(routine) / sizeof(routine[0]); i++)
		if (strstr(buf, routine[i]) != NULL)
			return;
	httpd_log(cls, fmt, ap);
}

/*
 * Shut down the connections whose request has not arrived whole within
 * --request-timeout (httpd_deadline.h), and say so.
 */
static void
web_cut(struct web *w)
{
	unsigned long n;

	pthread_mutex_lock(&w->lock);
	n = httpd_deadline_sweep(&w->conns,
	    (int64_t)w->c->request_timeout * 1000);
	pthread_mutex_unlock(&w->lock);
	httpd_deadline_say("http", n, false, w->c->request_timeout);
}

/* The first connect and the history, before serving; 0 or -1 (why). */
static int
web_start(struct web *w, struct why *why)
{
	struct tail_status st;

	switch (tail_connect(w->tail, clock_mono_ms())) {
	case TAIL_STEP_OK:
		web_db_state(w, true);
		return 0;
	case TAIL_STEP_FATAL:
		followrun_why(w->tail, w->desc, why);
		return -1;
	case TAIL_STEP_DOWN:
	case TAIL_STEP_STOP:
		break;
	}
	/* serve anyway: /health says so, the follower keeps trying */
	tail_status(w->tail, &st);
	warnx("%s: %s; retrying", w->desc, st.why);
	return 0;
}

static struct MHD_Daemon *
web_daemon(struct web *w)
{
	const struct web_config *c = w->c;
	struct MHD_OptionItem opts[9 + TLS_MHD_OPTS];
	unsigned flags;
	size_t n = 0;

	/* polled by httpd_epoll's thread, not MHD's (httpd_epoll.h) */
	flags = HTTPD_EPOLL_FLAGS | MHD_USE_ERROR_LOG;
	if (c->tls != NULL && c->tls->cert != NULL)
		flags |= MHD_USE_TLS;
	if (c->addr.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_EXTERNAL_LOGGER,
	    (intptr_t)web_log, NULL };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_SOCK_ADDR, 0,
	    (void *)&c->addr };
	if (c->tls != NULL)
		n += tls_mhd_options(c->tls, opts + n);
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_TIMEOUT,
	    WEB_TIMEOUT, NULL };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_LIMIT,
	    (intptr_t)c->max_connections, NULL };
	if (c->max_per_address > 0)
		opts[n++] = (struct MHD_OptionItem){
		    MHD_OPTION_PER_IP_CONNECTION_LIMIT,
		    (intptr_t)c->max_per_address, NULL };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_NOTIFY_CONNECTION,
	    (intptr_t)web_connection, w };
	opts[n++] = (struct MHD_OptionItem){
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, c->conn_memory, NULL };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_NOTIFY_COMPLETED,
	    (intptr_t)web_completed, w };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };
	return MHD_start_daemon(flags, 0, NULL, NULL, web_handler, w,
	    MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
}

/* End every stream and wait (a while) for them to go. */
static void
web_end_streams(struct web *w)
{
	int i;
	size_t left;

	pthread_mutex_lock(&w->lock);
	w->feed.ending = true;
	pthread_mutex_unlock(&w->lock);
	for (i = 0; i < 200; i++) {
		web_wake(w);
		pthread_mutex_lock(&w->lock);
		left = w->feed.nclients;
		pthread_mutex_unlock(&w->lock);
		if (left == 0)
			break;
		usleep(10000);
	}
}

/*
 * The main thread's wait while serving: the stop signal's number, or 0
 * when the follower gave up (looked at each second, with the requests'
 * deadlines and the streams whose reader left).  Pings the streams every
 * WEB_KEEPALIVE_MS: proxies close streams that stay silent.
 */
static int
web_wait_stop(struct web *w, const sigset_t *stop)
{
	const struct timespec tick = { 1, 0 };
	int64_t ping_ms = clock_mono_ms() + WEB_KEEPALIVE_MS;
	bool fatal;
	int sig;

	for (;;) {
		if ((sig = sigtimedwait(stop, NULL, &tick)) > 0)
			return sig;
		web_cut(w);
		web_reap(w);
		httpd_log_flush(false);
		pthread_mutex_lock(&w->lock);
		fatal = w->fatal;
		pthread_mutex_unlock(&w->lock);
		if (fatal)
			return 0;
		if (clock_mono_ms() < ping_ms)
			continue;
		ping_ms += WEB_KEEPALIVE_MS;
		pthread_mutex_lock(&w->lock);
		feed_ping(&w->feed);
		pthread_mutex_unlock(&w->lock);
		web_wake(w);
	}
}

int
web_run(const struct web_config *c, const sigset_t *stop, struct why *why)
{
	const union MHD_DaemonInfo *info;
	struct tail_config tc = c->tail;
	char where[NI_MAXHOST + 16];
	struct MHD_Daemon *d = NULL;
	pthread_t follower;
	unsigned port = 0;
	int sig, rc = SM_EXIT_USAGE;
	struct web w;

	memset(&w, 0, sizeof(w));
	w.c = c;
	/* first: the /history threads and the follower ring its bell */
	if (httpd_epoll_open(&w.poller, why) == -1)
		return SM_EXIT_FATAL;
	pthread_mutex_init(&w.lock, NULL);
	clock_cond_init(&w.wake);	/* deadlines on the monotonic clock */
	db_describe(c->tail.db, w.desc, sizeof(w.desc));
	tc.follow = true;
	tc.emit = web_emit;
	tc.bad = web_emit_bad;
	tc.arg = &w;
	if (c->rules != NULL && c->rules->n > 0 && (w.alerts = alert_new(
	    c->rules->rules, c->rules->n, web_alert, &w)) == NULL) {
		why_set(why, "out of memory");
		rc = SM_EXIT_FATAL;
		goto out_destroy;
	}
	if (w.alerts != NULL)
		alert_limit(w.alerts, c->max_hosts, c->forget_ms);
	if (c->keep_alerts && (w.store = alertstore_new(c->tail.db,
	    "sm-tail", NULL)) == NULL) {
		why_set(why, "cannot start the alert writer");
		rc = SM_EXIT_FATAL;
		goto out_destroy;
	}
	if (feed_init(&w.feed, c->backlog, c->stale_ms, c->warn) == -1 ||
	    feed_limit(&w.feed, c->max_hosts, c->forget_ms) == -1 ||
	    (w.tail = tail_new(&tc)) == NULL) {
		why_set(why, "out of memory");
		feed_free(&w.feed);
		rc = SM_EXIT_FATAL;
		goto out_destroy;
	}
	/* the feed's clock, before the history's rows */
	feed_forget(&w.feed, clock_mono_ms());
	if ((w.hist = webhist_new(c->tail.db, &w.poller)) == NULL) {
		why_set(why, "cannot start /history's threads");
		rc = SM_EXIT_FATAL;
		goto out_free;
	}
	if (web_start(&w, why) == -1)
		goto out_free;
	web_raise_files(c->max_connections);
	if ((d = web_daemon(&w)) == NULL) {
		httpd_listen_failed(&c->addr, c->addrlen, why);
		goto out_free;
	}
	if (httpd_epoll_start(&w.poller, d, why) == -1) {
		rc = SM_EXIT_FATAL;
		goto out_stop;
	}
	if ((info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)) != NULL)
		port = info->port;
	httpd_describe(&c->addr, port, where, sizeof(where));
	if (c->port_file != NULL && httpd_write_port(c->port_file, port,
	    why) == -1)
		goto out_stop;
	if (pthread_create(&follower, NULL, web_follow, &w) != 0) {
		why_set(why, "cannot start the follower");
		rc = SM_EXIT_FATAL;
		goto out_unlink;
	}
	warnx("serving %s://%s/ from %s", c->tls != NULL &&
	    c->tls->cert != NULL ? "https" : "http", where, w.desc);
	sig = web_wait_stop(&w, stop);
	pthread_mutex_lock(&w.lock);
	w.stopping = true;
	pthread_cond_signal(&w.wake);
	pthread_mutex_unlock(&w.lock);
	pthread_join(follower, NULL);
	web_end_streams(&w);
	httpd_log_flush(true);
	if (sig == 0) {
		/* the follower gave up: stopped, as at the first connect */
		*why = w.fatal_why;
	} else {
		warnx("stopped on signal %d", sig);
		rc = SM_EXIT_OK;
	}
out_unlink:
	if (c->port_file != NULL)
		unlink(c->port_file);
out_stop:
	/* its waiting requests answered before the server goes */
	webhist_free(w.hist);
	w.hist = NULL;
	httpd_epoll_stop(&w.poller);
	MHD_stop_daemon(d);
out_free:
	webhist_free(w.hist);
	tail_free(w.tail);
	feed_free(&w.feed);
out_destroy:
	/* after the follower: no event comes any more */
	alertstore_free(w.store, NULL);
	alert_free(w.alerts);
	free(w.reap);
	pthread_cond_destroy(&w.wake);
	pthread_mutex_destroy(&w.lock);
	httpd_epoll_close(&w.poller);
	return rc;
}
