#include <ctype.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "backoff.h"
#include "balance.h"
#include "batch.h"
#include "cli.h"
#include "deliver.h"
#include "exitcode.h"
#include "ndjson.h"
#include "spool.h"

#define DELIVER_READ_BUDGET 4096	/* lines per turn of the loop */
#define DELIVER_RESP_MAX (4 * 1024 * 1024)
#define DELIVER_POLL_MAX_MS 1000
#define DELIVER_PROBE_TIMEOUT_MS 5000

/* One easy handle: a request slot, or an endpoint's health probe. */
struct xfer {
	CURL *h;
	struct batch *b;		/* the request's records */
	int ep;
	bool probe;			/* a GET /health, not a request */
	bool busy;
	struct batch_buf resp;
	char err[CURL_ERROR_SIZE];
};

struct endpoint {
	const char *url;
	char *url_json;			/* the URL as a JSON string */
	char *health_url;
	char label[2];
	bool failing;			/* alone, and failing: reported */
	struct xfer probe;
	int64_t next_probe;
};

struct deliver {
	struct deliver_opts o;
	CURLM *multi;
	struct curl_slist *post_hdr, *probe_hdr;
	struct xfer *slots;
	struct xfer **idle;		/* free slots, a stack */
	long nidle;
	long busy;			/* slots in flight */
	struct endpoint ep[BALANCE_MAX];
	struct balance bal;
	struct backoff bo;
	struct spool reject, spool;
	struct ndjson_reader in;
	int in_flags;			/* to restore O_NONBLOCK */
	struct json_tokener *tok;
	struct batch *fill;		/* being filled from input */
	int64_t fill_since;
	struct batch *ready, *ready_tail;	/* to send now, FIFO */
	struct batch *waiting;		/* backing off */
	struct batch *free;
	long live;			/* sealed, not finished */
	unsigned long next_request;
	bool input_done, drained, input_more, stopping, aborting;
	bool blocked;			/* a full batch waits for a slot */
	bool answered;			/* some endpoint answered HTTP */
	bool acks_gone;			/* stdout reader went away */
	bool acks_dirty;
	bool write_failed;		/* reject or spool file */
	bool read_failed;		/* input */
	struct deliver_counts c;
};

/* Signal state: a handler may only touch these. */
static volatile sig_atomic_t deliver_signals;
static int deliver_wake[2] = { -1, -1 };

void
deliver_stop(int sig)
{
	int saved = errno;

	(void)sig;
	deliver_signals++;
	if (deliver_wake[1] != -1)
		(void)!write(deliver_wake[1], "", 1);
	errno = saved;
}

static int64_t
deliver_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Options */

void
deliver_opts_init(struct deliver_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->batch = 1;
	o->linger_ms = 0;
	o->parallel = 1;
	o->timeout_ms = 10000;
	o->max_time_ms = 60000;
	o->retries = 10;
	o->max_fails = 1;
	o->fail_timeout_ms = 10000;
	o->health_interval_ms = 0;
	o->in_fd = 0;
	o->acks = stdout;
}

static int
deliver_opt_fail(char *why, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
deliver_opt_fail(char *why, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, DELIVER_WHY_LEN, fmt, ap);
	va_end(ap);
	return -1;
}

static int
deliver_opt_count(const char *name, const char *arg, long long min,
    long long max, long *out, char *why)
{
	long long v;

	if (cli_parse_count(arg, min, max, &v) == -1)
		return deliver_opt_fail(why, "%s: \"%s\": want an integer "
		    "from %lld to %lld", name, arg, min, max);
	*out = (long)v;
	return 0;
}

static int
deliver_opt_seconds(const char *name, const char *arg, double min,
    double max, int64_t *out_ms, char *why)
{
	double v;

	if (cli_parse_seconds(arg, min, max, &v) == -1)
		return deliver_opt_fail(why, "%s: \"%s\": want seconds from "
		    "%g to %g", name, arg, min, max);
	*out_ms = (int64_t)(v * 1000 + 0.5);
	return 0;
}

int
deliver_opt(struct deliver_opts *o, int id, const char *arg, char *why)
{
	char bwhy[BALANCE_WHY_LEN];
	long v = 0;

	switch (id) {
	case DELIVER_OPT_BATCH:
		return deliver_opt_count("--batch", arg, 1, DELIVER_BATCH_MAX,
		    &o->batch, why);
	case DELIVER_OPT_FAIL_TIMEOUT:
		return deliver_opt_seconds("--fail-timeout", arg, 0, 86400,
		    &o->fail_timeout_ms, why);
	case DELIVER_OPT_HEADER:
		if (strchr(arg, ':') == NULL || arg[0] == ':')
			return deliver_opt_fail(why, "-H: \"%s\": want "
			    "\"Name: value\"", arg);
		if (o->nheaders == DELIVER_HEADERS_MAX)
			return deliver_opt_fail(why, "-H: at most %d headers",
			    DELIVER_HEADERS_MAX);
		o->headers[o->nheaders++] = arg;
		return 0;
	case DELIVER_OPT_HEALTH_INTERVAL:
		return deliver_opt_seconds("--health-interval", arg, 0, 86400,
		    &o->health_interval_ms, why);
	case DELIVER_OPT_LINGER:
		if (deliver_opt_count("--linger", arg, 0, 3600000, &v,
		    why) == -1)
			return -1;
		o->linger_ms = v;
		return 0;
	case DELIVER_OPT_MAX_FAILS:
		return deliver_opt_count("--max-fails", arg, 1, 1000000,
		    &o->max_fails, why);
	case DELIVER_OPT_MAX_LINE:
		return deliver_opt_count("--max-line", arg, 1,
		    NDJSON_MAX_LINE_MAX, &o->max_line, why);
	case DELIVER_OPT_MAX_TIME:
		return deliver_opt_seconds("--max-time", arg, 0.001, 31536000,
		    &o->max_time_ms, why);
	case DELIVER_OPT_NDJSON:
		o->ndjson = true;
		return 0;
	case DELIVER_OPT_PARALLEL:
		return deliver_opt_count("--parallel", arg, 1,
		    DELIVER_PARALLEL_MAX, &o->parallel, why);
	case DELIVER_OPT_REJECT:
		o->reject_path = arg;
		return 0;
	case DELIVER_OPT_RETRIES:
		return deliver_opt_count("--retries", arg, 0, 1000000,
		    &o->retries, why);
	case DELIVER_OPT_SPOOL:
		o->spool_path = arg;
		return 0;
	case DELIVER_OPT_STATS_EVERY:
		return deliver_opt_count("--stats-every", arg, 0, 1LL << 40,
		    &o->stats_every, why);
	case DELIVER_OPT_STRICT:
		o->strict = true;
		return 0;
	case DELIVER_OPT_TIMEOUT:
		return deliver_opt_seconds("--timeout", arg, 0.001, 86400,
		    &o->timeout_ms, why);
	case DELIVER_OPT_TOKEN_FILE:
		o->token_file = arg;
		return 0;
	case DELIVER_OPT_WEIGHTS:
		if (balance_parse_weights(arg, o->weights, BALANCE_MAX,
		    &o->nweights, bwhy) == -1)
			return deliver_opt_fail(why, "--weights: \"%s\": %s",
			    arg, bwhy);
		return 0;
	}
	return deliver_opt_fail(why, "unknown option");
}

