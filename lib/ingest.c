/*
 * sm-store's stdin mode: NDJSON lines batched to the committer, bad lines
 * reported, committed ones echoed, the rest spooled (ingest.h).
 */
#include <err.h>
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "clock.h"
#include "exitcode.h"
#include "ingest.h"
#include "ndjson.h"

/*
 * Batches handed to the committer and not yet answered: one being stored,
 * the next ones queued behind it while this thread parses more.
 */
#define INGEST_INFLIGHT 4
#define INGEST_LINE_MAX 4096	/* a formatted record, with room to spare */

struct ingest_batch {
	struct store_group g;
	int done;			/* set by the committer thread */
	struct ingest_batch *next;	/* the in-flight list, oldest first */
};

struct ingest {
	const struct ingest_config *c;
	struct ingest_stats *st;
	int done_fd;			/* eventfd: a batch was answered */
	struct ingest_batch *cur;	/* being filled */
	int64_t deadline_ms;		/* when cur must go, flush_ms */
	struct ingest_batch *head;	/* in flight */
	struct ingest_batch *tail;
	size_t inflight;
	struct ingest_batch *spare;	/* answered, for reuse */
	bool echo;
	bool write_failed;
	bool fatal;			/* out of memory: stop reading */
	char buf[INGEST_LINE_MAX];
};

/* The committer's callback: runs in its thread. */
static void
ingest_done(struct store_group *g, void *arg)
{
	struct ingest *ig = arg;
	struct ingest_batch *b = (struct ingest_batch *)g;
	uint64_t one = 1;

	__atomic_store_n(&b->done, 1, __ATOMIC_RELEASE);
	if (write(ig->done_fd, &one, sizeof(one)) == -1 && errno != EAGAIN)
		warn("eventfd");
}

static struct ingest_batch *
ingest_batch_get(struct ingest *ig)
{
	struct ingest_batch *b = ig->spare;

	if (b != NULL) {
		ig->spare = b->next;
	} else {
		if ((b = calloc(1, sizeof(*b))) == NULL)
			return NULL;
		b->g.rows = calloc(ig->c->batch, sizeof(*b->g.rows));
		if (b->g.rows == NULL) {
			free(b);
			return NULL;
		}
	}
	store_group_reset(&b->g);
	b->g.n = 0;
	b->g.atomic = false;
	b->g.done = ingest_done;
	b->g.done_arg = ig;
	b->done = 0;
	b->next = NULL;
	return b;
}

static void
ingest_batch_put(struct ingest *ig, struct ingest_batch *b)
{
	store_group_reset(&b->g);
	b->next = ig->spare;
	ig->spare = b;
}

static void
ingest_batch_free_all(struct ingest_batch *b)
{
	while (b != NULL) {
		struct ingest_batch *next = b->next;

		store_group_reset(&b->g);
		free(b->g.rows);
		free(b);
		b = next;
	}
}

/* rec as one canonical line in ig->buf, without the newline; -1 if not. */
static int
ingest_format(struct ingest *ig, const struct record *rec)
{
	int len = record_format(rec, RECORD_CANONICAL, ig->buf,
	    sizeof(ig->buf));

	if (len < 0) {
		errno = ENOMEM;
		return -1;
	}
	return len - 1;
}

/* Records that could not be stored: to the spool, ids and all. */
static void
ingest_spool(struct ingest *ig, struct store_row *rows, size_t n)
{
	struct spool *sp = ig->c->spool;
	size_t i;
	int len;

	if (sp == NULL) {
		ig->st->lost += n;
		return;
	}
	for (i = 0; i < n; i++) {
		if ((len = ingest_format(ig, &rows[i].rec)) == -1 ||
		    spool_write(sp, ig->buf, (size_t)len) == -1) {
			warn("%s", sp->path);
			ig->st->lost += n - i;
			return;
		}
		ig->st->spooled++;
	}
	if (spool_flush(sp) == -1)
		warn("%s", sp->path);
}

static void
ingest_echo(struct ingest *ig, const struct store_group *g)
{
	size_t i, r = 0;
	int len;

	for (i = 0; i < g->n && ig->echo; i++) {
		/* rejects are in row order */
		if (r < g->nrejects && g->rejects[r].row == i) {
			r++;
			continue;
		}
		len = ingest_format(ig, &g->rows[i].rec);
		if (len == -1 || fwrite(ig->buf, 1, (size_t)len + 1,
		    stdout) != (size_t)len + 1)
			break;
	}
	if (ig->echo && fflush(stdout) == EOF) {
		/* a reader that went away is not an error: stop echoing */
		if (errno != EPIPE) {
			warn("stdout");
			ig->write_failed = true;
		}
		ig->echo = false;
	}
}

