/*
 * The delivery engine's loop: reading input into batches, sending them
 * over libcurl's multi interface, stopping on signals (deliver.h).
 */
#include <ctype.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "clock.h"
#include "backoff.h"
#include "balance.h"
#include "batch.h"
#include "cli.h"
#include "deliver.h"
#include "exitcode.h"
#include "ndjson.h"
#include "spool.h"

#include "deliver_impl.h"

/*
 * Out of memory, or libcurl failing: the command cannot go on.  Reported
 * once; the loop then stops as on a signal, so that what was read is still
 * spooled, and the exit status says so (SM_EXIT_FATAL).
 */
void
deliver_fatal(struct deliver *d, const char *what)
{
	if (!atomic_exchange_explicit(&d->fatal, true, memory_order_acq_rel))
		warnx("%s", what);
}

/* The loop or the journal's intake met a fatal error. */
bool
deliver_is_fatal(const struct deliver *d)
{
	return atomic_load_explicit(&((struct deliver *)d)->fatal,
	    memory_order_acquire);
}

/* Batches */

struct batch *
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

void
deliver_batch_put(struct deliver *d, struct batch *b)
{
	b->next = d->free;
	d->free = b;
}

/* Queues */

void
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

/* Input */

void
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
	/* with --journal, the intake's (under jlock), copied by the loop */
	if (d->journaling)
		atomic_fetch_add_explicit(&d->ibad_lines, 1,
		    memory_order_relaxed);
	else
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
	struct why why;

	if (d->fill == NULL && (d->fill = deliver_batch_get(d)) == NULL) {
		deliver_fatal(d, "out of memory");
		deliver_bad_line(d, d->in.lineno, line, len, "out of memory; "
		    "not delivered");
		return;
	}
	if (d->fill->n == 0)
		d->fill_since = now;
	if (batch_add(d->fill, d->tok, line, len, d->in.lineno, &why) == -1)
		deliver_bad_line(d, d->in.lineno, line, len, why.msg);
	else
		d->c.records_in++;
}

void
deliver_too_long(struct deliver *d)
{
	struct why why;

	why_set(&why, "longer than %zu bytes; skipped",
	    d->in.max_line);
	deliver_bad_line(d, d->in.lineno, "", 0, why.msg);
}

void
deliver_input_failed(struct deliver *d)
{
	warn("input");
	atomic_store_explicit(&d->read_failed, true, memory_order_relaxed);
}

/* Queue the batch being filled; false when --parallel are queued already. */
bool
deliver_seal(struct deliver *d)
{
	struct batch *b = d->fill;

	if (b == NULL || b->n == 0)
		return true;
	if (d->live >= d->o.parallel)
		return false;
	if (batch_seal(b) == -1) {
		/* stays the batch being filled: the stop spools it */
		deliver_fatal(d, "out of memory");
		return false;
	}
	b->request = ++d->next_request;
	d->fill = NULL;
	d->live++;
	if (d->journaling && b->jn > 0)
		deliver_journal_sealed(d, b);
	ready_push(d, b, false);
	return true;
}

/* After a stop signal, a full batch goes to the spool, not a request. */
static void
deliver_spool_fill(struct deliver *d)
{
	d->fill->request = ++d->next_request;
	why_prefix(&d->fill->why, "interrupted before sending");
	deliver_spool(d, d->fill, false);
	d->fill = NULL;
}