int
deliver_opts_check(const struct deliver_opts *o, char *why)
{
	char *h;
	int i;

	if (o->nurls < 1 || o->nurls > BALANCE_MAX)
		return deliver_opt_fail(why, "want 1 to %d URLs, not %d",
		    BALANCE_MAX, o->nurls);
	if (o->nweights != 0 && o->nweights != o->nurls)
		return deliver_opt_fail(why, "--weights: %d weights for %d "
		    "URLs", o->nweights, o->nurls);
	for (i = 0; i < o->nurls; i++) {
		if ((h = deliver_health_url(o->urls[i])) == NULL)
			return deliver_opt_fail(why, "\"%s\": want an http:// "
			    "or https:// URL", o->urls[i]);
		free(h);
	}
	if (o->reject_path != NULL && o->spool_path != NULL &&
	    strcmp(o->reject_path, o->spool_path) == 0)
		return deliver_opt_fail(why, "--reject and --spool name the "
		    "same file");
	return 0;
}

/* Answers, exposed for the tests */

enum deliver_verdict
deliver_classify(bool answered, long status)
{
	if (!answered)
		return DELIVER_RETRY;
	if (status >= 200 && status <= 299)
		return DELIVER_OK;
	if (status == 408 || status == 429 || (status >= 500 && status <= 599))
		return DELIVER_RETRY;
	return DELIVER_REJECT;
}

static struct json_object *
deliver_parse_body(const char *body, size_t len)
{
	struct json_tokener *tok;
	struct json_object *obj;

	if (len == 0 || len > INT32_MAX || (tok = json_tokener_new()) == NULL)
		return NULL;
	obj = json_tokener_parse_ex(tok, body, (int)len);
	json_tokener_free(tok);
	if (obj != NULL && !json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		obj = NULL;
	}
	return obj;
}

static const char *
deliver_get_string(struct json_object *obj, const char *key)
{
	struct json_object *v;

	if (obj == NULL || !json_object_object_get_ex(obj, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

size_t
deliver_parse_refusal(const char *body, size_t len, size_t n,
    char **reasons, char *general, size_t gsize)
{
	struct json_object *obj, *errs;
	const char *s;
	size_t i, named = 0, nerr;

	general[0] = '\0';
	if ((obj = deliver_parse_body(body, len)) == NULL) {
		/* not our receiver's JSON: its first line is the reason */
		for (i = 0; i < len && body[i] != '\r' && body[i] != '\n' &&
		    body[i] != '\0'; i++)
			continue;
		snprintf(general, gsize, "%.*s", (int)i, body);
		return 0;
	}
	if ((s = deliver_get_string(obj, "error")) != NULL)
		snprintf(general, gsize, "%s", s);
	if (!json_object_object_get_ex(obj, "errors", &errs) ||
	    !json_object_is_type(errs, json_type_array))
		goto out_put;
	nerr = json_object_array_length(errs);
	for (i = 0; i < nerr; i++) {
		struct json_object *e = json_object_array_get_idx(errs, i);
		struct json_object *iv;
		int64_t idx;

		if (!json_object_is_type(e, json_type_object) ||
		    !json_object_object_get_ex(e, "index", &iv) ||
		    !json_object_is_type(iv, json_type_int))
			continue;
		idx = json_object_get_int64(iv);
		if ((s = deliver_get_string(e, "reason")) == NULL)
			s = general[0] != '\0' ? general : "refused";
		if (idx < 0 || (uint64_t)idx >= n) {
			/* the body as a whole: e.g. it did not parse */
			snprintf(general, gsize, "%s", s);
			continue;
		}
		if (reasons[idx] != NULL)
			continue;
		if ((reasons[idx] = strdup(s)) != NULL)
			named++;
	}
out_put:
	json_object_put(obj);
	return named;
}

char *
deliver_health_url(const char *url)
{
	CURLU *u;
	char *scheme = NULL, *out = NULL;

	if ((u = curl_url()) == NULL)
		return NULL;
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0))
		goto out_cleanup;
	if (curl_url_set(u, CURLUPART_PATH, "/health", 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_QUERY, NULL, 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0) != CURLUE_OK)
		goto out_cleanup;
	if (curl_url_get(u, CURLUPART_URL, &out, 0) != CURLUE_OK)
		out = NULL;
out_cleanup:
	curl_free(scheme);
	curl_url_cleanup(u);
	/* the caller frees with free(): hand out a copy of curl's string */
	if (out != NULL) {
		char *copy = strdup(out);

		curl_free(out);
		out = copy;
	}
	return out;
}

const struct deliver_counts *
deliver_counts(const struct deliver *d)
{
	return &d->c;
}

void
deliver_stats_format(const struct deliver_counts *c, char *buf, size_t size)
{
	size_t used;
	int i;

#define STATS_ADD(...) do { \
	if (used < size) \
		used += (size_t)snprintf(buf + used, size - used, \
		    __VA_ARGS__); \
} while (0)
	used = 0;
	buf[0] = '\0';
	STATS_ADD("sent %lu/%lu", c->delivered, c->records_in);
	for (i = 0; i < c->nep; i++)
		STATS_ADD(" | %c: %lu (%.1f%%)", 'a' + i, c->per_ep[i],
		    c->delivered ? 100.0 * (double)c->per_ep[i] /
		    (double)c->delivered : 0.0);
	STATS_ADD(" | retried %lu | failed over %lu", c->retried,
	    c->failed_over);
	if (c->rejected > 0)
		STATS_ADD(" | rejected %lu", c->rejected);
	if (c->spooled > 0)
		STATS_ADD(" | spooled %lu", c->spooled);
#undef STATS_ADD
}