/*
 * A line (or record) not stored: its number and reason on stderr, and an
 * entry in the reject file (spool.h) with the text when there is one.
 */
static void
ingest_reject(struct ingest *ig, unsigned long lineno, const char *why,
    const char *text, size_t len, bool is_record)
{
	struct spool_reject r = {
		.line = lineno,
		.reason = why,
		.text = text != NULL ? text : "",
		.len = text != NULL ? len : 0,
		.is_record = is_record,
	};

	warnx("line %lu: %s", lineno, why);
	ig->st->rejected++;
	if (ig->c->reject != NULL && spool_reject(ig->c->reject, &r) == -1) {
		warn("%s", ig->c->reject->path);
		ig->write_failed = true;
	}
}

/* Account for an answered batch. */
static void
ingest_settle(struct ingest *ig, struct ingest_batch *b)
{
	struct store_group *g = &b->g;
	size_t i;

	switch (g->status) {
	case STORE_DONE:
		ig->st->stored += g->stored;
		ig->st->duplicates += g->duplicates;
		for (i = 0; i < g->nrejects; i++) {
			const struct store_row *row;
			char why[WHY_LEN + 32];
			int len;

			row = &g->rows[g->rejects[i].row];
			len = ingest_format(ig, &row->rec);

			snprintf(why, sizeof(why), "the database refused it: "
			    "%s", g->rejects[i].reason.msg);
			ingest_reject(ig, row->where, why, ig->buf,
			    len > 0 ? (size_t)len : 0, len > 0);
		}
		if (ig->echo)
			ingest_echo(ig, g);
		break;
	case STORE_QUEUED:
	case STORE_REFUSED:
	case STORE_UNAVAILABLE:
		ingest_spool(ig, g->rows, g->n);
		break;
	}
}

static void
ingest_drain(struct ingest *ig)
{
	uint64_t v;

	if (read(ig->done_fd, &v, sizeof(v)) == -1 && errno != EAGAIN)
		warn("eventfd");
}

/* Settle answered batches, oldest first, until at most keep are left. */
static void
ingest_harvest(struct ingest *ig, size_t keep)
{
	while (ig->head != NULL) {
		struct ingest_batch *b = ig->head;

		if (!__atomic_load_n(&b->done, __ATOMIC_ACQUIRE)) {
			struct pollfd pfd = { .fd = ig->done_fd,
			    .events = POLLIN };

			if (ig->inflight <= keep)
				return;
			if (poll(&pfd, 1, -1) > 0)
				ingest_drain(ig);
			continue;
		}
		ig->head = b->next;
		if (ig->head == NULL)
			ig->tail = NULL;
		ig->inflight--;
		ingest_settle(ig, b);
		ingest_batch_put(ig, b);
	}
}

/* Hand the batch being filled to the committer. */
static void
ingest_submit(struct ingest *ig)
{
	struct ingest_batch *b = ig->cur;

	if (b == NULL)
		return;
	ig->cur = NULL;
	if (b->g.n == 0) {
		ingest_batch_put(ig, b);
		return;
	}
	ingest_harvest(ig, INGEST_INFLIGHT - 1);
	if (ig->tail != NULL)
		ig->tail->next = b;
	else
		ig->head = b;
	ig->tail = b;
	ig->inflight++;
	if (store_submit(ig->c->store, &b->g) == -1) {
		/* the store gave up: straight to the spool, in order */
		b->g.status = STORE_UNAVAILABLE;
		b->done = 1;
	}
}

/* Whether a rejected line is still one JSON object (kept as such). */
static bool
ingest_is_object(const char *line, size_t len)
{
	struct json_object *obj;
	struct why why;

	obj = record_line_object(NULL, line, len, NULL, NULL, &why);
	json_object_put(obj);
	return obj != NULL;
}

static void
ingest_line(struct ingest *ig, const char *line, size_t len,
    unsigned long lineno)
{
	struct store_row *row;
	struct why why;

	if (ig->cur == NULL && (ig->cur = ingest_batch_get(ig)) == NULL) {
		ingest_reject(ig, lineno, "out of memory; not stored, and "
		    "reading stopped here", line, len, false);
		ig->fatal = true;
		return;
	}
	row = &ig->cur->g.rows[ig->cur->g.n];
	if (record_parse(line, len, &row->rec, &why) == -1) {
		ingest_reject(ig, lineno, why.msg, line, len,
		    ingest_is_object(line, len));
		return;
	}
	if (store_row_init(row, lineno) == -1) {
		ingest_reject(ig, lineno, "no random bytes for an id", line,
		    len, true);
		return;
	}
	if (ig->cur->g.n++ == 0)
		ig->deadline_ms = clock_mono_ms() + ig->c->flush_ms;
	if (ig->cur->g.n == ig->c->batch)
		ingest_submit(ig);
}

