/*
 * /history's query threads (webhist.h): a queue under a mutex, a few
 * threads each with a connection of its own, made on first use and again
 * after a failure, and the answer built as JSON before the request is
 * resumed.
 */
#include <err.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "timefmt.h"
#include "httpd_epoll.h"
#include "webhist.h"

struct webhist {
	const struct db_config *db;
	struct httpd_epoll *poller;	/* rung after each answer */
	pthread_mutex_t lock;
	pthread_cond_t work;		/* a job queued, or stopping */
	struct webhist_job *head, *tail;	/* under lock */
	unsigned queued;		/* under lock */
	bool stopping;			/* under lock */
	pthread_t threads[WEBHIST_THREADS];
	unsigned nthreads;
};

struct webhist_out {
	FILE *f;
	unsigned long long n;
};

static int
webhist_point(const struct history_point *p, void *arg)
{
	struct webhist_out *o = arg;

	if (o->n++ > 0)
		fputc(',', o->f);
	return history_point_json(o->f, p);
}

/* {"error": why} as a newly allocated body. */
static char *
webhist_error(const char *fmt, const char *why)
{
	struct json_object *o;
	char text[600], *body = NULL;

	snprintf(text, sizeof(text), fmt, why);
	if ((o = json_object_new_object()) == NULL)
		return NULL;
	json_object_object_add(o, "error", json_object_new_string(text));
	body = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return body;
}

/* Run one job on *m (connected first when NULL); its answer set. */
static void
webhist_run(struct webhist *h, MYSQL **m, struct webhist_job *job)
{
	char from[TIMEFMT_RFC3339_LEN], to[TIMEFMT_RFC3339_LEN];
	struct webhist_out o = { 0 };
	enum db_fault f = DB_FAULT_NONE;
	char *body = NULL;
	size_t size = 0;
	struct why why;

	if (*m == NULL && (*m = db_connect(h->db, &why, &f)) == NULL) {
		job->code = MHD_HTTP_SERVICE_UNAVAILABLE;
		job->body = webhist_error("database unavailable: %s",
		    why.msg);
		return;
	}
	if ((o.f = open_memstream(&body, &size)) == NULL)
		goto out_memory;
	if (job->run != NULL) {
		f = job->run(*m, job, o.f, &why);
		goto out_close;
	}
	fputs("{\"points\":[", o.f);
	f = history_run(*m, &job->q, webhist_point, &o, &why);
	timefmt_rfc3339(job->q.from_ms, from, sizeof(from));
	timefmt_rfc3339(job->q.to_ms, to, sizeof(to));
	fprintf(o.f, "],\"from\":\"%s\",\"to\":\"%s\",\"step_ms\":%lld,"
	    "\"tier\":\"%s\"}", from, to, (long long)job->q.step_ms,
	    tiers[job->q.tier].name);
out_close:
	if (fclose(o.f) == EOF) {
		free(body);
		goto out_memory;
	}
	switch (f) {
	case DB_FAULT_NONE:
		job->code = MHD_HTTP_OK;
		job->body = body;
		return;
	case DB_FAULT_DATA:
		job->code = MHD_HTTP_BAD_REQUEST;
		job->body = webhist_error("%s", why.msg);
		break;
	default:
		/* a new connection for the next job */
		mysql_close(*m);
		*m = NULL;
		job->code = MHD_HTTP_SERVICE_UNAVAILABLE;
		job->body = webhist_error("database unavailable: %s",
		    why.msg);
		break;
	}
	free(body);
	return;
out_memory:
	job->code = MHD_HTTP_INTERNAL_SERVER_ERROR;
	job->body = NULL;
}

/* The answer is set: hand the request back (job is MHD's from here). */
static void
webhist_answer(struct webhist *h, struct webhist_job *job)
{
	struct MHD_Connection *conn = job->conn;

	job->done = true;
	MHD_resume_connection(conn);
	httpd_epoll_ring(h->poller);
}

static void *
webhist_thread(void *arg)
{
	struct webhist *h = arg;
	struct webhist_job *job;
	MYSQL *m = NULL;

	mysql_thread_init();
	for (;;) {
		pthread_mutex_lock(&h->lock);
		while (h->head == NULL && !h->stopping)
			pthread_cond_wait(&h->work, &h->lock);
		if ((job = h->head) == NULL) {
			pthread_mutex_unlock(&h->lock);
			break;
		}
		h->head = job->next;
		if (h->head == NULL)
			h->tail = NULL;
		h->queued--;
		pthread_mutex_unlock(&h->lock);
		webhist_run(h, &m, job);
		webhist_answer(h, job);
	}
	if (m != NULL)
		mysql_close(m);
	mysql_thread_end();
	return NULL;
}

struct webhist *
webhist_new(const struct db_config *db, struct httpd_epoll *poller)
{
	struct webhist *h;

	if ((h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	h->db = db;
	h->poller = poller;
	pthread_mutex_init(&h->lock, NULL);
	pthread_cond_init(&h->work, NULL);
	for (; h->nthreads < WEBHIST_THREADS; h->nthreads++)
		if (pthread_create(&h->threads[h->nthreads], NULL,
		    webhist_thread, h) != 0)
			break;
	if (h->nthreads == 0) {
		webhist_free(h);
		return NULL;
	}
	return h;
}

int
webhist_submit(struct webhist *h, struct webhist_job *job)
{
	int rc = -1;

	job->next = NULL;
	job->done = false;
	pthread_mutex_lock(&h->lock);
	if (!h->stopping && h->queued < WEBHIST_QUEUE) {
		if (h->tail != NULL)
			h->tail->next = job;
		else
			h->head = job;
		h->tail = job;
		h->queued++;
		pthread_cond_signal(&h->work);
		rc = 0;
	}
	pthread_mutex_unlock(&h->lock);
	return rc;
}

void
webhist_free(struct webhist *h)
{
	struct webhist_job *job, *next;
	unsigned i;

	if (h == NULL)
		return;
	pthread_mutex_lock(&h->lock);
	h->stopping = true;
	job = h->head;
	h->head = h->tail = NULL;
	h->queued = 0;
	pthread_cond_broadcast(&h->work);
	pthread_mutex_unlock(&h->lock);
	for (; job != NULL; job = next) {
		next = job->next;
		job->code = MHD_HTTP_SERVICE_UNAVAILABLE;
		job->body = webhist_error("%s", "stopping");
		webhist_answer(h, job);
	}
	for (i = 0; i < h->nthreads; i++)
		pthread_join(h->threads[i], NULL);
	pthread_cond_destroy(&h->work);
	pthread_mutex_destroy(&h->lock);
	free(h);
}