/* Batches */

static struct batch *
deliver_batch_get(struct deliver *d)
{
	struct batch *b = d->free;

	if (b != NULL)
		d->free = b->next;
	else if ((b = calloc(1, sizeof(*b))) == NULL)
		return NULL;
	b->next = NULL;
	/* one record a request goes as the object itself, like the old APIs */
	if (batch_reset(b, d->o.ndjson ? BATCH_NDJSON : d->o.batch > 1 ?
	    BATCH_ARRAY : BATCH_OBJECT) == -1) {
		batch_destroy(b);
		return NULL;
	}
	return b;
}

static void
deliver_batch_put(struct deliver *d, struct batch *b)
{
	b->next = d->free;
	d->free = b;
}

/* Queues */

static void
ready_push(struct deliver *d, struct batch *b, bool front)
{
	if (front) {
		b->next = d->ready;
		d->ready = b;
		if (d->ready_tail == NULL)
			d->ready_tail = b;
		return;
	}
	b->next = NULL;
	if (d->ready_tail != NULL)
		d->ready_tail->next = b;
	else
		d->ready = b;
	d->ready_tail = b;
}

static struct batch *
ready_pop(struct deliver *d)
{
	struct batch *b = d->ready;

	if (b != NULL) {
		d->ready = b->next;
		if (d->ready == NULL)
			d->ready_tail = NULL;
		b->next = NULL;
	}
	return b;
}

/* Outcomes */

static void
deliver_write_failed(struct deliver *d, struct spool *s)
{
	if (!d->write_failed)
		warn("%s", s->path);
	d->write_failed = true;
}

static void
deliver_stats_tick(struct deliver *d)
{
	char line[1024];

	d->c.requests++;
	if (d->o.stats_every > 0 &&
	    d->c.requests % (unsigned long)d->o.stats_every == 0) {
		deliver_stats_format(&d->c, line, sizeof(line));
		warnx("%s", line);
	}
}

/* A batch is done with: count it, recycle it. */
static void
deliver_finish(struct deliver *d, struct batch *b)
{
	d->live--;
	deliver_stats_tick(d);
	deliver_batch_put(d, b);
}

static const char *
deliver_label(const struct deliver *d, int ep)
{
	return ep >= 0 ? d->o.urls[ep] : "";
}

/* Records that cannot be delivered in time: spool, stderr. */
static void
deliver_spool(struct deliver *d, struct batch *b, bool sealed)
{
	char lines[96];
	size_t i;

	if (b->n == 0)
		goto out_finish;
	if (d->spool.f != NULL) {
		for (i = 0; i < b->n; i++)
			if (spool_write(&d->spool, b->body.p + b->rec[i].off,
			    b->rec[i].len) == -1)
				break;
		if (i < b->n || spool_flush(&d->spool) == -1)
			deliver_write_failed(d, &d->spool);
	}
	batch_describe(b, lines, sizeof(lines));
	warnx("request %lu (%s): not delivered%s%s: %s", b->request, lines,
	    d->spool.f != NULL ? ", spooled to " : "",
	    d->spool.f != NULL ? d->spool.path : "",
	    b->why[0] != '\0' ? b->why : "stopped before sending");
	d->c.spooled += b->n;
out_finish:
	if (sealed) {
		deliver_finish(d, b);
	} else {
		deliver_batch_put(d, b);
	}
}

static void
deliver_reject_one(struct deliver *d, struct batch *b, size_t i, long status,
    const char *reason)
{
	struct spool_reject r = {
		.line = b->rec[i].line,
		.request = b->request,
		.status = (int)status,
		.endpoint = deliver_label(d, b->ep),
		.reason = reason,
		.text = b->body.p + b->rec[i].off,
		.len = b->rec[i].len,
		.is_record = 1,
	};

	warnx("line %lu: rejected by %s (HTTP %ld): %s", r.line, r.endpoint,
	    status, reason);
	if (d->reject.f != NULL && spool_reject(&d->reject, &r) == -1)
		deliver_write_failed(d, &d->reject);
	d->c.rejected++;
	b->rejected++;
}

static void
deliver_ack(struct deliver *d, struct batch *b, long status, double ms,
    struct json_object *answer)
{
	struct json_object *api = NULL, *v;
	FILE *f = d->o.acks;

	if (d->acks_gone || f == NULL)
		return;
	if (answer != NULL)
		json_object_object_get_ex(answer, "api", &api);
	fprintf(f, "{\"request\":%lu,\"records\":%zu,\"status\":%ld,"
	    "\"latency_ms\":%.1f,\"endpoint\":%s,\"api\":%s,\"attempts\":%u",
	    b->request, b->n, status, ms, d->ep[b->ep].url_json,
	    api != NULL && json_object_is_type(api, json_type_string) ?
	    json_object_to_json_string_ext(api, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE) : "null", b->attempts);
	if (answer != NULL && json_object_object_get_ex(answer, "stored",
	    &v) && json_object_is_type(v, json_type_int))
		fprintf(f, ",\"stored\":%lld",
		    (long long)json_object_get_int64(v));
	if (answer != NULL && json_object_object_get_ex(answer, "duplicates",
	    &v) && json_object_is_type(v, json_type_int))
		fprintf(f, ",\"duplicates\":%lld",
		    (long long)json_object_get_int64(v));
	if (b->rejected > 0)
		fprintf(f, ",\"rejected\":%lu", b->rejected);
	if (fputs("}\n", f) == EOF || ferror(f)) {
		if (errno != EPIPE)
			warn("acknowledgements");
		d->acks_gone = true;
	}
	d->acks_dirty = true;
}

static void
deliver_report(struct deliver *d, int ep, enum balance_change ch,
    const char *why)
{
	struct endpoint *e = &d->ep[ep];

	/* a lone endpoint is never taken out: say when it fails and heals */
	if (d->o.nurls == 1) {
		if (why[0] != '\0' && !e->failing)
			warnx("%s: %s; retrying for up to %.1f s a request",
			    e->url, why, (double)d->o.max_time_ms / 1000);
		else if (why[0] == '\0' && e->failing)
			warnx("%s: answering again", e->url);
		e->failing = why[0] != '\0';
		return;
	}
	if (ch == BALANCE_DOWN)
		warnx("%s (%s): out for %.1f s: %s", d->ep[ep].label,
		    d->o.urls[ep], (double)d->o.fail_timeout_ms / 1000, why);
	else if (ch == BALANCE_UP)
		warnx("%s (%s): back", d->ep[ep].label, d->o.urls[ep]);
}

