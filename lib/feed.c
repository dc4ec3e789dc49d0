/*
 * sm-tail --listen's data, apart from HTTP: the ring of rows with their SSE
 * text, the ring of events, newest row per host and source (bounded),
 * clients, JSON and /metrics (feed.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "feed.h"
#include "feed_impl.h"
#include "hash.h"
#include "jsonutil.h"
#include "timefmt.h"

#define FEED_INTERVAL_MAX_MS 3600000	/* longer gaps are outages */

/* A table of at least 2 * max_pairs buckets (a power of two), or NULL. */
static struct feed_pair **
feed_buckets(size_t max_pairs, size_t *n)
{
	size_t want = 64;

	while (want < 2 * max_pairs)
		want *= 2;
	*n = want;
	return calloc(want, sizeof(struct feed_pair *));
}

int
feed_init(struct feed *f, size_t cap, int64_t stale_ms, double warn)
{
	memset(f, 0, sizeof(*f));
	f->warn = warn;
	f->cap = cap > 0 ? cap : FEED_BACKLOG_DEFAULT;
	f->stale_ms = stale_ms;
	f->max_pairs = FEED_PAIRS_DEFAULT;
	f->forget_ms = FEED_FORGET_DEFAULT_MS;
	if ((f->ring = calloc(f->cap, sizeof(*f->ring))) == NULL)
		return -1;
	if ((f->events = calloc(FEED_EVENTS, sizeof(*f->events))) == NULL)
		goto out_free_ring;
	if ((f->buckets = feed_buckets(f->max_pairs, &f->nbuckets)) == NULL)
		goto out_free_events;
	return 0;
out_free_events:
	free(f->events);
	f->events = NULL;
out_free_ring:
	free(f->ring);
	f->ring = NULL;
	return -1;
}

int
feed_limit(struct feed *f, size_t max_pairs, int64_t forget_ms)
{
	struct feed_pair **b;
	size_t n;

	if (max_pairs < 1 || max_pairs > FEED_PAIRS_MAX || f->npairs > 0)
		return -1;
	if ((b = feed_buckets(max_pairs, &n)) == NULL)
		return -1;
	free(f->buckets);
	f->buckets = b;
	f->nbuckets = n;
	f->max_pairs = max_pairs;
	f->forget_ms = forget_ms;
	return 0;
}

void
feed_free(struct feed *f)
{
	struct feed_pair *p, *older;
	size_t i;

	while (f->clients != NULL)
		feed_client_free(f, f->clients);
	for (i = 0; i < f->cap && f->ring != NULL; i++)
		free(f->ring[i].text);
	for (i = 0; i < FEED_EVENTS && f->events != NULL; i++)
		free(f->events[i].text);
	for (p = f->newest; p != NULL; p = older) {
		older = p->older;
		free(p);
	}
	free(f->ring);
	free(f->events);
	free(f->buckets);
	memset(f, 0, sizeof(*f));
}

/* The oldest seq the ring still holds. */
static uint64_t
feed_oldest(const struct feed *f)
{
	return f->next > f->cap ? f->next - f->cap : 0;
}

static struct feed_entry *
feed_at(const struct feed *f, uint64_t seq)
{
	return &f->ring[seq % f->cap];
}

/* The oldest event seq the event ring still holds. */
static uint64_t
feed_eoldest(const struct feed *f)
{
	return f->enext > FEED_EVENTS ? f->enext - FEED_EVENTS : 0;
}

/*
 * Append a row (row) or an event (NULL) whose text is taken; clients it
 * overtakes are cut.
 */
static void
feed_push(struct feed *f, enum feed_kind kind, const struct rowfmt_row *row,
    char *text, size_t len)
{
	struct feed_entry *e;
	struct feed_client *c;
	uint64_t oldest, eoldest;

	if (row != NULL)
		e = feed_at(f, f->next);
	else
		e = &f->events[f->enext % FEED_EVENTS];
	free(e->text);
	e->seq = row != NULL ? f->next++ : f->enext++;
	e->kind = kind;
	if (row != NULL)
		e->row = *row;
	e->text = text;
	e->len = len;
	oldest = feed_oldest(f);
	eoldest = feed_eoldest(f);
	for (c = f->clients; c != NULL; c = c->next)
		if (!c->cut && (c->cursor < oldest || c->ecursor < eoldest)) {
			c->cut = true;
			f->cut++;
		}
}