static void
deliver_read_lines(struct deliver *d, int64_t now)
{
	const char *line;
	size_t len;
	long got;
	int budget = DELIVER_READ_BUDGET;

	d->input = DELIVER_IN_READABLE;
	while (d->input != DELIVER_IN_DONE && !deliver_is_fatal(d)) {
		if (d->fill != NULL && d->fill->n >= (size_t)d->o.batch &&
		    d->stop != DELIVER_RUNNING) {
			deliver_spool_fill(d);
		} else if (d->fill != NULL &&
		    d->fill->n >= (size_t)d->o.batch && !deliver_seal(d)) {
			d->input = DELIVER_IN_BLOCKED;
			return;
		}
		if (budget-- == 0) {
			d->input = DELIVER_IN_MORE;
			return;
		}
		if (d->o.strict && (d->c.bad_lines > 0 || d->c.rejected > 0)) {
			warnx("--strict: stopped reading after line %lu",
			    d->in.lineno);
			d->input = DELIVER_IN_DONE;
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
			if (got < 0) {
				if (errno == EAGAIN || errno == EWOULDBLOCK) {
					d->input = DELIVER_IN_DRAINED;
					return;
				}
				deliver_input_failed(d);
				d->input = DELIVER_IN_DONE;
			}
			break;
		case NDJSON_EOF:
			d->input = DELIVER_IN_DONE;
			break;
		case NDJSON_ERROR:
			deliver_input_failed(d);
			d->input = DELIVER_IN_DONE;
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
		if (d->input == DELIVER_IN_DONE) {
			deliver_batch_put(d, d->fill);
			d->fill = NULL;
		}
		return;
	}
	if (d->input == DELIVER_IN_DONE || (d->input == DELIVER_IN_DRAINED &&
	    now - d->fill_since >= d->o.linger_ms))
		deliver_seal(d);
}

/* Signals */

/*
 * Stop reading (the input ended, the drain timed out, or a second signal):
 * lines already read are ours to account for: journal or spool the
 * complete ones (a line cut short is reported as such); say how much is
 * left unread.
 */
static void
deliver_end_drain(struct deliver *d, int64_t now)
{
	const char *line;
	size_t len;
	int unread = 0;

	if (d->input != DELIVER_IN_DONE && ioctl(d->in.fd, FIONREAD,
	    &unread) == 0 && unread > 0)
		warnx("stopped reading: %d bytes left unread in the input",
		    unread);
	if (d->journaling) {
		deliver_journal_stop_reading(d, now);
		return;
	}
	d->input = DELIVER_IN_DONE;
	/* no more reading: what is buffered is the whole rest of the input */
	d->in.eof = true;
	for (;;) {
		if (d->fill != NULL && d->fill->n >= (size_t)d->o.batch)
			deliver_spool_fill(d);
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
	if (d->fill != NULL && d->fill->n > 0)
		deliver_spool_fill(d);
	else if (d->fill != NULL)
		deliver_batch_put(d, d->fill);
	d->fill = NULL;
}

static void
deliver_read(struct deliver *d, int64_t now)
{
	if (d->input == DELIVER_IN_DONE)
		return;
	if (d->stop != DELIVER_RUNNING && now >= d->drain_end) {
		deliver_end_drain(d, now);
		return;
	}
	if (d->journaling)
		deliver_journal_read(d, now);
	else
		deliver_read_lines(d, now);
	if (d->stop != DELIVER_RUNNING && d->input == DELIVER_IN_DONE)
		deliver_end_drain(d, now);
}

static void
deliver_begin_stop(struct deliver *d)
{
	/* a stop for TLS (deliver_check_signals) is no interruption */
	bool tls = d->tls_bad == d->o.nurls;
	struct batch *b;

	int64_t now = clock_mono_ms();

	d->stop = DELIVER_STOPPING;
	while ((b = ready_pop(d)) != NULL)
		deliver_interrupt(d, b, true, tls ? "configuration error" :
		    "interrupted before sending");
	while ((b = d->waiting) != NULL) {
		d->waiting = b->next;
		deliver_interrupt(d, b, true, tls ? "configuration error" :
		    "interrupted while waiting to retry");
	}
	/* with a journal, the batch being filled is in it: drop it here */
	if (d->journaling && d->fill != NULL) {
		d->c.kept += deliver_journal_keep(d, d->fill);
		deliver_batch_put(d, d->fill);
		d->fill = NULL;
	}
	/* read on, to the input's end or for --drain-timeout */
	d->drain_end = now + d->o.drain_timeout_ms;
	/* a configuration error reads no further */
	if (deliver_is_fatal(d) || tls || d->o.drain_timeout_ms == 0)
		deliver_end_drain(d, now);
	else if (d->input != DELIVER_IN_DONE &&
	    !deliver_journal_in_done(d))
		warnx("interrupted: reading the input to its end, for up to "
		    "%.1f s (again to stop at once)",
		    (double)d->o.drain_timeout_ms / 1000);
	if (d->busy > 0 && !deliver_is_fatal(d))
		warnx("interrupted: finishing %ld request%s in flight "
		    "(again to abort them)", d->busy, d->busy == 1 ? "" : "s");
}

static void
deliver_abort(struct deliver *d)
{
	long i;
	int e;

	d->stop = DELIVER_ABORTING;
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
		deliver_interrupt(d, b, true, "aborted in flight");
	}
	for (e = 0; e < d->o.nurls; e++) {
		if (!d->ep[e].probe.busy)
			continue;
		curl_multi_remove_handle(d->multi, d->ep[e].probe.h);
		d->ep[e].probe.busy = false;
	}
}

/*
 * Each stop signal wrote a byte (cli_catch_stop): the first stops, the
 * second aborts.  A fatal error stops too.
 */
static void
deliver_check_signals(struct deliver *d)
{
	char buf[64];
	ssize_t n;

	while ((n = read(d->wake[0], buf, sizeof(buf))) > 0)
		d->signals += (unsigned)n;
	if ((d->signals >= 1 || deliver_is_fatal(d) ||
	    d->tls_bad == d->o.nurls) && d->stop == DELIVER_RUNNING)
		deliver_begin_stop(d);
	if (d->signals >= 2 && d->stop != DELIVER_ABORTING) {
		deliver_abort(d);
		if (d->input != DELIVER_IN_DONE)
			deliver_end_drain(d, clock_mono_ms());
	}
}

int
deliver_wake_fd(const struct deliver *d)
{
	return d->wake[1];
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
		if (d->stop != DELIVER_RUNNING) {
			deliver_interrupt(d, b, true,
			    "interrupted before sending");
			continue;
		}
		deliver_start(d, b, now);
	}
	if (d->o.health_interval_ms == 0 || d->o.nurls < 2 ||
	    d->stop != DELIVER_RUNNING)
		return;
	for (e = 0; e < d->o.nurls; e++)
		if (!d->ep[e].probe.busy && now >= d->ep[e].next_probe)
			probe_start(d, &d->ep[e]);
}