/* A failed attempt: fail over, back off, or give up and spool. */
static void
deliver_retry(struct deliver *d, struct batch *b, int64_t now,
    int64_t retry_after)
{
	int64_t wait;

	b->tried |= 1U << b->ep;
	if (d->stopping) {
		deliver_spool(d, b, true);
		return;
	}
	if (b->attempts > (unsigned long)d->o.retries) {
		char what[64];

		snprintf(what, sizeof(what), "gave up after %u attempts",
		    b->attempts);
		batch_why_prefix(b, what);
		deliver_spool(d, b, true);
		return;
	}
	if (balance_has_candidate(&d->bal, b->tried, now)) {
		ready_push(d, b, true);
		return;
	}
	b->tried = 0;
	wait = backoff_wait_ms(&d->bo, b->round++, retry_after);
	if (now + wait >= b->deadline) {
		char what[64];

		snprintf(what, sizeof(what), "--max-time reached after %u "
		    "attempts", b->attempts);
		batch_why_prefix(b, what);
		deliver_spool(d, b, true);
		return;
	}
	b->due = now + wait;
	b->next = d->waiting;
	d->waiting = b;
}

/* A refusal (a 4xx other than 408 and 429): reject, re-send the rest. */
static void
deliver_refused(struct deliver *d, struct batch *b, long status,
    const struct xfer *x, double ms, struct json_object *answer)
{
	char general[DELIVER_WHY_LEN], why[DELIVER_WHY_LEN];
	char **reasons;
	size_t i, named, n = b->n;

	if ((reasons = calloc(n, sizeof(*reasons))) == NULL)
		err(SM_EXIT_PARTIAL, "out of memory");
	named = deliver_parse_refusal(x->resp.p != NULL ? x->resp.p : "",
	    x->resp.len, n, reasons, general, sizeof(general));
	if (general[0] != '\0')
		snprintf(why, sizeof(why), "%s", general);
	else
		snprintf(why, sizeof(why), "HTTP %ld", status);
	if (named > 0 && named < n) {
		/* the receiver stored none of it: the rest goes again */
		for (i = 0; i < n; i++)
			if (reasons[i] != NULL)
				deliver_reject_one(d, b, i, status,
				    reasons[i]);
		if (batch_keep(b, reasons) == -1)
			err(SM_EXIT_PARTIAL, "out of memory");
		b->resend = true;
		if (d->stopping) {
			batch_why_prefix(b, "interrupted before sending again "
			    "without the refused records");
			deliver_spool(d, b, true);
		} else {
			ready_push(d, b, true);
		}
	} else {
		for (i = 0; i < n; i++)
			deliver_reject_one(d, b, i, status,
			    reasons[i] != NULL ? reasons[i] : why);
		deliver_ack(d, b, status, ms, answer);
		deliver_finish(d, b);
	}
	if (d->reject.f != NULL && spool_flush(&d->reject) == -1)
		deliver_write_failed(d, &d->reject);
	for (i = 0; i < n; i++)
		free(reasons[i]);
	free(reasons);
}

/* Transfers */

static size_t
xfer_write(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	size_t n = size * nmemb;

	/* an answer is a few lines of JSON: keep a sane prefix of a flood */
	if (x->resp.len + n > DELIVER_RESP_MAX)
		return n;
	if (batch_buf_add(&x->resp, ptr, n) == -1)
		return 0;
	return n;
}

