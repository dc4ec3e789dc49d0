/*
 * sm-tail --listen's GET /history (sm-tail(1), LISTEN): range queries run
 * by a few threads of their own, each on its own database connection
 * (never the follower's), so that a slow query holds up neither the
 * server's thread nor the live rows.  A request waits suspended in
 * libmicrohttpd while its job is queued or run, and is resumed with its
 * answer.
 */
#ifndef SM_WEBHIST_H
#define SM_WEBHIST_H

#include <stdbool.h>
#include <stdio.h>

#include <microhttpd.h>

#include "db.h"
#include "history.h"

#define WEBHIST_THREADS 4	/* queries at once: connections held */
#define WEBHIST_QUEUE 64	/* requests waiting beyond those; then 503 */
#define WEBHIST_POINTS_AUTO 300	/* points a chart wants without ?step= */

struct webhist_job {
	struct history_query q;
	char host[RECORD_HOST_MAX + 1];
	char source[HISTORY_SOURCE_MAX + 1];
	/*
	 * Another query on the same threads (GET /alerts?from=): writes the
	 * answer's JSON to out, from q's range and host and limit; NULL:
	 * /history's points.
	 */
	enum db_fault (*run)(MYSQL *m, const struct webhist_job *job,
	    FILE *out, struct why *why);
	size_t limit;
	struct MHD_Connection *conn;	/* resumed once answered */
	/* the answer, set before the resume */
	unsigned code;
	char *body;		/* JSON; NULL: out of memory */
	bool done;
	struct webhist_job *next;
};

struct webhist;

struct httpd_epoll;

/*
 * Threads for the queries on db (kept by the caller), ringing poller's
 * bell after each answer; NULL when memory or threads run out.
 */
struct webhist *webhist_new(const struct db_config *db,
    struct httpd_epoll *poller);

/*
 * Queue job (its connection suspended by the caller after a 0).  -1 when
 * the queue is full or the pool is stopping: answer 503.
 */
int webhist_submit(struct webhist *h, struct webhist_job *job);

/*
 * Answer what waits with 503, let running queries finish, join the
 * threads and free h (NULL: nothing).
 */
void webhist_free(struct webhist *h);

#endif
