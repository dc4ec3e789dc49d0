/*
 * sm-post and sm-split with --journal: every input record goes into the
 * journal (lib/journal.h) before the next read of the input, batches are
 * filled from the journal, and its checkpoint follows the batches that
 * were acknowledged, refused or spooled, in order.  The input is read,
 * framed and written by a thread of its own (the intake); the loop
 * reads back what it wrote, under d->jlock.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "deliver_impl.h"
#include "thread.h"

#define DELIVER_JOURNAL_RETRY_MS 1000	/* a failed write, tried again */
#define DELIVER_JOURNAL_FULL_SAY_MS 10000
#define TAKEN_LEN 10			/* "\0P", length, CRC-32C */
#define INTAKE_WAIT_MS 5		/* none of those: look again then */
#define INTAKE_WAKE_EVERY 8		/* commits a waiting loop is woken */

static int intake_start(struct deliver *d, struct why *why);

#define LOCK(d) pthread_mutex_lock(&(d)->jlock)
#define UNLOCK(d) pthread_mutex_unlock(&(d)->jlock)

/* A byte count on an eventfd: wakes the other side. */
static void
intake_signal(int fd)
{
	uint64_t one = 1;

	if (fd != -1 && write(fd, &one, sizeof(one)) == -1) {
		/* the count is only a wake-up */
	}
}

/*
 * After a commit (!idle) or before the intake waits (idle): wake the
 * loop when it waits, and INTAKE_WAKE_EVERY commits came since it fed,
 * or the intake goes idle with some it has not fed from.  The store of
 * icommits then the load of lwait here, the store of lwait then the load
 * of icommits in deliver_journal_wait(): sequentially consistent, so that
 * one side at least sees the other's (no wake-up lost).
 */
static void
intake_wake(struct deliver *d, bool idle)
{
	/* it alone writes icommits */
	uint64_t c = atomic_load_explicit(&d->icommits, memory_order_relaxed);
	uint64_t seen;

	if (!idle)
		atomic_store_explicit(&d->icommits, ++c, memory_order_seq_cst);
	if (!atomic_load_explicit(&d->lwait, memory_order_seq_cst))
		return;
	seen = atomic_load_explicit(&d->iseen, memory_order_relaxed);
	if (c - seen >= INTAKE_WAKE_EVERY || (idle && c != seen))
		intake_signal(d->ievfd);
}

/*
 * A pipe on the input is read without taking the bytes out of it (tee(2)
 * into a pipe of our own), up to its last complete line; their records
 * go into the journal, with a control frame "\0P" (length, CRC-32C of
 * those bytes), and only then are the bytes taken out of the input, and
 * "\0R" written after them.  A SIGKILL between the two leaves them in
 * both: the next start finds the journal ending on "\0P" and the same
 * bytes at the head of the input, and takes them out without reading them
 * again.  So no instant loses a line, nor reads it twice.  (A kill in the
 * microseconds between the taking out and "\0R", followed by a writer
 * whose next bytes are the very same, would lose those: the one case.)
 */
static long
deliver_peek(void *arg, char *buf, size_t len)
{
	struct deliver *d = arg;
	ssize_t n, got;
	size_t m;

	n = tee(d->in.fd, d->tp[1], len, SPLICE_F_NONBLOCK);
	if (n <= 0)
		return (long)n;
	got = read(d->tp[0], buf, (size_t)n);
	if (got != n)
		return -1;
	/* up to the last newline; with none, the whole (a long line) */
	for (m = (size_t)n; m > 0 && buf[m - 1] != '\n'; m--)
		continue;
	if (m == 0)
		m = (size_t)n;
	d->taken = m;
	d->taken_crc = journal_crc32c(0, buf, m);
	return (long)m;
}

/*
 * Take n bytes out of the input (they were peeked and journaled): spliced
 * to /dev/null, not copied; read and dropped where splice(2) will not.
 */
static int
deliver_take_out(struct deliver *d, size_t n)
{
	char buf[65536];
	ssize_t got;

	while (n > 0) {
		got = d->devnull != -1 ? splice(d->in.fd, NULL, d->devnull,
		    NULL, n, 0) : -1;
		if (got == -1 && errno != EINTR)
			got = read(d->in.fd, buf, n < sizeof(buf) ? n :
			    sizeof(buf));
		if (got == -1 && errno == EINTR)
			continue;
		if (got <= 0)
			return -1;
		n -= (size_t)got;
	}
	return 0;
}