/* Wait for input, an answered batch, or the flush deadline. */
static int
ingest_wait(struct ingest *ig, struct ndjson_reader *r)
{
	struct pollfd pfd[2] = {
		{ .fd = ig->c->fd, .events = POLLIN },
		{ .fd = ig->done_fd, .events = POLLIN },
	};
	int timeout = -1;

	if (ig->cur != NULL && ig->cur->g.n > 0) {
		int64_t left = ig->deadline_ms - clock_mono_ms();

		if (left <= 0) {
			ingest_submit(ig);
			return 0;
		}
		timeout = (int)left;
	}
	if (poll(pfd, 2, timeout) == -1)
		return errno == EINTR ? 0 : -1;
	if (pfd[1].revents & POLLIN)
		ingest_drain(ig);
	if (pfd[0].revents != 0 && ndjson_fill(r) < 0 && errno != EINTR &&
	    errno != EAGAIN)
		return -1;
	return 0;
}

int
ingest_run(const struct ingest_config *c, struct ingest_stats *st)
{
	struct ndjson_reader r;
	struct ingest ig;
	int status = SM_EXIT_OK;

	memset(st, 0, sizeof(*st));
	memset(&ig, 0, sizeof(ig));
	ig.c = c;
	ig.st = st;
	ig.echo = c->echo;
	if (ndjson_reader_init(&r, c->fd, c->max_line) == -1) {
		warnx("out of memory");
		return SM_EXIT_FATAL;
	}
	if ((ig.done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1) {
		warn("eventfd");
		ndjson_reader_free(&r);
		return SM_EXIT_FATAL;
	}
	while (!*c->stop && !ig.fatal) {
		enum ndjson_status ns;
		const char *line;
		size_t len;

		/* without a spool, reading on would only lose records */
		if (c->spool == NULL && store_gave_up(c->store))
			break;
		ingest_harvest(&ig, SIZE_MAX);
		if (c->strict && st->rejected > 0) {
			warnx("--strict: stopped reading after line %lu",
			    r.lineno);
			break;
		}
		ns = ndjson_next(&r, &line, &len);
		if (ns == NDJSON_LINE) {
			ingest_line(&ig, line, len, r.lineno);
			continue;
		}
		if (ns == NDJSON_TOO_LONG) {
			char why[64];

			snprintf(why, sizeof(why), "longer than %zu bytes",
			    r.max_line);
			ingest_reject(&ig, r.lineno, why, NULL, 0, false);
			continue;
		}
		if (ns == NDJSON_EOF)
			break;
		if (ingest_wait(&ig, &r) == -1) {
			warn("input");
			status = SM_EXIT_PARTIAL;
			break;
		}
	}
	ingest_submit(&ig);
	ingest_harvest(&ig, 0);
	if (c->reject != NULL && spool_flush(c->reject) == -1) {
		warn("%s", c->reject->path);
		ig.write_failed = true;
	}
	ingest_batch_free_all(ig.spare);
	ingest_batch_free_all(ig.cur);
	close(ig.done_fd);
	ndjson_reader_free(&r);
	if (ig.fatal)
		return SM_EXIT_FATAL;
	if (st->lost > 0 || st->spooled > 0 || store_gave_up(c->store))
		return SM_EXIT_UNAVAILABLE;
	if (st->rejected > 0 || ig.write_failed)
		return SM_EXIT_PARTIAL;
	return status;
}

void
ingest_summary(const struct ingest_stats *st, char *buf, size_t size)
{
	int n;

	n = snprintf(buf, size, "%llu stored, %llu duplicate%s, %llu rejected",
	    st->stored, st->duplicates, st->duplicates == 1 ? "" : "s",
	    st->rejected);
	if (st->spooled > 0 && n >= 0 && (size_t)n < size)
		n += snprintf(buf + n, size - (size_t)n, ", %llu spooled",
		    st->spooled);
	if (st->lost > 0 && n >= 0 && (size_t)n < size)
		snprintf(buf + n, size - (size_t)n, ", %llu not stored",
		    st->lost);
}
