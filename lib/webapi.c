/*
 * sm-tail --listen's JSON endpoints: /rows, /hosts, /metrics, /alerts
 * (what fires now, or the stored history), /health and /history, the last
 * two answered from /history's threads (webhist.h).
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "clock.h"
#include "cli.h"
#include "record.h"
#include "schema.h"
#include "timefmt.h"
#include "web_impl.h"
#include "when.h"

/* The alerts firing now, for /alerts and /metrics. */
struct web_firing {
	FILE *out;
	size_t n;
	bool prometheus;
};

static void
web_firing_one(const struct alert_event *ev, void *arg)
{
	struct web_firing *f = arg;
	char line[ALERT_EVENT_MAX];
	int n;

	if (f->prometheus) {
		fputs("sm_alert_firing{host=\"", f->out);
		feed_label(f->out, ev->host);
		fputs("\",rule=\"", f->out);
		feed_label(f->out, ev->rule);
		fprintf(f->out, "\"} 1\n");
		f->n++;
		return;
	}
	if ((n = alert_event_format(ev, line, sizeof(line))) <= 0)
		return;
	fprintf(f->out, "%s%.*s", f->n++ > 0 ? "," : "", n - 1, line);
}

enum MHD_Result
web_rows(struct web *w, struct MHD_Connection *conn)
{
	const char *host, *source, *since, *why;
	size_t n = WEB_ROWS_DEFAULT;
	int64_t since_ms = -1;
	enum MHD_Result ret;
	char *json;

	if (web_filters(w, conn, " n host source since ", &host, &source, &n,
	    &ret) == -1)
		return ret;
	if ((since = web_arg(conn, "since")) != NULL &&
	    timefmt_parse(since, &since_ms, &why) == -1)
		return web_error(conn, MHD_HTTP_BAD_REQUEST, "since: "
		    "\"%.64s\": %s; want RFC 3339, e.g. "
		    "2026-11-26T15:00:00Z", since, why);
	pthread_mutex_lock(&w->lock);
	json = feed_rows_json(&w->feed, n, host, source, since_ms);
	pthread_mutex_unlock(&w->lock);
	return web_json(conn, MHD_HTTP_OK, json);
}

/* A request that takes no query: 0, or -1 with the 400 queued. */
static int
web_no_args(struct MHD_Connection *conn, enum MHD_Result *ret)
{
	return web_args_check(conn, " ", ret);
}

enum MHD_Result
web_hosts(struct web *w, struct MHD_Connection *conn)
{
	enum MHD_Result ret;
	char *json;

	if (web_no_args(conn, &ret) == -1)
		return ret;
	pthread_mutex_lock(&w->lock);
	json = feed_hosts_json(&w->feed, timefmt_now_ms());
	pthread_mutex_unlock(&w->lock);
	return web_json(conn, MHD_HTTP_OK, json);
}

/*
 * text (taken) with the listener's counters and the firing alerts after
 * it; NULL when out of memory.  Under the lock.
 */
static char *
web_metrics_more(struct web *w, char *text)
{
	struct web_firing f = { .prometheus = true };
	char *all = NULL;
	size_t size = 0;

	if ((f.out = open_memstream(&all, &size)) == NULL) {
		free(text);
		return NULL;
	}
	fputs(text, f.out);
	free(text);
	fprintf(f.out, "# HELP sm_tail_connections_cut_total Connections "
	    "closed because their request took more than "
	    "--request-timeout.\n"
	    "# TYPE sm_tail_connections_cut_total counter\n"
	    "sm_tail_connections_cut_total %lu\n", w->conns.cut);
	if (w->store != NULL)
		alertstore_metrics(w->store, f.out);
	if (w->alerts == NULL)
		goto out_close;
	fprintf(f.out, "# HELP sm_tail_alert_hosts Hosts whose alerts are "
	    "watched (at most --max-hosts).\n"
	    "# TYPE sm_tail_alert_hosts gauge\nsm_tail_alert_hosts %zu\n"
	    "# HELP sm_tail_alert_hosts_dropped_total Hosts whose alert "
	    "state was dropped: --max-hosts or --forget.\n"
	    "# TYPE sm_tail_alert_hosts_dropped_total counter\n"
	    "sm_tail_alert_hosts_dropped_total %llu\n",
	    alert_hosts(w->alerts), alert_dropped(w->alerts));
	fputs("# HELP sm_alert_firing 1 for each alert firing now "
	    "(--rule, --stale).\n# TYPE sm_alert_firing gauge\n", f.out);
	alert_firing(w->alerts, web_firing_one, &f);
out_close:
	if (fclose(f.out) == EOF) {
		free(all);
		return NULL;
	}
	return all;
}