/*
 * At start: the journal ended on "\0P": were those bytes taken out of
 * the input before the SIGKILL?  If the input begins with them, no.
 */
static int
deliver_peek_settle(struct deliver *d, struct why *why)
{
	const unsigned char *c = (const unsigned char *)d->j.ctl;
	uint32_t len, crc;
	char *buf;
	ssize_t n;
	int rc = 0;

	if (d->j.ctl_len != TAKEN_LEN || c[1] != 'P')
		return 0;
	len = journal_get_le32(c + 2);
	crc = journal_get_le32(c + 6);
	if ((buf = malloc(len ? len : 1)) == NULL)
		return why_set(why, "out of memory");
	n = tee(d->in.fd, d->tp[1], len, SPLICE_F_NONBLOCK);
	if (n > 0 && read(d->tp[0], buf, (size_t)n) != n)
		n = -1;
	if (n == (ssize_t)len && journal_crc32c(0, buf, len) == crc) {
		if (deliver_take_out(d, len) == -1)
			rc = why_set(why, "input: %s", strerror(errno));
		else
			warnx("journal %s: the last %" PRIu32 " bytes it holds "
			    "were still in the input: taken out",
			    d->o.journal_dir, len);
	}
	free(buf);
	if (rc == 0 && (journal_append(&d->j, "\0R", 2) == -1 ||
	    journal_commit(&d->j) == -1))
		rc = why_set(why, "--journal: %s", strerror(errno));
	return rc;
}

int
deliver_journal_open(struct deliver *d, struct why *why)
{
	struct journal_opts jo = {
		.dir = d->o.journal_dir,
		.max_bytes = d->o.journal_max,
		.sync = (enum journal_sync)d->o.sync,
		.sync_ms = d->o.sync_ms,
		/* a line, with the id it may be given */
		.max_rec = d->in.max_line + 256,
	};
	const char *dir = d->o.journal_dir;
	struct journal_recovery rec;
	struct why jwhy;

	struct stat st;

	d->devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (journal_open(&d->j, &jo, &rec, &jwhy) == -1)
		return why_set(why, "--journal: %s", jwhy.msg);
	d->journaling = true;
	/* a pipe is peeked at, and taken from once journaled */
	if (fstat(d->in.fd, &st) == 0 && S_ISFIFO(st.st_mode) &&
	    (pipe2(d->tp, O_NONBLOCK | O_CLOEXEC) == -1 ||
	    deliver_peek_settle(d, why) == -1))
		return d->tp[0] == -1 ? why_set(why, "pipe: %s",
		    strerror(errno)) : -1;
	/*
	 * Bytes peeked stay in the pipe until journaled: a larger pipe
	 * lets the writer go on meanwhile (what it may, else as it is).
	 */
	if (d->tp[0] != -1)
		(void)fcntl(d->in.fd, F_SETPIPE_SZ, 1 << 20);
	d->jcap = (size_t)d->o.parallel + 1;
	if ((d->jring = calloc(d->jcap, sizeof(*d->jring))) == NULL)
		return why_set(why, "out of memory");
	if (rec.bad_checkpoint)
		warnx("journal %s: checkpoint unreadable: sending all it "
		    "holds again", dir);
	if (rec.dropped_bytes > 0)
		warnx("journal %s: dropped %" PRIu64 " bytes from a bad or "
		    "cut-short frame at segment %016" PRIx64 " offset %"
		    PRIu64 " on (%" PRIu64 " later segments)", dir,
		    rec.dropped_bytes, rec.bad.seg, rec.bad.off,
		    rec.dropped_segs);
	if (rec.records > 0)
		warnx("journal %s: %" PRIu64 " records (%" PRIu64 " bytes) "
		    "not acknowledged: sending them first", dir, rec.records,
		    rec.bytes);
	return intake_start(d, why);
}