static int
xfer_init(struct xfer *x, struct curl_slist *hdr)
{
	if ((x->h = curl_easy_init()) == NULL)
		return -1;
	/* options kept across the transfers of this handle */
	if (curl_easy_setopt(x->h, CURLOPT_PRIVATE, x) != CURLE_OK ||
	    curl_easy_setopt(x->h, CURLOPT_WRITEFUNCTION, xfer_write) !=
	    CURLE_OK ||
	    curl_easy_setopt(x->h, CURLOPT_WRITEDATA, x) != CURLE_OK ||
	    curl_easy_setopt(x->h, CURLOPT_ERRORBUFFER, x->err) != CURLE_OK ||
	    curl_easy_setopt(x->h, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(x->h, CURLOPT_HTTPHEADER, hdr) != CURLE_OK ||
	    curl_easy_setopt(x->h, CURLOPT_HTTP_VERSION,
	    (long)CURL_HTTP_VERSION_1_1) != CURLE_OK ||
	    curl_easy_setopt(x->h, CURLOPT_TCP_NODELAY, 1L) != CURLE_OK)
		return -1;
	return 0;
}

static void
xfer_free(struct xfer *x)
{
	if (x->h != NULL)
		curl_easy_cleanup(x->h);
	x->h = NULL;
	batch_buf_free(&x->resp);
}

static int
xfer_add(struct deliver *d, struct xfer *x)
{
	x->resp.len = 0;
	if (x->resp.p != NULL)
		x->resp.p[0] = '\0';
	x->err[0] = '\0';
	if (curl_multi_add_handle(d->multi, x->h) != CURLM_OK)
		return -1;
	x->busy = true;
	return 0;
}

static void
deliver_start(struct deliver *d, struct batch *b, int64_t now)
{
	struct xfer *x = d->idle[--d->nidle];
	int64_t timeout;
	int ep = balance_pick(&d->bal, b->tried, now);

	if (b->attempts == 0 || b->resend) {
		/* a re-send after a refusal is a new request to the receiver */
		b->deadline = now + d->o.max_time_ms;
	} else {
		d->c.retried++;
		if (ep != b->ep)
			d->c.failed_over++;
	}
	b->resend = false;
	b->ep = ep;
	b->attempts++;
	timeout = b->deadline - now;
	if (timeout > d->o.timeout_ms)
		timeout = d->o.timeout_ms;
	if (timeout < 1)
		timeout = 1;
	if (curl_easy_setopt(x->h, CURLOPT_URL, d->o.urls[ep]) != CURLE_OK ||
	    curl_easy_setopt(x->h, CURLOPT_POSTFIELDSIZE_LARGE,
	    (curl_off_t)b->body.len) != CURLE_OK ||
	    curl_easy_setopt(x->h, CURLOPT_POSTFIELDS, b->body.p) !=
	    CURLE_OK ||
	    curl_easy_setopt(x->h, CURLOPT_TIMEOUT_MS, (long)timeout) !=
	    CURLE_OK || xfer_add(d, x) == -1) {
		/* only out of memory gets here: keep the records at least */
		d->idle[d->nidle++] = x;
		snprintf(b->why, sizeof(b->why), "cannot start a request "
		    "(out of memory?)");
		deliver_spool(d, b, true);
		return;
	}
	x->b = b;
	x->ep = ep;
	d->busy++;
}

static void
probe_start(struct deliver *d, struct endpoint *e)
{
	long timeout = (long)(d->o.timeout_ms < DELIVER_PROBE_TIMEOUT_MS ?
	    d->o.timeout_ms : DELIVER_PROBE_TIMEOUT_MS);

	/* a probe that cannot start is tried again an interval later */
	if (curl_easy_setopt(e->probe.h, CURLOPT_TIMEOUT_MS, timeout) !=
	    CURLE_OK || xfer_add(d, &e->probe) == -1)
		e->next_probe = deliver_now() + d->o.health_interval_ms;
}

static void
probe_done(struct deliver *d, struct xfer *x, CURLcode res, long status,
    int64_t now)
{
	struct endpoint *e = &d->ep[x->ep];
	char why[DELIVER_WHY_LEN];
	/*
	 * Any answer short of a 5xx shows the receiver alive: one without a
	 * /health (404) is then judged by its requests alone.
	 */
	bool ok = res == CURLE_OK && status > 0 && status < 500;

	e->next_probe = now + d->o.health_interval_ms;
	if (res != CURLE_OK)
		snprintf(why, sizeof(why), "GET /health: %s", x->err[0] !=
		    '\0' ? x->err : curl_easy_strerror(res));
	else
		snprintf(why, sizeof(why), "GET /health: HTTP %ld", status);
	deliver_report(d, x->ep, balance_probe(&d->bal, x->ep, ok, now), why);
}

/* Why an attempt failed, for stderr and the spool report. */
static void
xfer_failure(const struct xfer *x, CURLcode res, long status, char *why,
    size_t size)
{
	struct json_object *answer;
	const char *e;

	if (res != CURLE_OK) {
		snprintf(why, size, "%s: %s", "no answer", x->err[0] != '\0' ?
		    x->err : curl_easy_strerror(res));
		return;
	}
	answer = deliver_parse_body(x->resp.p, x->resp.len);
	if ((e = deliver_get_string(answer, "error")) != NULL)
		snprintf(why, size, "HTTP %ld: %s", status, e);
	else
		snprintf(why, size, "HTTP %ld", status);
	json_object_put(answer);
}

static void
xfer_done(struct deliver *d, CURLMsg *m, int64_t now)
{
	struct json_object *answer;
	struct xfer *x = NULL;
	struct batch *b;
	CURLcode res = m->data.result;
	curl_off_t total_us = 0, retry_after = 0;
	long status = 0;
	double ms;
	bool answered;

	curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
	curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(x->h, CURLINFO_TOTAL_TIME_T, &total_us);
	if (curl_easy_getinfo(x->h, CURLINFO_RETRY_AFTER, &retry_after) !=
	    CURLE_OK)
		retry_after = 0;
	curl_multi_remove_handle(d->multi, x->h);
	x->busy = false;
	if (x->probe) {
		probe_done(d, x, res, status, now);
		return;
	}
	b = x->b;
	x->b = NULL;
	d->idle[d->nidle++] = x;
	d->busy--;
	ms = (double)total_us / 1000.0;
	answered = res == CURLE_OK && status > 0;
	if (answered)
		d->answered = true;
	switch (deliver_classify(answered, status)) {
	case DELIVER_OK:
		deliver_report(d, b->ep, balance_success(&d->bal, b->ep, now),
		    "");
		answer = deliver_parse_body(x->resp.p, x->resp.len);
		d->c.delivered += b->n;
		d->c.per_ep[b->ep] += b->n;
		deliver_ack(d, b, status, ms, answer);
		json_object_put(answer);
		deliver_finish(d, b);
		break;
	case DELIVER_REJECT:
		deliver_report(d, b->ep, balance_success(&d->bal, b->ep, now),
		    "");
		answer = deliver_parse_body(x->resp.p, x->resp.len);
		deliver_refused(d, b, status, x, ms, answer);
		json_object_put(answer);
		break;
	case DELIVER_RETRY:
		xfer_failure(x, res, status, b->why, sizeof(b->why));
		if (!answered)
			retry_after = 0;
		deliver_report(d, b->ep, balance_failure(&d->bal, b->ep, now,
		    (int64_t)retry_after * 1000), b->why);
		deliver_retry(d, b, now, (int64_t)retry_after);
		break;
	}
}

static void
deliver_reap(struct deliver *d)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(d->multi, &left)) != NULL)
		if (m->msg == CURLMSG_DONE)
			xfer_done(d, m, deliver_now());
}

/* Input */

static void
deliver_bad_line(struct deliver *d, unsigned long lineno, const char *line,
    size_t len, const char *why)
{
	struct spool_reject r = {
		.line = lineno,
		.reason = why,
		.text = line,
		.len = len,
	};

	warnx("line %lu: %s", lineno, why);
	d->c.bad_lines++;
	if (d->reject.f != NULL && (spool_reject(&d->reject, &r) == -1 ||
	    spool_flush(&d->reject) == -1))
		deliver_write_failed(d, &d->reject);
}

/* One input line into the batch being filled, or reported as bad. */
static void
deliver_take_line(struct deliver *d, const char *line, size_t len,
    int64_t now)
{
	char why[DELIVER_WHY_LEN];

	if (d->fill == NULL && (d->fill = deliver_batch_get(d)) == NULL)
		err(SM_EXIT_PARTIAL, "out of memory");
	if (d->fill->n == 0)
		d->fill_since = now;
	if (batch_add(d->fill, d->tok, line, len, d->in.lineno, why) == -1)
		deliver_bad_line(d, d->in.lineno, line, len, why);
	else
		d->c.records_in++;
}

static void
deliver_too_long(struct deliver *d)
{
	char why[DELIVER_WHY_LEN];

	snprintf(why, sizeof(why), "longer than %zu bytes; skipped",
	    d->in.max_line);
	deliver_bad_line(d, d->in.lineno, "", 0, why);
}

/* Queue the batch being filled; false when --parallel are queued already. */
static bool
deliver_seal(struct deliver *d)
{
	struct batch *b = d->fill;

	if (b == NULL || b->n == 0)
		return true;
	if (d->live >= d->o.parallel)
		return false;
	if (batch_seal(b) == -1)
		err(SM_EXIT_PARTIAL, "out of memory");
	b->request = ++d->next_request;
	d->fill = NULL;
	d->live++;
	ready_push(d, b, false);
	return true;
}