enum MHD_Result
web_metrics(struct web *w, struct MHD_Connection *conn)
{
	enum MHD_Result ret;
	char *text;

	if (web_no_args(conn, &ret) == -1)
		return ret;
	pthread_mutex_lock(&w->lock);
	text = feed_metrics_text(&w->feed, timefmt_now_ms());
	if (text != NULL)
		text = web_metrics_more(w, text);
	pthread_mutex_unlock(&w->lock);
	text = webauth_metrics(w->c->auth, text);
	return web_send(conn, MHD_HTTP_OK, "text/plain; version=0.0.4; "
	    "charset=utf-8", text, text != NULL ? strlen(text) : 0);
}

static enum MHD_Result web_alert_history(struct web *w,
    struct MHD_Connection *conn, void **con_cls);

/*
 * The alerts firing now: a JSON array of events (state "firing"); with a
 * query, the history in the table (web_alert_history).
 */
enum MHD_Result
web_alerts(struct web *w, struct MHD_Connection *conn, void **con_cls)
{
	struct web_firing f = { 0 };
	char *text = NULL;
	size_t size = 0;

	if (*con_cls != NULL || MHD_get_connection_values(conn,
	    MHD_GET_ARGUMENT_KIND, NULL, NULL) > 0)
		return web_alert_history(w, conn, con_cls);
	if ((f.out = open_memstream(&text, &size)) == NULL)
		return web_json(conn, MHD_HTTP_OK, NULL);
	fputc('[', f.out);
	pthread_mutex_lock(&w->lock);
	if (w->alerts != NULL)
		alert_firing(w->alerts, web_firing_one, &f);
	pthread_mutex_unlock(&w->lock);
	fputc(']', f.out);
	if (fclose(f.out) == EOF) {
		free(text);
		text = NULL;
	}
	return web_json(conn, MHD_HTTP_OK, text);
}

enum MHD_Result
web_health(struct web *w, struct MHD_Connection *conn)
{
	enum MHD_Result ret;
	bool up;

	if (web_no_args(conn, &ret) == -1)
		return ret;
	pthread_mutex_lock(&w->lock);
	up = w->feed.db_up;
	pthread_mutex_unlock(&w->lock);
	if (up)
		return web_json(conn, MHD_HTTP_OK,
		    strdup("{\"status\":\"ok\"}"));
	return web_json(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
	    strdup("{\"status\":\"database unavailable\"}"));
}

/* A time of /history's query (when_parse): 0, or -1 with the 400 queued. */
static int
web_when(struct MHD_Connection *conn, const char *name, int64_t now_ms,
    int64_t *ms, enum MHD_Result *ret)
{
	const char *v, *why;

	if ((v = web_arg(conn, name)) == NULL ||
	    when_parse(v, now_ms, ms, &why) == 0)
		return 0;
	*ret = web_error(conn, MHD_HTTP_BAD_REQUEST, "%s: \"%.64s\": %s; "
	    "want RFC 3339 (2026-11-26T15:00:00Z), a date (2026-11-26) or a "
	    "duration ago (2h, 7d)", name, v, why);
	return -1;
}

/* A job's answer, once resumed (job freed). */
static enum MHD_Result
web_job_answer(struct MHD_Connection *conn, void **con_cls)
{
	struct webhist_job *job = *con_cls;
	enum MHD_Result ret;

	*con_cls = NULL;
	ret = web_json(conn, job->code, job->body);
	free(job);
	return ret;
}

/* Suspend conn and queue job (taken) on /history's threads. */
static enum MHD_Result
web_job_submit(struct web *w, struct MHD_Connection *conn, void **con_cls,
    struct webhist_job *job)
{
	job->conn = conn;
	*con_cls = job;
	MHD_suspend_connection(conn);
	if (webhist_submit(w->hist, job) == -1) {
		/* answered at once, through the same resume */
		job->code = MHD_HTTP_SERVICE_UNAVAILABLE;
		job->body = strdup("{\"error\":\"too many range requests "
		    "waiting; try again\"}");
		job->done = true;
		MHD_resume_connection(conn);
		httpd_epoll_ring(&w->poller);
	}
	return MHD_YES;
}

