/*
 * The dashboard's model, apart from drawing: hosts' newest rows,
 * staleness and sparklines, rates, sources' shares, the selected host
 * (dash.h).
 */
#include <stdlib.h>
#include <string.h>

#include "dash.h"
#include "feed.h"

int
dash_init(struct dash *d, double warn, int64_t now_ms)
{
	memset(d, 0, sizeof(*d));
	d->warn = warn;
	d->start_ms = now_ms;
	if ((d->hosts = calloc(DASH_HOSTS, sizeof(*d->hosts))) == NULL)
		return -1;
	return 0;
}

void
dash_free(struct dash *d)
{
	free(d->hosts);
	memset(d, 0, sizeof(*d));
}

/* The host named name: found, or made (room made by evicting). */
static struct dash_host *
dash_host(struct dash *d, const char *name, int64_t now_ms)
{
	size_t i, at;

	for (i = 0; i < d->nhosts; i++) {
		int c = strcmp(d->hosts[i].name, name);

		if (c == 0)
			return &d->hosts[i];
		if (c > 0)
			break;
	}
	at = i;
	if (d->nhosts == DASH_HOSTS) {
		size_t victim = DASH_HOSTS;

		/* the host idle longest, never the one on show */
		for (i = 0; i < d->nhosts; i++) {
			if (d->have_selected &&
			    strcmp(d->hosts[i].name, d->selected) == 0)
				continue;
			if (victim == DASH_HOSTS || d->hosts[i].updated_ms <
			    d->hosts[victim].updated_ms)
				victim = i;
		}
		memmove(&d->hosts[victim], &d->hosts[victim + 1],
		    (d->nhosts - victim - 1) * sizeof(d->hosts[0]));
		d->nhosts--;
		if (victim < at)
			at--;
	}
	memmove(&d->hosts[at + 1], &d->hosts[at],
	    (d->nhosts - at) * sizeof(d->hosts[0]));
	memset(&d->hosts[at], 0, sizeof(d->hosts[0]));
	strcpy(d->hosts[at].name, name);
	d->hosts[at].updated_ms = now_ms;
	d->nhosts++;
	return &d->hosts[at];
}

/* The bucket index of source (DASH_SOURCES for "other"). */
static size_t
dash_source(struct dash *d, const char *source)
{
	size_t i;

	for (i = 0; i < d->nsources; i++)
		if (strcmp(d->sources[i], source) == 0)
			return i;
	if (d->nsources == DASH_SOURCES)
		return DASH_SOURCES;
	strcpy(d->sources[d->nsources], source);
	return d->nsources++;
}

static int64_t
dash_sec(int64_t ms)
{
	return ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
}

void
dash_add(struct dash *d, const struct rowfmt_row *row, bool live,
    int64_t now_ms)
{
	struct dash_host *h = dash_host(d, row->rec.host, now_ms);
	const struct rowfmt_row *last = &h->last;
	int64_t delta = row->rec.ts_ms - last->rec.ts_ms;

	/* the usual interval: a moving average of the gaps, as lib/feed.c */
	if (h->nhist > 0 && delta > 0 && delta <= DASH_INTERVAL_MAX_MS)
		h->interval_ms = h->interval_ms > 0 ?
		    (3 * h->interval_ms + delta) / 4 : delta;
	/* the newest sample; rows filling holes may come later */
	if (h->nhist == 0 || row->rec.ts_ms > last->rec.ts_ms ||
	    (row->rec.ts_ms == last->rec.ts_ms && row->id > last->id))
		h->last = *row;
	h->cpu[h->head] = (float)row->rec.cpu_usage;
	h->ram[h->head] = (float)row->rec.ram_percentage;
	h->ts[h->head] = row->rec.ts_ms;
	h->head = (h->head + 1) % DASH_HISTORY;
	if (h->nhist < DASH_HISTORY)
		h->nhist++;
	h->updated_ms = now_ms;
	/* at start, show the host of the newest row; then stay put */
	if (!live || !d->have_selected) {
		strcpy(d->selected, row->rec.host);
		d->have_selected = true;
	}
	if (live) {
		int64_t sec = dash_sec(now_ms);
		struct dash_bucket *b = &d->buckets[(uint64_t)sec %
		    DASH_SPLIT_SECONDS];

		if (b->sec != sec) {
			memset(b, 0, sizeof(*b));
			b->sec = sec;
		}
		b->rows++;
		b->by_source[dash_source(d, row->source)]++;
		d->live_rows++;
	}
}

long
dash_selected_index(const struct dash *d)
{
	size_t i;

	if (!d->have_selected)
		return -1;
	for (i = 0; i < d->nhosts; i++)
		if (strcmp(d->hosts[i].name, d->selected) == 0)
			return (long)i;
	return -1;
}

const struct dash_host *
dash_selected(const struct dash *d)
{
	long i = dash_selected_index(d);

	return i >= 0 ? &d->hosts[i] : NULL;
}

