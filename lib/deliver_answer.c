/*
 * What became of a request: classified, acknowledged on stdout, refused
 * records to the reject file, failures retried with backoff or spooled,
 * and the statistics of it all.
 */
#include <err.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "jsonutil.h"

#include "deliver_impl.h"

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

struct json_object *
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

const char *
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
	/* one endpoint (sm-post): no shares, nowhere to fail over to */
	for (i = 0; c->nep > 1 && i < c->nep; i++)
		STATS_ADD(" | %c: %lu (%.1f%%)", 'a' + i, c->per_ep[i],
		    c->delivered ? 100.0 * (double)c->per_ep[i] /
		    (double)c->delivered : 0.0);
	STATS_ADD(" | retried %lu", c->retried);
	if (c->nep > 1)
		STATS_ADD(" | failed over %lu", c->failed_over);
	if (c->rejected > 0)
		STATS_ADD(" | rejected %lu", c->rejected);
	if (c->spooled > 0)
		STATS_ADD(" | spooled %lu", c->spooled);
	if (c->kept > 0)
		STATS_ADD(" | kept %lu", c->kept);
	if (c->dropped > 0)
		STATS_ADD(" | dropped %lu", c->dropped);
#undef STATS_ADD
}

/* Outcomes */

void
deliver_write_failed(struct deliver *d, struct spool *s)
{
	/* the journal's intake too (the reject file, under jlock) */
	if (!atomic_exchange_explicit(&d->write_failed, true,
	    memory_order_relaxed))
		warn("%s", s->path);
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
void
deliver_finish(struct deliver *d, struct batch *b)
{
	d->live--;
	deliver_stats_tick(d);
	deliver_journal_done(d, b);
	deliver_batch_put(d, b);
}

static const char *
deliver_label(const struct deliver *d, int ep)
{
	return ep >= 0 ? d->o.urls[ep] : "";
}

/* Records that cannot be delivered in time: spool, stderr. */
void
deliver_spool(struct deliver *d, struct batch *b, bool sealed)
{
	const char *why = b->why.msg[0] != '\0' ? b->why.msg :
	    "stopped before sending";
	char lines[96];
	size_t i, lost;

	if (b->n == 0)
		goto out_finish;
	if (d->journaling && d->spool.f == NULL) {
		/* not given up: in the journal, for the next start */
		lost = deliver_journal_lost(d, b);
		batch_describe(b, lines, sizeof(lines));
		if (lost == 0)
			warnx("request %lu (%s): not delivered, kept in the "
			    "journal: %s", b->request, lines, why);
		else if (lost == b->n)
			warnx("request %lu (%s): not delivered, and dropped "
			    "from the full journal: lost: %s", b->request,
			    lines, why);
		else
			warnx("request %lu (%s): not delivered; %zu of its "
			    "records dropped from the full journal, lost, the "
			    "rest kept in it: %s", b->request, lines, lost,
			    why);
		d->undelivered = true;
		d->c.kept += b->n - lost;
		if (sealed) {
			d->live--;
			deliver_stats_tick(d);
		}
		deliver_batch_put(d, b);
		return;
	}
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
	    d->spool.f != NULL ? d->spool.path : "", why);
	d->c.spooled += b->n;
out_finish:
	if (sealed) {
		deliver_finish(d, b);
	} else {
		deliver_batch_put(d, b);
	}
}

/*
 * Stopped before it was delivered: with a journal, it stays there for the
 * next start; without, it is spooled.  what, when not NULL, prefixes the
 * reason.
 */
void
deliver_interrupt(struct deliver *d, struct batch *b, bool sealed,
    const char *what)
{
	if (what != NULL)
		why_prefix(&b->why, what);
	if (!d->journaling) {
		deliver_spool(d, b, sealed);
		return;
	}
	d->c.kept += deliver_journal_keep(d, b);
	if (sealed)
		d->live--;
	deliver_batch_put(d, b);
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
	/* the journal's intake writes bad lines to it too */
	pthread_mutex_lock(&d->jlock);
	if (d->reject.f != NULL && spool_reject(&d->reject, &r) == -1)
		deliver_write_failed(d, &d->reject);
	pthread_mutex_unlock(&d->jlock);
	d->c.rejected++;
	/* --strict: the journal's intake stops reading */
	atomic_store_explicit(&d->refused, true, memory_order_relaxed);
	b->rejected++;
}