static void
deliver_read(struct deliver *d, int64_t now)
{
	const char *line;
	size_t len;
	long got;
	int budget = DELIVER_READ_BUDGET;

	d->input_more = false;
	d->blocked = false;
	while (!d->input_done) {
		if (d->fill != NULL && d->fill->n >= (size_t)d->o.batch &&
		    !deliver_seal(d)) {
			d->blocked = true;
			return;
		}
		if (budget-- == 0) {
			d->input_more = true;
			return;
		}
		if (d->o.strict && (d->c.bad_lines > 0 || d->c.rejected > 0)) {
			warnx("--strict: stopped reading after line %lu",
			    d->in.lineno);
			d->input_done = true;
			break;
		}
		switch (ndjson_next(&d->in, &line, &len)) {
		case NDJSON_LINE:
			deliver_take_line(d, line, len, now);
			break;
		case NDJSON_TOO_LONG:
			deliver_too_long(d);
			break;
		case NDJSON_AGAIN:
			got = ndjson_fill(&d->in);
			if (got > 0) {
				d->drained = false;
			} else if (got < 0) {
				if (errno == EAGAIN || errno == EWOULDBLOCK) {
					d->drained = true;
					return;
				}
				warn("input");
				d->read_failed = true;
				d->input_done = true;
			}
			break;
		case NDJSON_EOF:
			d->input_done = true;
			break;
		case NDJSON_ERROR:
			warn("input");
			d->read_failed = true;
			d->input_done = true;
			break;
		}
	}
}

/* A partial batch goes when input ended or paused for --linger. */
static void
deliver_seal_due(struct deliver *d, int64_t now)
{
	if (d->fill == NULL)
		return;
	if (d->fill->n == 0) {
		if (d->input_done) {
			deliver_batch_put(d, d->fill);
			d->fill = NULL;
		}
		return;
	}
	if (d->input_done || (d->drained &&
	    now - d->fill_since >= d->o.linger_ms))
		deliver_seal(d);
}

/* Signals */

/*
 * Lines already read from the input are ours to account for: on a stop,
 * spool the complete ones; a line cut short is reported as such.
 */
static void
deliver_drain_input(struct deliver *d, int64_t now)
{
	const char *line;
	size_t len;

	/* no more reading: what is buffered is the whole rest of the input */
	d->in.eof = true;
	for (;;) {
		if (d->fill != NULL && d->fill->n >= (size_t)d->o.batch) {
			d->fill->request = ++d->next_request;
			batch_why_prefix(d->fill, "interrupted before sending");
			deliver_spool(d, d->fill, false);
			d->fill = NULL;
		}
		switch (ndjson_next(&d->in, &line, &len)) {
		case NDJSON_LINE:
			deliver_take_line(d, line, len, now);
			continue;
		case NDJSON_TOO_LONG:
			deliver_too_long(d);
			continue;
		default:
			break;
		}
		break;
	}
	if (d->fill != NULL && d->fill->n > 0) {
		d->fill->request = ++d->next_request;
		batch_why_prefix(d->fill, "interrupted before sending");
		deliver_spool(d, d->fill, false);
	} else if (d->fill != NULL) {
		deliver_batch_put(d, d->fill);
	}
	d->fill = NULL;
}

static void
deliver_begin_stop(struct deliver *d)
{
	struct batch *b;

	d->stopping = true;
	d->input_done = true;
	while ((b = ready_pop(d)) != NULL) {
		batch_why_prefix(b, "interrupted before sending");
		deliver_spool(d, b, true);
	}
	while ((b = d->waiting) != NULL) {
		d->waiting = b->next;
		batch_why_prefix(b, "interrupted while waiting to retry");
		deliver_spool(d, b, true);
	}
	deliver_drain_input(d, deliver_now());
	if (d->busy > 0)
		warnx("interrupted: finishing %ld request%s in flight "
		    "(again to abort them)", d->busy, d->busy == 1 ? "" : "s");
}

static void
deliver_abort(struct deliver *d)
{
	long i;
	int e;

	d->aborting = true;
	for (i = 0; i < d->o.parallel; i++) {
		struct xfer *x = &d->slots[i];
		struct batch *b = x->b;

		if (!x->busy)
			continue;
		curl_multi_remove_handle(d->multi, x->h);
		x->busy = false;
		x->b = NULL;
		d->idle[d->nidle++] = x;
		d->busy--;
		batch_why_prefix(b, "aborted in flight");
		deliver_spool(d, b, true);
	}
	for (e = 0; e < d->o.nurls; e++) {
		if (!d->ep[e].probe.busy)
			continue;
		curl_multi_remove_handle(d->multi, d->ep[e].probe.h);
		d->ep[e].probe.busy = false;
	}
}

static void
deliver_check_signals(struct deliver *d)
{
	char buf[64];

	while (read(deliver_wake[0], buf, sizeof(buf)) > 0)
		continue;
	if (deliver_signals >= 1 && !d->stopping)
		deliver_begin_stop(d);
	if (deliver_signals >= 2 && !d->aborting)
		deliver_abort(d);
}

/* The loop */

static void
deliver_start_due(struct deliver *d, int64_t now)
{
	struct batch **pp = &d->waiting, *b;
	int e;

	while ((b = *pp) != NULL) {
		if (b->due > now) {
			pp = &b->next;
			continue;
		}
		*pp = b->next;
		ready_push(d, b, false);
	}
	while (d->nidle > 0 && (b = ready_pop(d)) != NULL) {
		if (d->stopping) {
			batch_why_prefix(b, "interrupted before sending");
			deliver_spool(d, b, true);
			continue;
		}
		deliver_start(d, b, now);
	}
	if (d->o.health_interval_ms == 0 || d->o.nurls < 2 || d->stopping)
		return;
	for (e = 0; e < d->o.nurls; e++)
		if (!d->ep[e].probe.busy && now >= d->ep[e].next_probe)
			probe_start(d, &d->ep[e]);
}

static bool
deliver_wants_input(const struct deliver *d)
{
	return !d->input_done && d->drained && !d->blocked;
}