void
dash_select(struct dash *d, int delta)
{
	long i = dash_selected_index(d), n = (long)d->nhosts;

	if (n == 0)
		return;
	i = i < 0 ? 0 : ((i + delta) % n + n) % n;
	strcpy(d->selected, d->hosts[i].name);
	d->have_selected = true;
}

double
dash_rate(const struct dash *d, int64_t now_ms)
{
	int64_t now = dash_sec(now_ms), span;
	unsigned long rows = 0;
	size_t i;

	/* whole seconds only: the current one is still filling */
	for (i = 0; i < DASH_SPLIT_SECONDS; i++)
		if (d->buckets[i].sec < now &&
		    d->buckets[i].sec >= now - DASH_RATE_SECONDS &&
		    d->buckets[i].rows > 0)
			rows += d->buckets[i].rows;
	span = now - dash_sec(d->start_ms);
	if (span > DASH_RATE_SECONDS)
		span = DASH_RATE_SECONDS;
	if (span < 1)
		span = 1;
	return (double)rows / (double)span;
}

static int
dash_share_cmp(const void *a, const void *b)
{
	const struct dash_share *x = a, *y = b;

	if (x->rows != y->rows)
		return x->rows < y->rows ? 1 : -1;
	return strcmp(x->source, y->source);
}

size_t
dash_shares(const struct dash *d, int64_t now_ms, struct dash_share *out,
    size_t max)
{
	unsigned counts[DASH_SOURCES + 1] = { 0 }, total = 0;
	int64_t now = dash_sec(now_ms);
	struct dash_share all[DASH_SOURCES + 1];
	size_t i, j, n = 0;

	for (i = 0; i < DASH_SPLIT_SECONDS; i++) {
		const struct dash_bucket *b = &d->buckets[i];

		if (b->rows == 0 || b->sec > now ||
		    b->sec <= now - DASH_SPLIT_SECONDS)
			continue;
		for (j = 0; j <= DASH_SOURCES; j++)
			counts[j] += b->by_source[j];
		total += b->rows;
	}
	if (total == 0)
		return 0;
	for (j = 0; j <= DASH_SOURCES; j++) {
		if (counts[j] == 0)
			continue;
		all[n].source = j < DASH_SOURCES ? d->sources[j] : DASH_OTHER;
		all[n].rows = counts[j];
		all[n].percent = 100.0 * counts[j] / total;
		n++;
	}
	qsort(all, n, sizeof(all[0]), dash_share_cmp);
	if (n > max)
		n = max;
	memcpy(out, all, n * sizeof(all[0]));
	return n;
}

int64_t
dash_stale_after(const struct dash_host *h)
{
	int64_t t = FEED_STALE_TIMES * h->interval_ms;

	return t > FEED_STALE_MIN_MS ? t : FEED_STALE_MIN_MS;
}

bool
dash_stale(const struct dash_host *h, int64_t wall_ms)
{
	return h->nhist > 0 &&
	    wall_ms - h->last.rec.ts_ms > dash_stale_after(h);
}

int64_t
dash_spark_span(const struct dash_host *h, size_t width, int64_t *oldest)
{
	size_t shown = h->nhist < width ? h->nhist : width, i;
	int64_t lo = INT64_MAX, hi = INT64_MIN;

	*oldest = h->last.rec.ts_ms;
	if (shown < 2)
		return 0;
	/* the times, not the ring's ends: rows filling holes come late */
	for (i = 1; i <= shown; i++) {
		int64_t t = h->ts[(h->head + DASH_HISTORY - i) % DASH_HISTORY];

		if (t < lo)
			lo = t;
		if (t > hi)
			hi = t;
	}
	*oldest = lo;
	return hi - lo;
}

bool
dash_warns(const struct dash *d, double percent)
{
	return percent > d->warn;
}

size_t
dash_spark(const float *ring, size_t nhist, size_t head, size_t width,
    bool utf8, char *out, size_t size)
{
	static const char *const blocks[8] = {
		"\u2581", "\u2582", "\u2583", "\u2584",
		"\u2585", "\u2586", "\u2587", "\u2588"
	};
	static const char ascii[8] = "_.-:=+*#";
	size_t shown = nhist < width ? nhist : width, i, len = 0;

	if (size == 0)
		return 0;
	for (i = shown; i < width && len + 1 < size; i++)
		out[len++] = ' ';
	for (i = 0; i < shown; i++) {
		/* the sample shown - i places back from the newest */
		size_t at = (head + DASH_HISTORY - (shown - i)) % DASH_HISTORY;
		float v = ring[at];
		int level;

		if (v < 0)
			v = 0;
		if (v > 100)
			v = 100;
		level = (int)(v / 100.0f * 7.0f + 0.5f);
		if (utf8) {
			if (len + 4 >= size)
				break;
			memcpy(out + len, blocks[level], 3);
			len += 3;
		} else {
			if (len + 1 >= size)
				break;
			out[len++] = ascii[level];
		}
	}
	out[len] = '\0';
	return len;
}