/* /alerts?from='s query, on a /history thread (webhist_job's run). */
static enum db_fault
web_alert_list(MYSQL *m, const struct webhist_job *job, FILE *out,
    struct why *why)
{
	const struct alertstore_query q = {
		.from_ms = job->q.from_ms, .to_ms = job->q.to_ms,
		.host = job->q.host, .limit = job->limit
	};

	return alertstore_list(m, &q, out, why);
}

/*
 * GET /history?host=&source=&from=&to=&step=: points over a range, from
 * the tiers (lib/history), run by /history's own threads while the
 * request waits suspended; called again, resumed, with the answer.
 */
enum MHD_Result
web_history(struct web *w, struct MHD_Connection *conn, void **con_cls)
{
	struct webhist_job *job = *con_cls;
	const char *host, *source, *v, *why_text;
	int64_t now = timefmt_now_ms();
	enum MHD_Result ret;
	struct why why;
	size_t n;

	if (job != NULL)
		return web_job_answer(conn, con_cls);
	if (web_filters(w, conn, " host source from to step ", &host,
	    &source, &n, &ret) == -1)
		return ret;
	if ((job = calloc(1, sizeof(*job))) == NULL)
		return web_json(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL);
	job->q.from_ms = now - 3600 * 1000;
	job->q.to_ms = now;
	if (web_when(conn, "from", now, &job->q.from_ms, &ret) == -1 ||
	    web_when(conn, "to", now, &job->q.to_ms, &ret) == -1)
		goto out_free;
	if ((v = web_arg(conn, "step")) != NULL) {
		if (when_duration(v, &job->q.step_ms, &why_text) == -1) {
			ret = web_error(conn, MHD_HTTP_BAD_REQUEST, "step: "
			    "\"%.64s\": %s", v, why_text);
			goto out_free;
		}
	} else if (job->q.to_ms > job->q.from_ms) {
		job->q.step_ms = history_auto_step(job->q.to_ms -
		    job->q.from_ms, WEBHIST_POINTS_AUTO);
	}
	if (history_check(&job->q, &why) == -1) {
		ret = web_error(conn, MHD_HTTP_BAD_REQUEST, "%s", why.msg);
		goto out_free;
	}
	if (host != NULL) {
		snprintf(job->host, sizeof(job->host), "%s", host);
		job->q.host = job->host;
	}
	if (source != NULL) {
		snprintf(job->source, sizeof(job->source), "%s", source);
		job->q.source = job->source;
	}
	return web_job_submit(w, conn, con_cls, job);
out_free:
	free(job);
	return ret;
}

/*
 * GET /alerts?from=&to=&host=&limit=: the alerts stored in the table
 * (lib/alertstore) that fired before to and had not resolved by from,
 * newest first, queried by /history's threads; called again, resumed,
 * with the answer.
 */
static enum MHD_Result
web_alert_history(struct web *w, struct MHD_Connection *conn,
    void **con_cls)
{
	struct webhist_job *job = *con_cls;
	const char *host, *source, *v;
	int64_t now = timefmt_now_ms();
	enum MHD_Result ret;
	size_t n;

	if (job != NULL)
		return web_job_answer(conn, con_cls);
	if (web_filters(w, conn, " host from to limit ", &host, &source, &n,
	    &ret) == -1)
		return ret;
	if ((job = calloc(1, sizeof(*job))) == NULL)
		return web_json(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL);
	job->run = web_alert_list;
	job->limit = ALERTSTORE_LIST_DEFAULT;
	job->q.from_ms = now - 24 * 3600 * 1000LL;
	job->q.to_ms = now;
	if (web_when(conn, "from", now, &job->q.from_ms, &ret) == -1 ||
	    web_when(conn, "to", now, &job->q.to_ms, &ret) == -1)
		goto out_free;
	if (job->q.from_ms >= job->q.to_ms) {
		ret = web_error(conn, MHD_HTTP_BAD_REQUEST, "from: must be "
		    "before to");
		goto out_free;
	}
	if ((v = web_arg(conn, "limit")) != NULL && web_parse_count(v,
	    ALERTSTORE_LIST_MAX, &job->limit) == -1) {
		ret = web_error(conn, MHD_HTTP_BAD_REQUEST, "limit: \"%.64s\": "
		    "want a count of alerts from 0 to %d", v,
		    ALERTSTORE_LIST_MAX);
		goto out_free;
	}
	if (host != NULL) {
		snprintf(job->host, sizeof(job->host), "%s", host);
		job->q.host = job->host;
	}
	return web_job_submit(w, conn, con_cls, job);
out_free:
	free(job);
	return ret;
}