static int
deliver_timeout(const struct deliver *d, int64_t now)
{
	int64_t t = DELIVER_POLL_MAX_MS;
	const struct batch *b;
	int e;

	if ((d->ready != NULL && d->nidle > 0) || d->input_more)
		return 0;
	/* input waited for a slot, and one came free */
	if (d->blocked && d->live < d->o.parallel)
		return 0;
	/* a partial batch waited for a slot to go after --linger */
	if (d->fill != NULL && d->fill->n > 0 && d->input_done &&
	    d->live < d->o.parallel)
		return 0;
	/* with every slot taken, a completion wakes the loop instead */
	if (d->fill != NULL && d->fill->n > 0 && d->drained &&
	    !d->input_done && d->live < d->o.parallel &&
	    d->fill_since + d->o.linger_ms - now < t)
		t = d->fill_since + d->o.linger_ms - now;
	for (b = d->waiting; b != NULL; b = b->next)
		if (b->due - now < t)
			t = b->due - now;
	if (d->o.health_interval_ms > 0 && d->o.nurls > 1 && !d->stopping)
		for (e = 0; e < d->o.nurls; e++)
			if (!d->ep[e].probe.busy &&
			    d->ep[e].next_probe - now < t)
				t = d->ep[e].next_probe - now;
	return t < 0 ? 0 : (int)t;
}

static void
deliver_flush_acks(struct deliver *d)
{
	if (!d->acks_dirty || d->acks_gone)
		return;
	d->acks_dirty = false;
	if (fflush(d->o.acks) == EOF) {
		if (errno != EPIPE)
			warn("acknowledgements");
		d->acks_gone = true;
	}
}

int
deliver_run(struct deliver *d)
{
	struct curl_waitfd fds[2];
	char why[SPOOL_WHY_LEN];
	int running, status = SM_EXIT_OK;
	unsigned nfds;

	for (;;) {
		int64_t now = deliver_now();

		deliver_check_signals(d);
		deliver_read(d, now);
		deliver_seal_due(d, now);
		deliver_start_due(d, now);
		if (curl_multi_perform(d->multi, &running) != CURLM_OK)
			errx(SM_EXIT_PARTIAL, "curl_multi_perform failed");
		deliver_reap(d);
		if (d->input_done && d->fill == NULL && d->live == 0)
			break;
		deliver_flush_acks(d);
		nfds = 0;
		fds[nfds].fd = deliver_wake[0];
		fds[nfds].events = CURL_WAIT_POLLIN;
		fds[nfds++].revents = 0;
		if (deliver_wants_input(d)) {
			fds[nfds].fd = d->in.fd;
			fds[nfds].events = CURL_WAIT_POLLIN;
			fds[nfds++].revents = 0;
		}
		if (curl_multi_poll(d->multi, fds, nfds,
		    deliver_timeout(d, deliver_now()), NULL) != CURLM_OK)
			errx(SM_EXIT_PARTIAL, "curl_multi_poll failed");
	}
	deliver_flush_acks(d);
	if (d->o.stats) {
		char line[1024];

		deliver_stats_format(&d->c, line, sizeof(line));
		warnx("%s", line);
	}
	if (spool_close(&d->spool, why) == -1 ||
	    spool_close(&d->reject, why) == -1) {
		warnx("%s", why);
		d->write_failed = true;
	}
	if (d->c.bad_lines > 0 || d->c.rejected > 0 || d->c.spooled > 0 ||
	    d->read_failed || d->write_failed)
		status = SM_EXIT_PARTIAL;
	/* nothing answered at all: the endpoints are unreachable */
	if (d->c.spooled > 0 && !d->answered)
		status = SM_EXIT_UNAVAILABLE;
	return status;
}

/* Set-up and teardown */

static int
deliver_token(const char *path, char *out, size_t size, char *why)
{
	FILE *f;
	size_t n;

	if ((f = fopen(path, "re")) == NULL)
		return deliver_opt_fail(why, "--token-file: %s: %s", path,
		    strerror(errno));
	n = fread(out, 1, size - 1, f);
	fclose(f);
	out[n] = '\0';
	out[strcspn(out, "\r\n")] = '\0';
	while (n > 0 && isspace((unsigned char)out[n - 1]))
		out[--n] = '\0';
	n = strlen(out);
	while (n > 0 && isspace((unsigned char)out[n - 1]))
		out[--n] = '\0';
	if (n == 0)
		return deliver_opt_fail(why, "--token-file: %s: no token in "
		    "its first line", path);
	return 0;
}

static bool
deliver_has_header(const struct deliver_opts *o, const char *name)
{
	size_t len = strlen(name);
	int i;

	for (i = 0; i < o->nheaders; i++)
		if (strncasecmp(o->headers[i], name, len) == 0 &&
		    o->headers[i][len] == ':')
			return true;
	return false;
}

static int
deliver_headers(struct deliver *d, char *why)
{
	char token[4096], auth[4200];
	struct curl_slist *l;
	int i;

#define HDR_ADD(list, s) do { \
	if ((l = curl_slist_append(list, s)) == NULL) \
		return deliver_opt_fail(why, "out of memory"); \
	list = l; \
} while (0)
	if (!deliver_has_header(&d->o, "Content-Type"))
		HDR_ADD(d->post_hdr, d->o.ndjson ?
		    "Content-Type: application/x-ndjson" :
		    "Content-Type: application/json");
	/* no 100-continue round trip before every body over 1 KiB */
	HDR_ADD(d->post_hdr, "Expect:");
	if (d->o.token_file != NULL) {
		if (deliver_token(d->o.token_file, token, sizeof(token),
		    why) == -1)
			return -1;
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s",
		    token);
		explicit_bzero(token, sizeof(token));
		HDR_ADD(d->post_hdr, auth);
		HDR_ADD(d->probe_hdr, auth);
		explicit_bzero(auth, sizeof(auth));
	}
	for (i = 0; i < d->o.nheaders; i++) {
		HDR_ADD(d->post_hdr, d->o.headers[i]);
		HDR_ADD(d->probe_hdr, d->o.headers[i]);
	}
#undef HDR_ADD
	return 0;
}