static bool
deliver_wants_input(const struct deliver *d)
{
	if (d->input == DELIVER_IN_DONE)
		return false;
	return d->input == DELIVER_IN_DRAINED;
}

static int
deliver_timeout(const struct deliver *d, int64_t now)
{
	int64_t t = DELIVER_POLL_MAX_MS, j;
	const struct batch *b;
	int e;

	if ((d->ready != NULL && d->nidle > 0) ||
	    d->input == DELIVER_IN_MORE)
		return 0;
	/* a fatal error stops on the next turn */
	if (deliver_is_fatal(d) && d->stop == DELIVER_RUNNING)
		return 0;
	/* input waited for a slot, and one came free */
	if (d->input == DELIVER_IN_BLOCKED && d->live < d->o.parallel)
		return 0;
	/* a partial batch waited for a slot to go after --linger */
	if (d->fill != NULL && d->fill->n > 0 &&
	    d->input == DELIVER_IN_DONE && d->live < d->o.parallel)
		return 0;
	/* with every slot taken, a completion wakes the loop instead */
	if (d->fill != NULL && d->fill->n > 0 &&
	    d->input == DELIVER_IN_DRAINED && d->live < d->o.parallel &&
	    d->fill_since + d->o.linger_ms - now < t)
		t = d->fill_since + d->o.linger_ms - now;
	for (b = d->waiting; b != NULL; b = b->next)
		if (b->due - now < t)
			t = b->due - now;
	if (d->stop != DELIVER_RUNNING && d->input != DELIVER_IN_DONE &&
	    d->drain_end - now < t)
		t = d->drain_end - now;
	if ((j = deliver_journal_due_in(d, now)) >= 0 && j < t)
		t = j;
	if ((j = deliver_metrics_due_in(d, now)) >= 0 && j < t)
		t = j;
	if (d->o.health_interval_ms > 0 && d->o.nurls > 1 &&
	    d->stop == DELIVER_RUNNING)
		for (e = 0; e < d->o.nurls; e++)
			if (!d->ep[e].probe.busy &&
			    d->ep[e].next_probe - now < t)
				t = d->ep[e].next_probe - now;
	return t < 0 ? 0 : (int)t;
}

