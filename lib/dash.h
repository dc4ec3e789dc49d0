/*
 * What sm-tail's dashboard shows, kept apart from drawing it (lib/cmd/dashview)
 * so that it can be tested: the newest row of each host and the recent
 * CPU and RAM figures of each (for sparklines), rows per second and the
 * split between data_sources over the rows that arrived lately, and which
 * host the detailed view shows.  Bounded: DASH_HOSTS hosts (the one idle
 * longest makes room), DASH_SOURCES sources (the rest count as "other").
 */
#ifndef SM_DASH_H
#define SM_DASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "row.h"

#define DASH_HISTORY 240	/* samples kept per host for sparklines */
#define DASH_HOSTS 64
#define DASH_SOURCES 8
#define DASH_SPLIT_SECONDS 60	/* the source split covers this long */
#define DASH_RATE_SECONDS 10	/* rows per second averages over this */
#define DASH_WARN_DEFAULT 75.0
#define DASH_OTHER "(other)"	/* sources past DASH_SOURCES */
#define DASH_INTERVAL_MAX_MS 3600000	/* longer gaps are outages (feed.c) */

struct dash_host {
	char name[RECORD_HOST_MAX + 1];	/* "" for rows without one */
	struct rowfmt_row last;	/* the newest sample */
	float cpu[DASH_HISTORY];	/* ring, in arrival order */
	float ram[DASH_HISTORY];
	int64_t ts[DASH_HISTORY];	/* the samples' times (wall clock) */
	size_t nhist;		/* samples held */
	size_t head;		/* where the next one goes */
	int64_t updated_ms;	/* when its last row arrived */
	int64_t interval_ms;	/* its usual interval; 0 before two rows */
};

struct dash_bucket {
	int64_t sec;		/* which second (monotonic) it counts */
	unsigned rows;
	unsigned by_source[DASH_SOURCES + 1];	/* the last: other */
};

struct dash {
	double warn;		/* percent above which a gauge warns */
	struct dash_host *hosts;	/* sorted by name */
	size_t nhosts;
	char selected[RECORD_HOST_MAX + 1];
	bool have_selected;
	char sources[DASH_SOURCES][ROWFMT_SOURCE_MAX + 1];
	size_t nsources;
	struct dash_bucket buckets[DASH_SPLIT_SECONDS];
	int64_t start_ms;
	unsigned long long live_rows;	/* rows that arrived while running */
};

struct dash_share {
	const char *source;
	unsigned rows;
	double percent;
};

/* 0, or -1 when out of memory. */
int dash_init(struct dash *d, double warn, int64_t now_ms);
void dash_free(struct dash *d);

/*
 * A row arrived at now_ms; live is false for the history read at start
 * (it counts neither for the rate nor for the split).
 */
void dash_add(struct dash *d, const struct rowfmt_row *row, bool live,
    int64_t now_ms);

/* The host the detailed view shows; NULL before any row. */
const struct dash_host *dash_selected(const struct dash *d);

/* Its index in d->hosts; -1 when none. */
long dash_selected_index(const struct dash *d);

/* Show the next (delta 1) or previous (-1) host, in name order. */
void dash_select(struct dash *d, int delta);

/* Rows per second over the last DASH_RATE_SECONDS whole seconds. */
double dash_rate(const struct dash *d, int64_t now_ms);

/*
 * The split of the rows of the last DASH_SPLIT_SECONDS between sources,
 * most rows first, into out (max entries).  Returns the entries written.
 */
size_t dash_shares(const struct dash *d, int64_t now_ms,
    struct dash_share *out, size_t max);

/*
 * How long h may stay silent before it is stale: as the page and
 * sm-tail --listen's /hosts (lib/feed.h), FEED_STALE_TIMES of its usual
 * interval (a moving average of the gaps between its rows' times), at
 * least FEED_STALE_MIN_MS.
 */
int64_t dash_stale_after(const struct dash_host *h);

/* Is h stale at wall_ms, the wall clock, by its newest row's time? */
bool dash_stale(const struct dash_host *h, int64_t wall_ms);

/*
 * The time the last width samples of h cover, as dash_spark shows them:
 * from the oldest of their times (in *oldest) to the newest, in ms; 0 with
 * one sample.  h holds one at least.
 */
int64_t dash_spark_span(const struct dash_host *h, size_t width,
    int64_t *oldest);

/* Is percent in the warning zone? */
bool dash_warns(const struct dash *d, double percent);

/*
 * The last samples of ring (nhist held, head the next slot) as a
 * sparkline width cells wide, newest on the right, scale 0..100: UTF-8
 * blocks, or ASCII when !utf8.  Left-padded with spaces when fewer
 * samples are held.  Returns the bytes written (NUL-terminated).
 */
size_t dash_spark(const float *ring, size_t nhist, size_t head,
    size_t width, bool utf8, char *out, size_t size);

#endif