/* One input line into the journal, or reported as bad. */
static void
deliver_journal_take(struct deliver *d, const char *line, size_t len)
{
	struct why why;
	size_t off, rlen;

	d->jrec.len = 0;
	if (batch_prepare(d->tok, line, len, &d->jrec, &off, &rlen,
	    &why) == -1) {
		LOCK(d);
		deliver_bad_line(d, d->in.lineno, line, len, why.msg);
		UNLOCK(d);
		return;
	}
	if (journal_stage(&d->jst, d->j.o.max_rec, d->jrec.p + off,
	    rlen) == -1) {
		deliver_fatal(d, "out of memory");
		LOCK(d);
		deliver_bad_line(d, d->in.lineno, line, len, "out of memory; "
		    "not journaled");
		UNLOCK(d);
		return;
	}
	d->jst_recs++;
}

/* Write what was appended; false when it failed (tried again later). */
static bool
deliver_journal_commit(struct deliver *d, int64_t now)
{
	unsigned char mark[TAKEN_LEN] = { '\0', 'P' };
	bool ok = true;
	int rc;

	LOCK(d);
	if (journal_put(&d->j, &d->jst, d->jst_recs) == -1) {
		UNLOCK(d);
		deliver_fatal(d, "out of memory");
		return false;
	}
	/* read by the loop, which copies it into d->c */
	atomic_fetch_add_explicit(&d->ijournaled, d->jst_recs,
	    memory_order_relaxed);
	d->jst_recs = 0;
	if (d->taken > 0 && !d->jstuck) {
		journal_put_le32(mark + 2, (uint32_t)d->taken);
		journal_put_le32(mark + 6, d->taken_crc);
		if (journal_append(&d->j, mark, sizeof(mark)) == -1) {
			UNLOCK(d);
			deliver_fatal(d, "out of memory");
			return false;
		}
	}
	if (!journal_uncommitted(&d->j)) {
		UNLOCK(d);
		return true;
	}
	if (d->jstuck && now < d->jretry) {
		UNLOCK(d);
		return false;
	}
	rc = journal_commit_unlocked(&d->j, &d->jlock);
	UNLOCK(d);
	if (rc == 0) {
		/* a wake-up only when the loop waits for one */
		intake_wake(d, false);
		if (d->jstuck)
			warnx("journal %s: written again: reading on",
			    d->o.journal_dir);
		d->jstuck = false;
		/* in the journal: now out of the input, and said so */
		if (d->taken > 0 && deliver_take_out(d, d->taken) == -1) {
			deliver_input_failed(d);
			d->in_eof = true;
		} else if (d->taken > 0) {
			LOCK(d);
			ok = journal_append(&d->j, "\0R", 2) == 0 &&
			    journal_commit_unlocked(&d->j, &d->jlock) == 0;
			UNLOCK(d);
			/* the next start may look at the input for nothing */
			if (!ok)
				warn("journal %s", d->o.journal_dir);
		}
		d->taken = 0;
		return true;
	}
	if (!d->jstuck)
		warn("journal %s: not reading the input until it can be "
		    "written", d->o.journal_dir);
	d->jstuck = true;
	d->jretry = now + DELIVER_JOURNAL_RETRY_MS;
	return false;
}

/*
 * --journal-full drop, the journal full (under jlock): the segments the
 * checkpoint is past go first, losing nothing; then the oldest segments
 * that are not the one written, their records not yet sent lost, counted
 * and said.  Whether it is still full (only the written segment is left,
 * or a write failed): then it waits, as --journal-full wait does, and
 * when the checkpoint could not be written (said once) it tries again in
 * DELIVER_JOURNAL_RETRY_MS, for what failed may pass.
 */