/* libcurl cannot go on: stop, and spool what was in flight. */
static void
deliver_curl_failed(struct deliver *d, const char *what)
{
	char why[64];

	snprintf(why, sizeof(why), "%s failed", what);
	deliver_fatal(d, why);
	if (d->stop == DELIVER_RUNNING)
		deliver_begin_stop(d);
	if (d->stop != DELIVER_ABORTING)
		deliver_abort(d);
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

/*
 * On a terminal: the statistics in one line, rewritten at most every
 * DELIVER_STATUS_MS (end: the last time, then cleared for the summary on
 * stderr).  The cursor is left at the line's start, so that a warning
 * written meanwhile overwrites it rather than follows it.
 */
static void
deliver_status(struct deliver *d, int64_t now, bool end)
{
	char line[1024];

	if (d->o.status == NULL || (!end && now - d->status_ms <
	    DELIVER_STATUS_MS))
		return;
	d->status_ms = now;
	/* the intake's, as they stand now, not as the last feed saw them */
	deliver_journal_counts(d);
	deliver_stats_format(&d->c, line, sizeof(line));
	if (end)
		fputs("\r\033[K", d->o.status);
	else
		fprintf(d->o.status, "\r\033[K%s\r", line);
	/* a terminal gone: nothing to do about it here */
	(void)fflush(d->o.status);
}

int
deliver_run(struct deliver *d)
{
	struct curl_waitfd fds[2];
	struct why why;
	int running, status = SM_EXIT_OK, timeout;
	unsigned nfds;
	bool jwait;

	for (;;) {
		int64_t now = clock_mono_ms();

		deliver_check_signals(d);
		deliver_read(d, now);
		deliver_seal_due(d, now);
		deliver_start_due(d, now);
		if (curl_multi_perform(d->multi, &running) != CURLM_OK)
			deliver_curl_failed(d, "curl_multi_perform");
		deliver_reap(d);
		deliver_journal_tick(d, clock_mono_ms());
		deliver_metrics_tick(d, clock_mono_ms());
		if (d->input == DELIVER_IN_DONE && d->fill == NULL &&
		    d->live == 0)
			break;
		deliver_flush_acks(d);
		deliver_status(d, now, false);
		nfds = 0;
		fds[nfds].fd = d->wake[0];
		fds[nfds].events = CURL_WAIT_POLLIN;
		fds[nfds++].revents = 0;
		jwait = false;
		timeout = deliver_timeout(d, clock_mono_ms());
		if (deliver_wants_input(d)) {
			fds[nfds].fd = d->journaling ? d->ievfd : d->in.fd;
			fds[nfds].events = CURL_WAIT_POLLIN;
			fds[nfds++].revents = 0;
			jwait = d->journaling;
			if (jwait && !deliver_journal_wait(d, true))
				timeout = 0;
		}
		if (curl_multi_poll(d->multi, fds, nfds, timeout, NULL) !=
		    CURLM_OK)
			deliver_curl_failed(d, "curl_multi_poll");
		if (jwait)
			(void)deliver_journal_wait(d, false);
	}
	deliver_flush_acks(d);
	deliver_status(d, clock_mono_ms(), true);
	deliver_journal_close(d);
	deliver_metrics_close(d);
	if (d->o.stats) {
		char line[1024];

		deliver_stats_format(&d->c, line, sizeof(line));
		warnx("%s", line);
	}
	/* each file's failure is reported: one must not hide the other */
	if (spool_close(&d->spool, &why) == -1) {
		warnx("%s", why.msg);
		atomic_store_explicit(&d->write_failed, true,
		    memory_order_relaxed);
	}
	if (spool_close(&d->reject, &why) == -1) {
		warnx("%s", why.msg);
		atomic_store_explicit(&d->write_failed, true,
		    memory_order_relaxed);
	}
	/* records a full journal dropped: lost */
	if (d->c.bad_lines > 0 || d->c.rejected > 0 || d->c.spooled > 0 ||
	    d->c.dropped > 0 ||
	    atomic_load_explicit(&d->read_failed, memory_order_relaxed) ||
	    atomic_load_explicit(&d->write_failed, memory_order_relaxed))
		status = SM_EXIT_PARTIAL;
	if (d->undelivered)
		status = SM_EXIT_PARTIAL;
	/* nothing answered at all: the endpoints are unreachable */
	if ((d->c.spooled > 0 || d->undelivered) && !d->answered)
		status = SM_EXIT_UNAVAILABLE;
	/* every endpoint failed TLS verification: the set-up is wrong */
	if (d->tls_bad == d->o.nurls)
		status = SM_EXIT_USAGE;
	if (deliver_is_fatal(d))
		status = SM_EXIT_FATAL;
	return status;
}

int
deliver_new(struct deliver **dp, const struct deliver_opts *o, struct why *why)
{
	struct deliver *d;
	struct why swhy;
	long i;
	int rc;

	*dp = NULL;
	if (deliver_opts_check(o, why) == -1)
		return -1;
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return why_set(why, "out of memory");
	*dp = d;
	d->o = *o;
	d->in.fd = -1;
	d->in_flags = -1;
	d->tp[0] = d->tp[1] = d->devnull = -1;
	d->ievfd = d->istopfd = -1;
	{
		pthread_mutexattr_t ma;

		pthread_mutexattr_init(&ma);
		pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_ADAPTIVE_NP);
		pthread_mutex_init(&d->jlock, &ma);
		pthread_mutexattr_destroy(&ma);
	}
	/* monotonic: the intake's timed wait to try a failed drop again */
	if ((rc = clock_cond_init(&d->jroom)) != 0) {
		pthread_cond_init(&d->jroom, NULL);	/* deliver_free's */
		return why_set(why, "a condition variable: %s", strerror(rc));
	}
	d->wake[0] = d->wake[1] = -1;
	d->c.nep = o->nurls;
	if (balance_init(&d->bal, o->nurls, o->nweights ? o->weights : NULL,
	    (int)o->max_fails, o->fail_timeout_ms) == -1)
		return why_set(why, "bad weights or --max-fails");
	backoff_init(&d->bo, BACKOFF_BASE_MS, BACKOFF_CAP_MS, 0);
	if ((d->tok = json_tokener_new()) == NULL)
		return why_set(why, "out of memory");
	/* trailing text: batch_prepare() names it */
	json_tokener_set_flags(d->tok, JSON_TOKENER_STRICT |
	    JSON_TOKENER_VALIDATE_UTF8 | JSON_TOKENER_ALLOW_TRAILING_CHARS);
	if (ndjson_reader_init(&d->in, o->in_fd, (size_t)o->max_line) == -1)
		return why_set(why, "out of memory");
	/* non-blocking, so --linger can wait on input and answers at once */
	if ((d->in_flags = fcntl(o->in_fd, F_GETFL)) == -1 ||
	    fcntl(o->in_fd, F_SETFL, d->in_flags | O_NONBLOCK) == -1)
		return why_set(why, "input: %s", strerror(errno));
	if (deliver_headers(d, why) == -1)
		return -1;
	if ((d->multi = curl_multi_init()) == NULL)
		return why_set(why, "cannot set up libcurl");
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
		return why_set(why, "out of memory");
	for (i = 0; i < o->parallel; i++) {
		if (xfer_init(&d->slots[i], d->post_hdr, o) == -1)
			return why_set(why, "cannot set up libcurl");
		d->idle[d->nidle++] = &d->slots[i];
	}
	if (deliver_endpoints(d, why) == -1)
		return -1;
	if (o->reject_path != NULL &&
	    spool_open(&d->reject, o->reject_path, &swhy) == -1)
		return why_set(why, "--reject: %s", swhy.msg);
	if (o->spool_path != NULL &&
	    spool_open(&d->spool, o->spool_path, &swhy) == -1)
		return why_set(why, "--spool: %s", swhy.msg);
	if (pipe2(d->wake, O_NONBLOCK | O_CLOEXEC) == -1)
		return why_set(why, "pipe: %s", strerror(errno));
	if (o->journal_dir != NULL && deliver_journal_open(d, why) == -1)
		return -1;
	if (o->metrics_path != NULL && deliver_metrics_open(d, why) == -1)
		return -1;
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
	struct why why;
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
	deliver_journal_close(d);
	free(d->jring);
	free(d->metrics_sender);
	batch_buf_free(&d->jrec);
	(void)spool_close(&d->spool, &why);
	(void)spool_close(&d->reject, &why);
	if (d->in_flags != -1)
		(void)fcntl(d->in.fd, F_SETFL, d->in_flags);
	ndjson_reader_free(&d->in);
	if (d->tok != NULL)
		json_tokener_free(d->tok);
	for (i = 0; i < 2; i++)
		if (d->wake[i] != -1)
			close(d->wake[i]);
	pthread_cond_destroy(&d->jroom);
	pthread_mutex_destroy(&d->jlock);
	free(d);
}

int
deliver_command(const struct deliver_opts *o)
{
	struct deliver *d;
	struct why why;
	int status;

	if (deliver_new(&d, o, &why) == -1) {
		warnx("%s", why.msg);
		deliver_free(d);
		return SM_EXIT_USAGE;
	}
	/* SIGINT, SIGTERM and SIGHUP each write a byte that wakes the loop */
	cli_catch_stop(deliver_wake_fd(d));
	status = deliver_run(d);
	/* nothing writes to a closed pipe once the engine is gone */
	cli_catch_stop(-1);
	deliver_free(d);
	return status;
}