void
deliver_ack(struct deliver *d, struct batch *b, long status, double ms,
    struct json_object *answer)
{
	struct json_object *api = NULL, *v;
	FILE *f = d->o.acks;
	int rc;

	if (d->acks_gone || f == NULL)
		return;
	if (answer != NULL)
		json_object_object_get_ex(answer, "api", &api);
	/* each write checked as it is made: ferror() keeps no errno */
	rc = fprintf(f, "{\"request\":%lu,\"records\":%zu,\"status\":%ld,"
	    "\"latency_ms\":%.1f,\"endpoint\":%s,\"api\":%s,\"attempts\":%u",
	    b->request, b->n, status, ms, d->ep[b->ep].url_json,
	    api != NULL && json_object_is_type(api, json_type_string) ?
	    json_object_to_json_string_ext(api, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE) : "null", b->attempts);
	if (rc >= 0 && answer != NULL && json_object_object_get_ex(answer,
	    "stored", &v) && json_object_is_type(v, json_type_int))
		rc = fprintf(f, ",\"stored\":%lld",
		    (long long)json_object_get_int64(v));
	if (rc >= 0 && answer != NULL && json_object_object_get_ex(answer,
	    "duplicates", &v) && json_object_is_type(v, json_type_int))
		rc = fprintf(f, ",\"duplicates\":%lld",
		    (long long)json_object_get_int64(v));
	if (rc >= 0 && b->rejected > 0)
		rc = fprintf(f, ",\"rejected\":%lu", b->rejected);
	if (rc >= 0)
		rc = fputs("}\n", f);
	if (rc < 0) {
		if (errno != EPIPE)
			warn("acknowledgements");
		d->acks_gone = true;
	}
	d->acks_dirty = true;
}

void
deliver_report(struct deliver *d, int ep, enum balance_change ch,
    const char *why)
{
	struct endpoint *e = &d->ep[ep];

	/* a lone endpoint is never taken out: say when it fails and heals */
	if (d->o.nurls == 1) {
		if (why[0] != '\0' && !e->failing) {
			warnx("%s: %s; retrying for up to %.1f s (--max-time), "
			    "then giving up", e->url, why,
			    (double)d->o.max_time_ms / 1000);
			e->failing_since = clock_mono_ms();
		} else if (why[0] == '\0' && e->failing) {
			warnx("%s: answering again", e->url);
		}
		e->failing = why[0] != '\0';
		return;
	}
	if (ch == BALANCE_DOWN)
		warnx("%s (%s): out for %.1f s: %s", d->ep[ep].label,
		    d->o.urls[ep], (double)d->o.fail_timeout_ms / 1000, why);
	else if (ch == BALANCE_UP)
		warnx("%s (%s): back", d->ep[ep].label, d->o.urls[ep]);
}

/*
 * With a journal and no spool, records are never given up: what ran out
 * of --retries or --max-time starts a new round (reported), and stays in
 * the journal meanwhile.  True when it did.
 */
static bool
deliver_keep_trying(struct deliver *d, struct batch *b, int64_t now)
{
	char lines[96];

	/* once the input ended, the command ends: the next start sends it */
	if (!d->journaling || d->spool.f != NULL ||
	    deliver_journal_in_done(d))
		return false;
	if (!b->jagain) {
		batch_describe(b, lines, sizeof(lines));
		warnx("request %lu (%s): not delivered after %u attempts: "
		    "%s; kept in the journal, trying on", b->request, lines,
		    b->attempts, b->why.msg);
	}
	b->jagain = true;
	b->attempts = 0;
	b->round = 0;
	b->deadline = now + d->o.max_time_ms;
	return true;
}

