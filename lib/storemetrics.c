/*
 * sm-store --listen's counters and their Prometheus text (storemetrics.h):
 * process-wide relaxed atomics, added to where things happen (the HTTP
 * threads, the committer) and read by the scrape.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storemetrics.h"

/* Upper bounds of the histograms' buckets; +Inf is added. */
static const double sm_groups_le[] = { 1, 2, 4, 8, 16, 32, 64, 128, 256,
    512, 1024 };
static const double sm_rows_le[] = { 1, 10, 100, 1000, 10000, 100000 };
static const double sm_secs_le[] = { 0.00025, 0.0005, 0.001, 0.0025, 0.005,
    0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5 };

#define SM_NBUCKETS(a) (sizeof(a) / sizeof((a)[0]) + 1)

struct sm_hist {
	unsigned long bucket[16];	/* not cumulative; the last is +Inf */
	double sum;			/* the committer's alone: see below */
	unsigned long count;
};

static struct {
	unsigned long status[STOREMETRICS_CODE_MAX];
	unsigned long bytes;
	unsigned long stored, duplicates, rejected;
	unsigned long auth_failed;
	unsigned long commit_failed;
	/* written by the committer thread only, read atomically */
	struct sm_hist groups, rows, secs;
} sm;

#define SM_ADD(var, n) __atomic_add_fetch(&(var), (n), __ATOMIC_RELAXED)
#define SM_GET(var) __atomic_load_n(&(var), __ATOMIC_RELAXED)

void
storemetrics_status(unsigned code)
{
	if (code < STOREMETRICS_CODE_MAX)
		SM_ADD(sm.status[code], 1);
}

void
storemetrics_bytes(size_t n)
{
	SM_ADD(sm.bytes, (unsigned long)n);
}

void
storemetrics_records(size_t stored, size_t duplicates, size_t rejected)
{
	if (stored > 0)
		SM_ADD(sm.stored, (unsigned long)stored);
	if (duplicates > 0)
		SM_ADD(sm.duplicates, (unsigned long)duplicates);
	if (rejected > 0)
		SM_ADD(sm.rejected, (unsigned long)rejected);
}

void
storemetrics_auth_failed(void)
{
	SM_ADD(sm.auth_failed, 1);
}

/* One observation v into h, whose bounds are le (n of them). */
static void
sm_observe(struct sm_hist *h, const double *le, size_t n, double v)
{
	size_t i;
	double sum;

	for (i = 0; i < n && v > le[i]; i++)
		;
	SM_ADD(h->bucket[i], 1);
	/* one writer: a plain read, an atomic store for the scrape */
	sum = h->sum + v;
	__atomic_store(&h->sum, &sum, __ATOMIC_RELAXED);
	SM_ADD(h->count, 1);
}

void
storemetrics_commit(const struct store_group *first, int64_t us, bool ok)
{
	const struct store_group *g;
	size_t groups = 0, rows = 0;

	if (!ok) {
		SM_ADD(sm.commit_failed, 1);
		return;
	}
	for (g = first; g != NULL; g = g->next) {
		groups++;
		rows += g->n;
	}
	sm_observe(&sm.groups, sm_groups_le, SM_NBUCKETS(sm_groups_le) - 1,
	    (double)groups);
	sm_observe(&sm.rows, sm_rows_le, SM_NBUCKETS(sm_rows_le) - 1,
	    (double)rows);
	sm_observe(&sm.secs, sm_secs_le, SM_NBUCKETS(sm_secs_le) - 1,
	    (double)us / 1e6);
}