static int
deliver_endpoints(struct deliver *d, char *why)
{
	int i;

	for (i = 0; i < d->o.nurls; i++) {
		struct endpoint *e = &d->ep[i];
		struct json_object *s;

		e->url = d->o.urls[i];
		e->label[0] = (char)('a' + i);
		if ((s = json_object_new_string(e->url)) == NULL)
			return deliver_opt_fail(why, "out of memory");
		e->url_json = strdup(json_object_to_json_string_ext(s,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(s);
		if (e->url_json == NULL ||
		    (e->health_url = deliver_health_url(e->url)) == NULL)
			return deliver_opt_fail(why, "\"%s\": want an http:// "
			    "or https:// URL", e->url);
		if (d->o.health_interval_ms == 0 || d->o.nurls < 2)
			continue;
		e->probe.probe = true;
		e->probe.ep = i;
		if (xfer_init(&e->probe, d->probe_hdr) == -1 ||
		    curl_easy_setopt(e->probe.h, CURLOPT_URL,
		    e->health_url) != CURLE_OK ||
		    curl_easy_setopt(e->probe.h, CURLOPT_HTTPGET, 1L) !=
		    CURLE_OK)
			return deliver_opt_fail(why, "cannot set up libcurl");
	}
	return 0;
}

int
deliver_new(struct deliver **dp, const struct deliver_opts *o, char *why)
{
	struct deliver *d;
	char swhy[SPOOL_WHY_LEN];
	long i;

	*dp = NULL;
	if (deliver_opts_check(o, why) == -1)
		return -1;
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return deliver_opt_fail(why, "out of memory");
	*dp = d;
	d->o = *o;
	d->in.fd = -1;
	d->in_flags = -1;
	d->c.nep = o->nurls;
	if (balance_init(&d->bal, o->nurls, o->nweights ? o->weights : NULL,
	    (int)o->max_fails, o->fail_timeout_ms) == -1)
		return deliver_opt_fail(why, "bad weights or --max-fails");
	backoff_init(&d->bo, BACKOFF_BASE_MS, BACKOFF_CAP_MS, 0);
	if ((d->tok = json_tokener_new()) == NULL)
		return deliver_opt_fail(why, "out of memory");
	/* trailing text: batch_prepare() names it */
	json_tokener_set_flags(d->tok, JSON_TOKENER_STRICT |
	    JSON_TOKENER_VALIDATE_UTF8 | JSON_TOKENER_ALLOW_TRAILING_CHARS);
	if (ndjson_reader_init(&d->in, o->in_fd, (size_t)o->max_line) == -1)
		return deliver_opt_fail(why, "out of memory");
	/* non-blocking, so --linger can wait on input and answers at once */
	if ((d->in_flags = fcntl(o->in_fd, F_GETFL)) == -1 ||
	    fcntl(o->in_fd, F_SETFL, d->in_flags | O_NONBLOCK) == -1)
		return deliver_opt_fail(why, "input: %s", strerror(errno));
	if (deliver_headers(d, why) == -1)
		return -1;
	if ((d->multi = curl_multi_init()) == NULL)
		return deliver_opt_fail(why, "cannot set up libcurl");
	/*
	 * Keep-alive for every slot to every endpoint (and each probe): a
	 * smaller cache makes the split close and reopen connections all the
	 * time, as each endpoint may take all the slots in turn.
	 */
	curl_multi_setopt(d->multi, CURLMOPT_MAXCONNECTS,
	    (long)((o->parallel + 1) * o->nurls));
	d->slots = calloc((size_t)o->parallel, sizeof(*d->slots));
	d->idle = calloc((size_t)o->parallel, sizeof(*d->idle));
	if (d->slots == NULL || d->idle == NULL)
		return deliver_opt_fail(why, "out of memory");
	for (i = 0; i < o->parallel; i++) {
		if (xfer_init(&d->slots[i], d->post_hdr) == -1)
			return deliver_opt_fail(why, "cannot set up libcurl");
		d->idle[d->nidle++] = &d->slots[i];
	}
	if (deliver_endpoints(d, why) == -1)
		return -1;
	if (o->reject_path != NULL &&
	    spool_open(&d->reject, o->reject_path, swhy) == -1)
		return deliver_opt_fail(why, "--reject: %s", swhy);
	if (o->spool_path != NULL &&
	    spool_open(&d->spool, o->spool_path, swhy) == -1)
		return deliver_opt_fail(why, "--spool: %s", swhy);
	if (pipe2(deliver_wake, O_NONBLOCK | O_CLOEXEC) == -1)
		return deliver_opt_fail(why, "pipe: %s", strerror(errno));
	deliver_signals = 0;
	return 0;
}

static void
deliver_batch_list_free(struct batch *b)
{
	struct batch *next;

	for (; b != NULL; b = next) {
		next = b->next;
		batch_destroy(b);
	}
}

void
deliver_free(struct deliver *d)
{
	char why[SPOOL_WHY_LEN];
	long i;
	int e;

	if (d == NULL)
		return;
	for (i = 0; d->slots != NULL && i < d->o.parallel; i++) {
		if (d->slots[i].busy)
			curl_multi_remove_handle(d->multi, d->slots[i].h);
		if (d->slots[i].b != NULL)
			batch_destroy(d->slots[i].b);
		xfer_free(&d->slots[i]);
	}
	for (e = 0; e < d->o.nurls; e++) {
		if (d->ep[e].probe.busy)
			curl_multi_remove_handle(d->multi, d->ep[e].probe.h);
		xfer_free(&d->ep[e].probe);
		free(d->ep[e].url_json);
		free(d->ep[e].health_url);
	}
	if (d->multi != NULL)
		curl_multi_cleanup(d->multi);
	free(d->slots);
	free(d->idle);
	curl_slist_free_all(d->post_hdr);
	curl_slist_free_all(d->probe_hdr);
	if (d->fill != NULL)
		batch_destroy(d->fill);
	deliver_batch_list_free(d->ready);
	deliver_batch_list_free(d->waiting);
	deliver_batch_list_free(d->free);
	(void)spool_close(&d->spool, why);
	(void)spool_close(&d->reject, why);
	if (d->in_flags != -1)
		(void)fcntl(d->in.fd, F_SETFL, d->in_flags);
	ndjson_reader_free(&d->in);
	if (d->tok != NULL)
		json_tokener_free(d->tok);
	for (i = 0; i < 2; i++) {
		if (deliver_wake[i] != -1)
			close(deliver_wake[i]);
		deliver_wake[i] = -1;
	}
	free(d);
}

int
deliver_command(const struct deliver_opts *o)
{
	struct sigaction sa;
	struct deliver *d;
	char why[DELIVER_WHY_LEN];
	int status;

	if (deliver_new(&d, o, why) == -1) {
		warnx("%s", why);
		deliver_free(d);
		return SM_EXIT_USAGE;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = deliver_stop;	/* no SA_RESTART: wake the loop */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* a gone reader of the acknowledgements shows up as EPIPE */
	signal(SIGPIPE, SIG_IGN);
	status = deliver_run(d);
	deliver_free(d);
	return status;
}