static bool
deliver_journal_drop(struct deliver *d, int64_t now)
{
	struct journal_drop jd;
	struct why why;
	int rc = 0;

	if (journal_passed(&d->j) && journal_tick(&d->j, now, true,
	    &why) == -1)
		warnx("journal: %s", why.msg);
	while (journal_full(&d->j) &&
	    (rc = journal_drop_oldest(&d->j, &jd, &why)) == 1) {
		d->jdrop_failed = false;
		d->jdropped_to = jd.seg + 1;
		atomic_fetch_add_explicit(&d->jdropped, jd.unread,
		    memory_order_relaxed);
		if (jd.records > jd.unread)
			warnx("journal %s: full: dropped the oldest %" PRIu64
			    " records (segment %016" PRIx64 ") to make room; "
			    "%" PRIu64 " more of it, in requests, are no "
			    "longer journaled", d->o.journal_dir, jd.unread,
			    jd.seg, jd.records - jd.unread);
		else
			warnx("journal %s: full: dropped the oldest %" PRIu64
			    " records (segment %016" PRIx64 ") to make room",
			    d->o.journal_dir, jd.unread, jd.seg);
	}
	if (rc == -1) {
		if (!d->jdrop_failed)
			warnx("journal: %s: waiting instead (tried again every "
			    "second)", why.msg);
		d->jdrop_failed = true;
		d->jdrop_retry = now + DELIVER_JOURNAL_RETRY_MS;
	}
	return journal_full(&d->j);
}

/*
 * Room in the journal for another read of the input.  Being full is said
 * once in DELIVER_JOURNAL_FULL_SAY_MS, and so is the room coming back.
 */
static bool
deliver_journal_room(struct deliver *d, int64_t now)
{
	uint64_t bytes;
	bool full;

	LOCK(d);
	full = journal_full(&d->j);
	if (full && d->o.journal_full == DELIVER_FULL_DROP)
		full = deliver_journal_drop(d, now);
	bytes = d->j.bytes;
	UNLOCK(d);
	if (full) {
		if (!d->jfull && (d->jfull_said == 0 ||
		    now - d->jfull_said >= DELIVER_JOURNAL_FULL_SAY_MS)) {
			warnx("journal %s: full (%" PRIu64 " bytes): not "
			    "reading the input until receivers acknowledge",
			    d->o.journal_dir, bytes);
			d->jfull_said = now;
			d->jfull_told = true;
		}
		d->jfull = true;
		return false;
	}
	if (d->jfull && d->jfull_told)
		warnx("journal %s: room again: reading on",
		    d->o.journal_dir);
	d->jfull = d->jfull_told = false;
	d->jdrop_failed = false;
	return true;
}

/*
 * Lines from the input into the journal: what one read brought is all
 * committed before the next read.  Returns true when the turn's budget
 * ran out with more to read.
 */
static bool
deliver_journal_intake(struct deliver *d, int64_t now, bool buffered_only)
{
	const char *line;
	size_t len;
	long got;
	int budget = DELIVER_READ_BUDGET;

	d->poll_in = false;
	while (!d->in_eof && !deliver_is_fatal(d)) {
		if (budget-- == 0 && !buffered_only)
			return true;
		if (d->o.strict && (atomic_load_explicit(&d->ibad_lines,
		    memory_order_relaxed) > 0 || atomic_load_explicit(
		    &d->refused, memory_order_relaxed))) {
			warnx("--strict: stopped reading after line %lu",
			    d->in.lineno);
			d->in_eof = true;
			break;
		}
		switch (ndjson_next(&d->in, &line, &len)) {
		case NDJSON_LINE:
			deliver_journal_take(d, line, len);
			continue;
		case NDJSON_TOO_LONG:
			LOCK(d);
			deliver_too_long(d);
			UNLOCK(d);
			continue;
		case NDJSON_AGAIN:
			break;
		case NDJSON_EOF:
			d->in_eof = true;
			continue;
		case NDJSON_ERROR:
			deliver_input_failed(d);
			d->in_eof = true;
			continue;
		}
		if (buffered_only)
			break;
		/* every line read is in the journal before the next read */
		if (!deliver_journal_commit(d, now) ||
		    !deliver_journal_room(d, now))
			return false;
		got = d->tp[0] != -1 ? ndjson_fill_with(&d->in, deliver_peek,
		    d) : ndjson_fill(&d->in);
		if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			d->poll_in = true;
			return false;
		}
		if (got < 0) {
			deliver_input_failed(d);
			d->in_eof = true;
		}
	}
	(void)deliver_journal_commit(d, now);
	return false;
}