/* A failed attempt: fail over, back off, or give up and spool. */
void
deliver_retry(struct deliver *d, struct batch *b, int64_t now,
    int64_t retry_after)
{
	int64_t wait;

	b->tried |= 1U << b->ep;
	if (d->stop != DELIVER_RUNNING) {
		deliver_interrupt(d, b, true, NULL);
		return;
	}
	if (b->attempts > (unsigned long)d->o.retries &&
	    deliver_keep_trying(d, b, now)) {
		/* with a journal and no spool: a new round of attempts */
	} else if (b->attempts > (unsigned long)d->o.retries) {
		char what[64];

		snprintf(what, sizeof(what), "gave up after %u attempts",
		    b->attempts);
		why_prefix(&b->why, what);
		deliver_spool(d, b, true);
		return;
	}
	if (balance_has_candidate(&d->bal, b->tried, now)) {
		ready_push(d, b, true);
		return;
	}
	b->tried = 0;
	wait = backoff_wait_ms(&d->bo, b->round++, retry_after);
	if (now + wait >= b->deadline && !deliver_keep_trying(d, b, now)) {
		char what[64];

		snprintf(what, sizeof(what), "--max-time reached after %u "
		    "attempts", b->attempts);
		why_prefix(&b->why, what);
		deliver_spool(d, b, true);
		return;
	}
	b->due = now + wait;
	b->next = d->waiting;
	d->waiting = b;
}

/* A refusal (a 4xx other than 408 and 429): reject, re-send the rest. */
void
deliver_refused(struct deliver *d, struct batch *b, long status,
    const struct xfer *x, double ms, struct json_object *answer)
{
	char general[WHY_LEN], **reasons;
	struct why why;
	size_t i, named, n = b->n;

	if ((reasons = calloc(n, sizeof(*reasons))) == NULL) {
		/* which records were refused is not known: keep them all */
		deliver_fatal(d, "out of memory");
		why_prefix(&b->why, "out of memory reading a refusal");
		deliver_spool(d, b, true);
		return;
	}
	named = deliver_parse_refusal(x->resp.p != NULL ? x->resp.p : "",
	    x->resp.len, n, reasons, general, sizeof(general));
	if (general[0] != '\0')
		why_set(&why, "%s", general);
	else
		why_set(&why, "HTTP %ld", status);
	if (status == 404 && !d->ep[b->ep].told_404) {
		/* a wrong path, most likely: said once, with the right one */
		warnx("%s: HTTP 404: no such path on the receiver; sm-store "
		    "--listen takes records at POST /metrics",
		    d->ep[b->ep].url);
		d->ep[b->ep].told_404 = true;
	}
	if (named > 0 && named < n) {
		/* the receiver stored none of it: the rest goes again */
		for (i = 0; i < n; i++)
			if (reasons[i] != NULL)
				deliver_reject_one(d, b, i, status,
				    reasons[i]);
		b->resend = true;
		if (batch_keep(b, reasons) == -1) {
			/* b unchanged: the refused records are spooled too */
			deliver_fatal(d, "out of memory");
			why_prefix(&b->why, "out of memory dropping the "
			    "refused records");
			deliver_spool(d, b, true);
		} else if (d->stop != DELIVER_RUNNING) {
			deliver_interrupt(d, b, true, "interrupted before "
			    "sending again without the refused records");
		} else {
			ready_push(d, b, true);
		}
	} else {
		for (i = 0; i < n; i++)
			deliver_reject_one(d, b, i, status,
			    reasons[i] != NULL ? reasons[i] : why.msg);
		deliver_ack(d, b, status, ms, answer);
		deliver_finish(d, b);
	}
	pthread_mutex_lock(&d->jlock);
	if (d->reject.f != NULL && spool_flush(&d->reject) == -1)
		deliver_write_failed(d, &d->reject);
	pthread_mutex_unlock(&d->jlock);
	for (i = 0; i < n; i++)
		free(reasons[i]);
	free(reasons);
}