static void
sm_head(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
sm_counter(FILE *f, const char *name, const char *help, unsigned long v)
{
	sm_head(f, name, "counter", help);
	fprintf(f, "%s %lu\n", name, v);
}

static void
sm_gauge(FILE *f, const char *name, const char *help, unsigned long v)
{
	sm_head(f, name, "gauge", help);
	fprintf(f, "%s %lu\n", name, v);
}

/* A histogram; its buckets cumulative, as the format wants them. */
static void
sm_histogram(FILE *f, const char *name, const char *help,
    const struct sm_hist *h, const double *le, size_t n)
{
	unsigned long cum = 0;
	double sum;
	size_t i;

	sm_head(f, name, "histogram", help);
	for (i = 0; i <= n; i++) {
		cum += SM_GET(h->bucket[i]);
		if (i < n)
			fprintf(f, "%s_bucket{le=\"%g\"} %lu\n", name, le[i],
			    cum);
		else
			fprintf(f, "%s_bucket{le=\"+Inf\"} %lu\n", name, cum);
	}
	__atomic_load(&h->sum, &sum, __ATOMIC_RELAXED);
	/* the count is the +Inf bucket's, read once */
	fprintf(f, "%s_sum %.9g\n%s_count %lu\n", name, sum, name, cum);
}

char *
storemetrics_text(const struct storemetrics_gauges *g)
{
	char *text = NULL;
	size_t size = 0;
	unsigned code;
	FILE *f;

	if ((f = open_memstream(&text, &size)) == NULL)
		return NULL;
	sm_head(f, "sm_store_requests_total", "counter",
	    "HTTP answers sm-store gave, by status code.");
	for (code = 0; code < STOREMETRICS_CODE_MAX; code++)
		if (code == 200 || SM_GET(sm.status[code]) > 0)
			fprintf(f, "sm_store_requests_total{code=\"%u\"} %lu\n",
			    code, SM_GET(sm.status[code]));
	sm_head(f, "sm_store_records_total", "counter",
	    "Records received: stored, duplicate (already stored), rejected "
	    "(invalid, or refused by the database).");
	fprintf(f, "sm_store_records_total{outcome=\"stored\"} %lu\n"
	    "sm_store_records_total{outcome=\"duplicate\"} %lu\n"
	    "sm_store_records_total{outcome=\"rejected\"} %lu\n",
	    SM_GET(sm.stored), SM_GET(sm.duplicates), SM_GET(sm.rejected));
	sm_counter(f, "sm_store_received_bytes_total",
	    "Request body bytes received.", SM_GET(sm.bytes));
	sm_counter(f, "sm_store_auth_failures_total",
	    "Requests with a missing or wrong bearer token.",
	    SM_GET(sm.auth_failed));
	sm_histogram(f, "sm_store_commit_groups", "Requests committed in one "
	    "transaction (group commit).", &sm.groups, sm_groups_le,
	    SM_NBUCKETS(sm_groups_le) - 1);
	sm_histogram(f, "sm_store_commit_rows", "Rows committed in one "
	    "transaction.", &sm.rows, sm_rows_le,
	    SM_NBUCKETS(sm_rows_le) - 1);
	sm_histogram(f, "sm_store_commit_duration_seconds", "Time to store "
	    "and commit one transaction.", &sm.secs, sm_secs_le,
	    SM_NBUCKETS(sm_secs_le) - 1);
	sm_counter(f, "sm_store_commit_failures_total", "Transactions lost "
	    "with the database connection (their requests got 503).",
	    SM_GET(sm.commit_failed));
	sm_gauge(f, "sm_store_queue_groups", "Requests waiting for the "
	    "committer.", (unsigned long)g->queued_groups);
	sm_gauge(f, "sm_store_queue_rows", "Rows waiting for the committer.",
	    (unsigned long)g->queued_rows);
	sm_gauge(f, "sm_store_requests_in_flight", "POST requests received "
	    "and not yet answered.", g->inflight);
	sm_gauge(f, "sm_store_database_up", "1 while the database answers, "
	    "else 0.", g->db_up ? 1 : 0);
	sm_gauge(f, "sm_store_connections", "Open client connections "
	    "(within --max-connections).", g->connections);
	sm_counter(f, "sm_store_connections_cut_total", "Connections shut "
	    "down because their request took longer than --timeout.",
	    g->cut);
	if (fclose(f) == EOF) {
		free(text);
		return NULL;
	}
	return text;
}

void
storemetrics_reset(void)
{
	memset(&sm, 0, sizeof(sm));
}
