/*
 * alert-engine: the alert engine alone, without reading or parsing JSON.
 * Parses every record of FILE first, then feeds them all to an engine with
 * the rules of RULES (--replay time: each record's ts) PASSES times, and
 * prints the CPU nanoseconds per record fed.  Benchmark tool only.
 *
 *   alert-engine RULES FILE PASSES
 */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alert.h"

static unsigned long events;

static void
count(const struct alert_event *ev, void *arg)
{
	(void)ev;
	(void)arg;
	events++;
}

int
main(int argc, char *argv[])
{
	static struct alert_ruleset set;
	struct record *recs = NULL;
	size_t n = 0, cap = 0, i;
	char *line = NULL;
	struct why why;
	size_t lcap = 0;
	ssize_t len;
	struct timespec t0, t1;
	int pass, passes;
	FILE *f;

	if (argc != 4)
		errx(2, "usage: alert-engine rules file passes");
	passes = atoi(argv[3]);
	if (alert_ruleset_load(&set, argv[1], &why) == -1)
		errx(2, "%s: %s", argv[1], why.msg);
	if ((f = fopen(argv[2], "r")) == NULL)
		err(2, "%s", argv[2]);
	while ((len = getline(&line, &lcap, f)) != -1) {
		if (n == cap && (recs = realloc(recs, (cap = cap * 2 + 1024) *
		    sizeof(*recs))) == NULL)
			err(1, "realloc");
		if (record_parse(line, (size_t)len, &recs[n], &why) == -1)
			errx(1, "line %zu: %s", n + 1, why.msg);
		n++;
	}
	fclose(f);
	free(line);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
	for (pass = 0; pass < passes; pass++) {
		/* a fresh engine each pass: the same events every time */
		struct alert_engine *e = alert_new(set.rules, set.n, count,
		    NULL);

		if (e == NULL)
			errx(1, "alert_new");
		for (i = 0; i < n; i++)
			if (alert_feed(e, &recs[i],
			    alert_at(recs[i].ts_ms)) == -1)
				errx(1, "alert_feed");
		alert_free(e);
	}
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
	printf("%.1f ns/record, %zu rules, %lu events/pass\n",
	    ((double)(t1.tv_sec - t0.tv_sec) * 1e9 +
	    (double)(t1.tv_nsec - t0.tv_nsec)) / ((double)n * passes), set.n,
	    events / (unsigned long)passes);
	free(recs);
	return 0;
}