/* Batches from the journal; false when a full one waits for a slot. */
static bool
deliver_journal_feed(struct deliver *d, int64_t now)
{
	struct journal_pos end;
	struct why why;
	const char *rec;
	size_t len;
	int rc;
	bool ok = true;

	LOCK(d);
	while (d->stop == DELIVER_RUNNING && !deliver_is_fatal(d)) {
		if (d->fill != NULL && d->fill->n >= (size_t)d->o.batch) {
			if (!deliver_seal(d)) {
				ok = false;
				break;
			}
			/* the intake may be waiting to write */
			UNLOCK(d);
			LOCK(d);
		}
		if (d->fill == NULL && (d->fill = deliver_batch_get(d)) ==
		    NULL) {
			deliver_fatal(d, "out of memory");
			break;
		}
		if ((rc = journal_read(&d->j, &rec, &len, &end, &why)) == 0)
			break;
		if (rc == -1) {
			deliver_fatal(d, why.msg);
			break;
		}
		if (d->fill->n == 0)
			d->fill_since = now;
		if (batch_add_prepared(d->fill, rec, len, ++d->jline,
		    &why) == -1) {
			deliver_fatal(d, why.msg);
			break;
		}
		d->fill->rec[d->fill->n - 1].jseg = end.seg;
		d->fill->jseg = end.seg;
		d->fill->joff = end.off;
		d->fill->jn++;
		d->c.records_in++;
	}
	UNLOCK(d);
	return ok;
}

/*
 * Wait for the input, a stop, or (a failed write) the time to try it
 * again; full, for the loop to say there is room, or stop.
 */
static void
intake_wait(struct deliver *d)
{
	struct pollfd p[2] = {
		{ .fd = d->istopfd, .events = POLLIN },
		{ .fd = d->in.fd, .events = POLLIN },
	};
	/* at the end (a write to try again), the input would wake at once */
	bool in = d->poll_in && !d->in_eof;
	int64_t ms = in ? -1 : INTAKE_WAIT_MS;

	if (d->jfull && !d->jstuck) {
		LOCK(d);
		while (journal_full(&d->j) &&
		    !atomic_load_explicit(&d->istop, memory_order_acquire)) {
			struct timespec ts;

			if (!d->jdrop_failed) {
				pthread_cond_wait(&d->jroom, &d->jlock);
				continue;
			}
			/* a drop that failed: its time to try again */
			ts = clock_mono_timespec(d->jdrop_retry);
			if (pthread_cond_timedwait(&d->jroom, &d->jlock,
			    &ts) == ETIMEDOUT)
				break;
		}
		UNLOCK(d);
		return;
	}
	if (d->jstuck) {
		ms = d->jretry - clock_mono_ms();
		ms = ms < 0 ? 0 : ms;
	}
	if (poll(p, in ? 2 : 1, (int)ms) == -1 && errno != EINTR)
		(void)poll(NULL, 0, INTAKE_WAIT_MS);
}

/*
 * The intake: reads the input into the journal until it ends, fails or
 * the loop says stop; then takes in what it already read, writes it,
 * and says it is done.
 */
static void *
intake_main(void *arg)
{
	struct deliver *d = arg;
	bool more;

	while (!atomic_load_explicit(&d->istop, memory_order_acquire)) {
		more = deliver_journal_intake(d, clock_mono_ms(), false);
		if (d->in_eof || deliver_is_fatal(d)) {
			/* written, all of it, before saying done */
			if (!d->jstuck || deliver_is_fatal(d))
				break;
		} else if (more) {
			continue;
		}
		intake_wake(d, true);
		intake_wait(d);
		if (d->in_eof && d->jstuck)
			(void)deliver_journal_commit(d, clock_mono_ms());
	}
	/* the drain after a stop: the lines already read, no more */
	if (!d->in_eof) {
		d->in.eof = true;
		(void)deliver_journal_intake(d, clock_mono_ms(), true);
		d->in_eof = true;
	}
	(void)deliver_journal_commit(d, clock_mono_ms());
	atomic_store_explicit(&d->idone, true, memory_order_release);
	intake_signal(d->ievfd);
	return NULL;
}