/* A JSON string literal for s, newly allocated; NULL when out of memory. */
static char *
feed_json_string(const char *s)
{
	struct json_object *o = json_object_new_string(s);
	char *out;

	if (o == NULL)
		return NULL;
	out = strdup(json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return out;
}

/* The bucket of host: every pair of the host is on its chain. */
static struct feed_pair **
feed_bucket(const struct feed *f, const char *host)
{
	return &f->buckets[hash_string(host) & (f->nbuckets - 1)];
}

struct feed_pair *
feed_pair_get(const struct feed *f, const char *host, const char *source)
{
	struct feed_pair *p;

	for (p = *feed_bucket(f, host); p != NULL; p = p->hnext)
		if (strcmp(p->row.rec.host, host) == 0 &&
		    strcmp(p->row.source, source) == 0)
			return p;
	return NULL;
}

/* Is q a pair of the host of p? */
static bool
feed_same_host(const struct feed_pair *p, const struct feed_pair *q)
{
	return strcmp(p->row.rec.host, q->row.rec.host) == 0;
}

/* The newest row's pair of the host of p. */
static const struct feed_pair *
feed_host_newest(const struct feed *f, const struct feed_pair *p)
{
	const struct feed_pair *q, *best = p;

	for (q = *feed_bucket(f, p->row.rec.host); q != NULL; q = q->hnext)
		if (feed_same_host(p, q) && q->row.rec.ts_ms >
		    best->row.rec.ts_ms)
			best = q;
	return best;
}

/* Take p off the list by when last heard from. */
static void
feed_pair_unlist(struct feed *f, struct feed_pair *p)
{
	if (p->older != NULL)
		p->older->newer = p->newer;
	else
		f->oldest = p->newer;
	if (p->newer != NULL)
		p->newer->older = p->older;
	else
		f->newest = p->older;
	p->older = p->newer = NULL;
}

/* Put p at the newest end of that list. */
static void
feed_pair_list(struct feed *f, struct feed_pair *p)
{
	p->older = f->newest;
	p->newer = NULL;
	if (f->newest != NULL)
		f->newest->newer = p;
	else
		f->oldest = p;
	f->newest = p;
}

/* Drop p: off its chain and the list, freed. */
static void
feed_pair_drop(struct feed *f, struct feed_pair *p)
{
	struct feed_pair **pp = feed_bucket(f, p->row.rec.host);

	while (*pp != p)
		pp = &(*pp)->hnext;
	*pp = p->hnext;
	feed_pair_unlist(f, p);
	f->npairs--;
	free(p);
}

size_t
feed_forget(struct feed *f, int64_t now_ms)
{
	struct feed_pair *p, *newer;
	size_t n = 0;

	f->clock_ms = now_ms;
	if (now_ms - f->swept_ms < 1000 && now_ms >= f->swept_ms)
		return 0;
	f->swept_ms = now_ms;
	/* the list is by when heard from: the silent are at its start */
	for (p = f->oldest; p != NULL && now_ms - p->heard_ms > f->forget_ms;
	    p = newer) {
		newer = p->newer;
		feed_pair_drop(f, p);
		n++;
	}
	f->evicted_silent += n;
	return n;
}

/*
 * A new pair for row, made room for: the pair heard from least recently
 * goes when there are max_pairs.  NULL when out of memory.
 */
static struct feed_pair *
feed_pair_new(struct feed *f, const struct rowfmt_row *row)
{
	struct feed_pair **b, *p;

	if (f->npairs >= f->max_pairs && f->oldest != NULL) {
		feed_pair_drop(f, f->oldest);
		f->evicted_full++;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->row = *row;
	p->heard_ms = f->clock_ms;
	b = feed_bucket(f, row->rec.host);
	p->hnext = *b;
	*b = p;
	feed_pair_list(f, p);
	f->npairs++;
	return p;
}

/* Keep row as the newest of its pair; learn its host's interval. */
static void
feed_pair_update(struct feed *f, const struct rowfmt_row *row)
{
	struct feed_pair *p, *q;
	int64_t prev = -1, delta, iv;

	if ((p = feed_pair_get(f, row->rec.host, row->source)) == NULL) {
		if ((p = feed_pair_new(f, row)) == NULL)
			return;	/* out of memory: not tracked */
		/* a host seen from another source already has its interval */
		for (q = *feed_bucket(f, row->rec.host); q != NULL;
		    q = q->hnext) {
			if (q == p || !feed_same_host(p, q))
				continue;
			if (q->interval_ms > 0)
				p->interval_ms = q->interval_ms;
			if (q->row.rec.ts_ms > prev)
				prev = q->row.rec.ts_ms;
		}
		if (prev < 0)
			return;
	} else {
		prev = feed_host_newest(f, p)->row.rec.ts_ms;
		if (row->rec.ts_ms >= p->row.rec.ts_ms)
			p->row = *row;
		feed_pair_unlist(f, p);
		feed_pair_list(f, p);
		p->heard_ms = f->clock_ms;
	}
	/* the usual interval: a moving average of the gaps between rows */
	delta = row->rec.ts_ms - prev;
	if (delta <= 0 || delta > FEED_INTERVAL_MAX_MS)
		return;
	iv = p->interval_ms;
	iv = iv > 0 ? (3 * iv + delta) / 4 : delta;
	for (q = *feed_bucket(f, row->rec.host); q != NULL; q = q->hnext)
		if (feed_same_host(p, q))
			q->interval_ms = iv;
}

int
feed_add_row(struct feed *f, const struct rowfmt_row *row)
{
	char line[ROWFMT_LINE_MAX], *src, *text;
	int n, len;

	if ((n = record_format(&row->rec, RECORD_CANONICAL, line,
	    sizeof(line))) == -1)
		return -1;
	line[n - 1] = '\0';	/* the newline */
	if ((src = feed_json_string(row->source)) == NULL)
		return -1;
	/* two data lines: the record as --format ndjson prints it, then
	 * where it came from, which the canonical record does not hold */
	len = asprintf(&text, "id: %llu\ndata: %s\ndata: {\"source\":%s}\n\n",
	    row->id, line, src);
	free(src);
	if (len < 0)
		return -1;
	feed_push(f, FEED_ROW, row, text, (size_t)len);
	feed_pair_update(f, row);
	f->rows++;
	return 0;
}

/* The status event's text: the database state and the page's settings. */
static int
feed_status_text(const struct feed *f, char **text)
{
	return asprintf(text, "event: status\ndata: {\"database\":\"%s\","
	    "\"stale_seconds\":%.3f,\"warn\":%.3f}\n\n",
	    f->db_up ? "up" : "down", (double)f->stale_ms / 1000, f->warn);
}

int
feed_set_db(struct feed *f, bool up)
{
	char *text;
	int len;

	if (f->db_up == up)
		return 0;
	f->db_up = up;
	if ((len = feed_status_text(f, &text)) < 0)
		return -1;
	feed_push(f, FEED_STATUS, NULL, text, (size_t)len);
	return 0;
}

int
feed_add_alert(struct feed *f, const char *json, size_t len)
{
	static const char head[] = "event: alert\ndata: ";
	char *text;

	if ((text = malloc(sizeof(head) - 1 + len + 3)) == NULL)
		return -1;
	memcpy(text, head, sizeof(head) - 1);
	memcpy(text + sizeof(head) - 1, json, len);
	memcpy(text + sizeof(head) - 1 + len, "\n\n", 3);
	feed_push(f, FEED_ALERT, NULL, text, sizeof(head) - 1 + len + 2);
	return 0;
}

/* Does row pass the filters (NULL: any)? */
static bool
feed_match(const struct rowfmt_row *row, const char *host,
    const char *source, int64_t since_ms)
{
	if (host != NULL && strcmp(row->rec.host, host) != 0)
		return false;
	if (source != NULL && strcmp(row->source, source) != 0)
		return false;
	return since_ms < 0 || row->rec.ts_ms >= since_ms;
}

/* Set c's pending head text (taken), after what is left of the last. */
static int
feed_client_head(struct feed_client *c, const char *add)
{
	size_t left = c->head != NULL ? c->head_len - c->head_off : 0;
	size_t alen = strlen(add);
	char *h;

	if ((h = malloc(left + alen + 1)) == NULL)
		return -1;
	if (left > 0)
		memcpy(h, c->head + c->head_off, left);
	memcpy(h + left, add, alen + 1);
	free(c->head);
	c->head = h;
	c->head_len = left + alen;
	c->head_off = 0;
	return 0;
}

struct feed_client *
feed_client_new(struct feed *f, const char *host, const char *source,
    bool have_last, uint64_t last_id, size_t n)
{
	struct feed_client *c;
	char *status = NULL, *pre = NULL;
	uint64_t seq, oldest = feed_oldest(f);

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->fd = -1;
	if ((host != NULL && (c->host = strdup(host)) == NULL) ||
	    (source != NULL && (c->source = strdup(source)) == NULL))
		goto out_free;
	c->cursor = f->next;
	c->ecursor = f->enext;	/* the preamble says where the database is */
	if (have_last) {
		/* exactly the entries after that row, when the ring has it */
		for (seq = f->next; seq > oldest; seq--) {
			const struct feed_entry *e = feed_at(f, seq - 1);

			if (e->kind == FEED_ROW && e->row.id == last_id)
				break;
		}
		if (seq > oldest) {
			c->cursor = seq;
		} else {
			c->cursor = oldest;
			c->after_id = last_id;
			c->after_until = f->next;
		}
	} else {
		for (seq = f->next; seq > oldest && n > 0; seq--) {
			const struct feed_entry *e = feed_at(f, seq - 1);

			if (e->kind == FEED_ROW && feed_match(&e->row, host,
			    source, -1))
				n--;
		}
		c->cursor = seq;
	}
	/* the reconnect delay, then where the database stands */
	if (feed_status_text(f, &status) < 0)
		goto out_free;
	if (asprintf(&pre, "retry: %d\n\n%s", FEED_RETRY_MS, status) < 0) {
		pre = NULL;
		goto out_free;
	}
	if (feed_client_head(c, pre) == -1)
		goto out_free;
	free(status);
	free(pre);
	c->next = f->clients;
	if (f->clients != NULL)
		f->clients->prev = c;
	f->clients = c;
	f->nclients++;
	f->served++;
	return c;
out_free:
	free(status);
	free(pre);
	free(c->host);
	free(c->source);
	free(c);
	return NULL;
}

void
feed_client_free(struct feed *f, struct feed_client *c)
{
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		f->clients = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	f->nclients--;
	free(c->head);
	free(c->host);
	free(c->source);
	free(c);
}

void
feed_ping(struct feed *f)
{
	struct feed_client *c;

	/* out of memory: that client goes without this keepalive */
	for (c = f->clients; c != NULL; c = c->next)
		(void)feed_client_head(c, ": keepalive\n\n");
}

/* Does row e go to client c? */
static bool
feed_wants(const struct feed_client *c, const struct feed_entry *e)
{
	if (e->seq < c->after_until && e->row.id <= c->after_id)
		return false;
	return feed_match(&e->row, c->host, c->source, -1);
}

/*
 * Copy what is left of e (*off bytes of it sent) into buf, up to max
 * bytes; once it is all sent, on to the next entry (*cursor).  The bytes.
 */
static size_t
feed_copy(const struct feed_entry *e, size_t *off, uint64_t *cursor,
    char *buf, size_t max)
{
	size_t k = e->len - *off;

	if (k > max)
		k = max;
	memcpy(buf, e->text + *off, k);
	*off += k;
	if (*off == e->len) {
		*off = 0;
		(*cursor)++;
	}
	return k;
}

long
feed_client_read(struct feed *f, struct feed_client *c, char *buf,
    size_t max)
{
	size_t got = 0, k;

	if (c->cut)
		return -1;
	if (c->head != NULL) {
		k = c->head_len - c->head_off;
		if (k > max)
			k = max;
		memcpy(buf, c->head + c->head_off, k);
		got += k;
		c->head_off += k;
		if (c->head_off < c->head_len)
			return (long)got;
		free(c->head);
		c->head = NULL;
	}
	while (got < max) {
		const struct feed_entry *e;
		bool event;

		/* a row begun first, then the events, then the rows */
		event = c->off == 0 && c->ecursor < f->enext;
		if (!event && c->cursor >= f->next)
			break;
		e = event ? &f->events[c->ecursor % FEED_EVENTS] :
		    feed_at(f, c->cursor);
		if (!event && c->off == 0 && !feed_wants(c, e)) {
			c->cursor++;
			continue;
		}
		got += feed_copy(e, event ? &c->eoff : &c->off,
		    event ? &c->ecursor : &c->cursor, buf + got, max - got);
	}
	if (got == 0 && f->ending)
		return -2;
	return (long)got;
}

/* {"row":ID,"source":S,"record":{...}}; NULL when out of memory. */
static struct json_object *
feed_row_json(const struct rowfmt_row *row)
{
	struct json_object *o, *rec;

	if ((o = json_object_new_object()) == NULL)
		return NULL;
	if ((rec = record_to_json(&row->rec, RECORD_CANONICAL)) == NULL) {
		json_object_put(o);
		return NULL;
	}
	json_object_object_add(o, "row", json_object_new_uint64(row->id));
	json_object_object_add(o, "source",
	    json_object_new_string(row->source));
	json_object_object_add(o, "record", rec);
	return o;
}

/* The text of a JSON value, newly allocated; the value is put. */
static char *
feed_json_text(struct json_object *v)
{
	char *out;

	out = strdup(json_object_to_json_string_ext(v,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(v);
	return out;
}

char *
feed_rows_json(const struct feed *f, size_t n, const char *host,
    const char *source, int64_t since_ms)
{
	struct json_object *a, *o;
	uint64_t seq, oldest = feed_oldest(f);

	if ((a = json_object_new_array()) == NULL)
		return NULL;
	/* back to the nth matching row, then forward: oldest first */
	for (seq = f->next; seq > oldest && n > 0; seq--) {
		const struct feed_entry *e = feed_at(f, seq - 1);

		if (e->kind == FEED_ROW && feed_match(&e->row, host, source,
		    since_ms))
			n--;
	}
	for (; seq < f->next; seq++) {
		const struct feed_entry *e = feed_at(f, seq);

		if (e->kind != FEED_ROW || !feed_match(&e->row, host, source,
		    since_ms))
			continue;
		if ((o = feed_row_json(&e->row)) == NULL ||
		    json_object_array_add(a, o) != 0) {
			json_object_put(o);
			json_object_put(a);
			return NULL;
		}
	}
	return feed_json_text(a);
}

/* The stale threshold of the host of p. */
static int64_t
feed_stale_after(const struct feed *f, const struct feed_pair *p)
{
	int64_t t = FEED_STALE_TIMES * p->interval_ms;

	if (f->stale_ms > 0)
		return f->stale_ms;
	return t > FEED_STALE_MIN_MS ? t : FEED_STALE_MIN_MS;
}

/* Milliseconds since the row of p, at least 0. */
static int64_t
feed_age(const struct feed_pair *p, int64_t now_ms)
{
	int64_t age = now_ms - p->row.rec.ts_ms;

	return age > 0 ? age : 0;
}

bool
feed_pair_stale(const struct feed *f, const struct feed_pair *p,
    int64_t now_ms)
{
	return feed_age(feed_host_newest(f, p), now_ms) >
	    feed_stale_after(f, p);
}

static int
feed_pair_cmp(const void *a, const void *b)
{
	const struct feed_pair *p = *(const struct feed_pair *const *)a;
	const struct feed_pair *q = *(const struct feed_pair *const *)b;
	int c = strcmp(p->row.rec.host, q->row.rec.host);

	return c != 0 ? c : strcmp(p->row.source, q->row.source);
}

/*
 * The pairs sorted by host, then source, into *out (malloc'd; NULL when
 * none); -1 when out of memory.
 */
static int
feed_sorted(const struct feed *f, struct feed_pair ***out)
{
	struct feed_pair *p, **v;
	size_t n = 0;

	*out = NULL;
	if (f->npairs == 0)
		return 0;
	if ((v = calloc(f->npairs, sizeof(*v))) == NULL)
		return -1;
	for (p = f->oldest; p != NULL && n < f->npairs; p = p->newer)
		v[n++] = p;
	qsort(v, n, sizeof(*v), feed_pair_cmp);
	*out = v;
	return 0;
}

char *
feed_hosts_json(const struct feed *f, int64_t now_ms)
{
	struct json_object *a, *o;
	struct feed_pair **v;
	const struct feed_pair *b;
	size_t i, j;
	char ts[TIMEFMT_RFC3339_LEN];

	if ((a = json_object_new_array()) == NULL)
		return NULL;
	if (feed_sorted(f, &v) == -1)
		goto out_put;
	for (i = 0; i < f->npairs; i = j) {
		for (j = i + 1; j < f->npairs && feed_same_host(v[i], v[j]);
		    j++)
			;
		b = feed_host_newest(f, v[i]);
		if ((o = feed_row_json(&b->row)) == NULL)
			goto out_free;
		json_object_object_add(o, "host",
		    json_object_new_string(b->row.rec.host));
		timefmt_rfc3339(b->row.rec.ts_ms, ts, sizeof(ts));
		json_object_object_add(o, "ts", json_object_new_string(ts));
		json_object_object_add(o, "age_seconds",
		    jsonutil_seconds(feed_age(b, now_ms)));
		json_object_object_add(o, "interval_seconds",
		    jsonutil_seconds(b->interval_ms));
		json_object_object_add(o, "stale_after_seconds",
		    jsonutil_seconds(feed_stale_after(f, b)));
		json_object_object_add(o, "stale", json_object_new_boolean(
		    feed_pair_stale(f, b, now_ms)));
		if (json_object_array_add(a, o) != 0) {
			json_object_put(o);
			goto out_free;
		}
	}
	free(v);
	return feed_json_text(a);
out_free:
	free(v);
out_put:
	json_object_put(a);
	return NULL;
}

void
feed_label(FILE *out, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(out, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", out);
		else
			fputc(*s, out);
	}
}

/* One gauge: its help, its type, then a sample per pair from value. */
struct feed_gauge {
	const char *name;
	const char *help;
	const char *state;	/* a "state" label value; NULL: none */
	double (*value)(const struct feed *f, const struct feed_pair *p,
	    int64_t now_ms);
};

static double
feed_v_cpu(const struct feed *f, const struct feed_pair *p, int64_t now_ms)
{
	(void)f;
	(void)now_ms;
	return p->row.rec.cpu_usage;
}

static double
feed_v_ram_pct(const struct feed *f, const struct feed_pair *p,
    int64_t now_ms)
{
	(void)f;
	(void)now_ms;
	return p->row.rec.ram_percentage;
}

#define FEED_MIB(field)							\
static double								\
feed_v_##field(const struct feed *f, const struct feed_pair *p,		\
    int64_t now_ms)							\
{									\
	(void)f;							\
	(void)now_ms;							\
	return (double)p->row.rec.field * 1048576.0;			\
}
FEED_MIB(ram_total)
FEED_MIB(ram_used)
FEED_MIB(ram_free)
FEED_MIB(ram_available)

#define FEED_COUNT(field)						\
static double								\
feed_v_##field(const struct feed *f, const struct feed_pair *p,		\
    int64_t now_ms)							\
{									\
	(void)f;							\
	(void)now_ms;							\
	return (double)p->row.rec.field;				\
}
FEED_COUNT(total_processes)
FEED_COUNT(running_processes)
FEED_COUNT(sleeping_processes)
FEED_COUNT(stopped_processes)
FEED_COUNT(zombie_processes)

static double
feed_v_seen(const struct feed *f, const struct feed_pair *p, int64_t now_ms)
{
	(void)f;
	(void)now_ms;
	return (double)p->row.rec.ts_ms / 1000;
}

static double
feed_v_age(const struct feed *f, const struct feed_pair *p, int64_t now_ms)
{
	(void)f;
	return (double)feed_age(p, now_ms) / 1000;
}

/* The pair's own silence, not its host's: a source that stopped shows. */
static double
feed_v_stale(const struct feed *f, const struct feed_pair *p, int64_t now_ms)
{
	return feed_age(p, now_ms) > feed_stale_after(f, p) ? 1 : 0;
}

static const struct feed_gauge feed_gauges[] = {
	{ "sm_host_cpu_usage_percent", "CPU busy, percent, newest row",
	    NULL, feed_v_cpu },
	{ "sm_host_ram_used_percent", "RAM used, percent, newest row",
	    NULL, feed_v_ram_pct },
	{ "sm_host_ram_total_bytes", "RAM in all, newest row", NULL,
	    feed_v_ram_total },
	{ "sm_host_ram_used_bytes", "RAM used, newest row", NULL,
	    feed_v_ram_used },
	{ "sm_host_ram_free_bytes", "RAM free, newest row", NULL,
	    feed_v_ram_free },
	{ "sm_host_ram_available_bytes", "RAM available, newest row", NULL,
	    feed_v_ram_available },
	{ "sm_host_processes_all", "Processes in all, newest row", NULL,
	    feed_v_total_processes },
	{ "sm_host_processes", "Processes by state, newest row", "running",
	    feed_v_running_processes },
	{ NULL, NULL, "sleeping", feed_v_sleeping_processes },
	{ NULL, NULL, "stopped", feed_v_stopped_processes },
	{ NULL, NULL, "zombie", feed_v_zombie_processes },
	{ "sm_host_last_seen_timestamp_seconds",
	    "Sample time of the newest row", NULL, feed_v_seen },
	{ "sm_host_age_seconds", "Seconds since the sample time of the newest "
	    "row", NULL, feed_v_age },
	{ "sm_host_stale", "1 when this source sent no row of the host for "
	    "its stale time (dropped after --forget)", NULL, feed_v_stale },
};

char *
feed_metrics_text(const struct feed *f, int64_t now_ms)
{
	const size_t ngauges = sizeof(feed_gauges) / sizeof(feed_gauges[0]);
	const char *name = NULL;
	struct feed_pair **v;
	char *text = NULL;
	size_t size = 0, g, i;
	FILE *out;

	if (feed_sorted(f, &v) == -1)
		return NULL;
	if ((out = open_memstream(&text, &size)) == NULL) {
		free(v);
		return NULL;
	}
	for (g = 0; g < ngauges; g++) {
		const struct feed_gauge *k = &feed_gauges[g];

		if (k->name != NULL) {
			name = k->name;
			fprintf(out, "# HELP %s %s.\n# TYPE %s gauge\n", name,
			    k->help, name);
		}
		for (i = 0; i < f->npairs; i++) {
			fprintf(out, "%s{host=\"", name);
			feed_label(out, v[i]->row.rec.host);
			fputs("\",source=\"", out);
			feed_label(out, v[i]->row.source);
			if (k->state != NULL)
				fprintf(out, "\",state=\"%s", k->state);
			fprintf(out, "\"} %.15g\n", k->value(f, v[i], now_ms));
		}
	}
	fprintf(out, "# HELP sm_tail_rows_total Rows the follower handed "
	    "out.\n# TYPE sm_tail_rows_total counter\n"
	    "sm_tail_rows_total %llu\n", f->rows);
	fprintf(out, "# HELP sm_tail_sse_clients Server-Sent Events clients "
	    "connected.\n# TYPE sm_tail_sse_clients gauge\n"
	    "sm_tail_sse_clients %zu\n", f->nclients);
	fprintf(out, "# HELP sm_tail_sse_clients_cut_total SSE clients cut "
	    "off for falling behind.\n"
	    "# TYPE sm_tail_sse_clients_cut_total counter\n"
	    "sm_tail_sse_clients_cut_total %llu\n", f->cut);
	free(v);
	fprintf(out, "# HELP sm_tail_hosts (host, source) pairs kept "
	    "(at most --max-hosts).\n# TYPE sm_tail_hosts gauge\n"
	    "sm_tail_hosts %zu\n", f->npairs);
	fprintf(out, "# HELP sm_tail_hosts_evicted_total (host, source) pairs "
	    "dropped: to make room for a new one (full) or silent for "
	    "--forget (silent).\n"
	    "# TYPE sm_tail_hosts_evicted_total counter\n"
	    "sm_tail_hosts_evicted_total{reason=\"full\"} %llu\n"
	    "sm_tail_hosts_evicted_total{reason=\"silent\"} %llu\n",
	    f->evicted_full, f->evicted_silent);
	fprintf(out, "# HELP sm_tail_database_up 1 while the database "
	    "answers.\n# TYPE sm_tail_database_up gauge\n"
	    "sm_tail_database_up %d\n", f->db_up ? 1 : 0);
	if (fclose(out) == EOF) {
		free(text);
		return NULL;
	}
	return text;
}