static int
intake_start(struct deliver *d, struct why *why)
{
	int e;

	if ((d->ievfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1 ||
	    (d->istopfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1)
		return why_set(why, "eventfd: %s", strerror(errno));
	/* signals go to the loop's thread */
	if ((e = thread_start(&d->ithr, intake_main, d)) != 0)
		return why_set(why, "pthread_create: %s", strerror(e));
	d->ithr_on = true;
	return 0;
}

/*
 * The intake's counts into d->c, for the status line, --metrics-file and
 * the end: as they stand (relaxed); all of them once it is done or joined.
 * Without a journal the loop keeps them itself.
 */
void
deliver_journal_counts(struct deliver *d)
{
	if (!d->journaling)
		return;
	d->c.journaled = atomic_load_explicit(&d->ijournaled,
	    memory_order_relaxed);
	d->c.bad_lines = atomic_load_explicit(&d->ibad_lines,
	    memory_order_relaxed);
	d->c.dropped = atomic_load_explicit(&d->jdropped,
	    memory_order_relaxed);
}

static void
intake_join(struct deliver *d)
{
	if (!d->ithr_on)
		return;
	atomic_store_explicit(&d->istop, true, memory_order_release);
	intake_signal(d->istopfd);
	/* under the lock: a full intake looks at istop under it too */
	LOCK(d);
	pthread_cond_signal(&d->jroom);
	UNLOCK(d);
	pthread_join(d->ithr, NULL);
	d->ithr_on = false;
	deliver_journal_counts(d);
}

/*
 * The loop is about to wait (on) or waited (!on) on ievfd; when about
 * to, false if the intake wrote since the loop last fed: do not wait.
 */
bool
deliver_journal_wait(struct deliver *d, bool on)
{
	uint64_t c;

	/* seq_cst: see intake_wake() */
	atomic_store_explicit(&d->lwait, on, memory_order_seq_cst);
	c = atomic_load_explicit(&d->icommits, memory_order_seq_cst);
	/* a few: wait for more, or for the intake to go idle */
	return !on || c - atomic_load_explicit(&d->iseen,
	    memory_order_relaxed) < INTAKE_WAKE_EVERY;
}

/* The intake thread has ended (the input, a failure, a stop). */
bool
deliver_journal_in_done(const struct deliver *d)
{
	return d->journaling && atomic_load_explicit(
	    &((struct deliver *)d)->idone, memory_order_acquire);
}

/*
 * The drain after a stop signal is over: the lines already read go into
 * the journal, and nothing more is read.
 */
void
deliver_journal_stop_reading(struct deliver *d, int64_t now)
{
	(void)now;
	intake_join(d);
	d->input = DELIVER_IN_DONE;
}

void
deliver_journal_read(struct deliver *d, int64_t now)
{
	uint64_t n;
	bool done, blocked;

	(void)now;
	if (read(d->ievfd, &n, sizeof(n)) == -1) {
		/* nothing said since */
	}
	done = deliver_journal_in_done(d);
	deliver_journal_counts(d);
	atomic_store_explicit(&d->iseen, atomic_load_explicit(&d->icommits,
	    memory_order_seq_cst), memory_order_relaxed);
	blocked = !deliver_journal_feed(d, now);
	if (d->stop != DELIVER_RUNNING)
		d->input = done ? DELIVER_IN_DONE : DELIVER_IN_DRAINED;
	else if (blocked)
		d->input = DELIVER_IN_BLOCKED;
	else if (done || deliver_is_fatal(d))
		d->input = DELIVER_IN_DONE;
	else
		d->input = DELIVER_IN_DRAINED;
}

void
deliver_journal_sealed(struct deliver *d, struct batch *b)
{
	struct jpend *p;

	if (d->jcount == d->jcap) {
		/* done ones wait behind an older one in flight: grow */
		size_t cap = d->jcap * 2, i;
		struct jpend *r = malloc(cap * sizeof(*r));

		if (r == NULL) {
			deliver_fatal(d, "out of memory");
			return;
		}
		for (i = 0; i < d->jcount; i++)
			r[i] = d->jring[(d->jhead + i) % d->jcap];
		free(d->jring);
		d->jring = r;
		d->jcap = cap;
		d->jhead = 0;
	}
	b->jseq = ++d->jseq;
	p = &d->jring[(d->jhead + d->jcount) % d->jcap];
	p->seq = b->jseq;
	p->end.seg = b->jseg;
	p->end.off = b->joff;
	p->n = b->jn;
	p->done = false;
	d->jcount++;
}

void
deliver_journal_done(struct deliver *d, const struct batch *b)
{
	uint64_t front;
	struct jpend *p;

	if (!d->journaling || b->jn == 0 || d->jcount == 0)
		return;
	LOCK(d);
	front = d->jring[d->jhead].seq;
	if (b->jseq < front || b->jseq - front >= d->jcount) {
		UNLOCK(d);
		return;
	}
	d->jring[(d->jhead + (b->jseq - front)) % d->jcap].done = true;
	/* the checkpoint passes batches in order only */
	while (d->jcount > 0 && (p = &d->jring[d->jhead])->done) {
		journal_ack(&d->j, p->end, p->n);
		d->jhead = (d->jhead + 1) % d->jcap;
		d->jcount--;
	}
	UNLOCK(d);
}

/*
 * b's records are given up, to be sent at the next start: those of them
 * whose segment the full journal dropped are not in it any more: lost,
 * and counted so.  Returns how many; the caller says it.
 */
size_t
deliver_journal_lost(struct deliver *d, const struct batch *b)
{
	size_t i, lost = 0;

	LOCK(d);
	for (i = 0; i < b->n; i++)
		if (b->rec[i].jseg < d->jdropped_to)
			lost++;
	/* never to be acknowledged */
	d->j.unacked = lost < d->j.unacked ? d->j.unacked - lost : 0;
	UNLOCK(d);
	atomic_fetch_add_explicit(&d->jdropped, lost, memory_order_relaxed);
	return lost;
}

/* The same, said; how many are kept. */
size_t
deliver_journal_keep(struct deliver *d, const struct batch *b)
{
	size_t lost = deliver_journal_lost(d, b);

	if (lost > 0)
		warnx("journal %s: %zu records not delivered were in a "
		    "segment dropped when it was full: lost",
		    d->o.journal_dir, lost);
	return b->n - lost;
}

void
deliver_journal_tick(struct deliver *d, int64_t now)
{
	struct why why;
	bool force;
	int rc;

	if (!d->journaling)
		return;
	LOCK(d);
	/* full: free what the checkpoint passed now, not at the next sync */
	force = journal_full(&d->j) && journal_passed(&d->j);
	rc = journal_tick(&d->j, now, force, &why);
	/* a sync that freed room: the intake, full, waits for it */
	if (!journal_full(&d->j))
		pthread_cond_signal(&d->jroom);
	UNLOCK(d);
	if (rc == -1) {
		if (!d->jtick_failed)
			warnx("journal: %s (tried again)", why.msg);
		d->jtick_failed = true;
		return;
	}
	d->jtick_failed = false;
}

int64_t
deliver_journal_due_in(const struct deliver *d, int64_t now)
{
	int64_t t = -1;

	if (!d->journaling)
		return -1;
	LOCK((struct deliver *)d);
	t = journal_due_in(&d->j, now);
	UNLOCK((struct deliver *)d);
	return t;
}

void
deliver_journal_close(struct deliver *d)
{
	struct why why;
	int i;

	intake_join(d);
	for (i = 0; i < 2; i++)
		if (d->tp[i] != -1)
			close(d->tp[i]);
	if (d->devnull != -1)
		close(d->devnull);
	d->tp[0] = d->tp[1] = d->devnull = -1;
	if (d->ievfd != -1)
		close(d->ievfd);
	if (d->istopfd != -1)
		close(d->istopfd);
	d->ievfd = d->istopfd = -1;
	free(d->jst.p);
	d->jst.p = NULL;
	if (!d->journaling)
		return;
	/* what the loop counted after the intake ended too */
	deliver_journal_counts(d);
	if (d->j.unacked > 0)
		warnx("journal %s: %" PRIu64 " records not acknowledged, kept "
		    "for the next start", d->o.journal_dir, d->j.unacked);
	if (journal_close(&d->j, &why) == -1) {
		warnx("%s", why.msg);
		d->write_failed = true;
	}
	d->journaling = false;
}
