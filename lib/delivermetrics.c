/*
 * The senders' counters for Prometheus (--metrics-file, sm-post(1)
 * METRICS): the delivery engine's counts and each endpoint's health in
 * the text format node_exporter's textfile collector reads, rewritten
 * whole every --metrics-interval and at the end (a temporary file renamed
 * over it, so a reader never sees half of one).
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "deliver_impl.h"
#include "feed.h"

#define DELIVER_METRICS_INTERVAL_MS_DEFAULT 10000

/*
 * The labels every series has: program (sm-post, sm-split) and sender,
 * the file's base name without ".prom", which tells apart the senders
 * whose files one textfile directory holds.
 */
static void
dm_labels(FILE *f, const struct deliver *d)
{
	fputs("{program=\"", f);
	feed_label(f, program_invocation_short_name);
	fputs("\",sender=\"", f);
	feed_label(f, d->metrics_sender);
	fputc('"', f);
}

static void
dm_one(FILE *f, const struct deliver *d, const char *name, const char *type,
    const char *help, unsigned long v)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n%s", name, help, name, type,
	    name);
	dm_labels(f, d);
	fprintf(f, "} %lu\n", v);
}

/* Endpoint i answers: not out of the balance, not failing, TLS good. */
static bool
dm_up(const struct deliver *d, int i)
{
	if (d->ep[i].tls_bad)
		return false;
	if (d->o.nurls == 1)
		return !d->ep[i].failing;
	return !d->bal.ep[i].down;
}

/* A per-endpoint series of endpoint i, value v. */
static void
dm_ep(FILE *f, const struct deliver *d, const char *name, int i,
    unsigned long v)
{
	fputs(name, f);
	dm_labels(f, d);
	fprintf(f, ",endpoint=\"%s\",url=\"", d->ep[i].label);
	feed_label(f, d->o.urls[i]);
	fprintf(f, "\"} %lu\n", v);
}

char *
deliver_metrics_text(const struct deliver *d, bool running)
{
	const struct deliver_counts *c = &d->c;
	const struct {
		const char *name, *type, *help;
		unsigned long v;
	} one[] = {
		{ "sm_sender_running", "gauge",
		    "1 while the sender runs, 0 in the file it leaves at "
		    "its end.", running ? 1 : 0 },
		{ "sm_sender_records_read_total", "counter",
		    "Records read from the input (or the journal).",
		    c->records_in },
		{ "sm_sender_bad_lines_total", "counter",
		    "Input lines that are not a record, skipped.",
		    c->bad_lines },
		{ "sm_sender_requests_sent_total", "counter",
		    "Requests sent, retries included.", c->sent },
		{ "sm_sender_requests_retried_total", "counter",
		    "Requests sent again after a failed attempt.", c->retried },
		{ "sm_sender_requests_failed_over_total", "counter",
		    "Retries that went to another endpoint.", c->failed_over },
		{ "sm_sender_requests_in_flight", "gauge",
		    "Requests sent and not yet answered.",
		    (unsigned long)d->busy },
		{ "sm_sender_records_acknowledged_total", "counter",
		    "Records a receiver acknowledged (2xx).", c->delivered },
		{ "sm_sender_records_rejected_total", "counter",
		    "Records a receiver refused (4xx), written to --reject.",
		    c->rejected },
		{ "sm_sender_records_spooled_total", "counter",
		    "Records not delivered in time, written to --spool.",
		    c->spooled },
		{ "sm_sender_records_journaled_total", "counter",
		    "Records written to the --journal.", c->journaled },
		{ "sm_sender_records_kept_total", "counter",
		    "Records not delivered, kept in the --journal for "
		    "later.", c->kept },
		{ "sm_sender_records_dropped_total", "counter",
		    "Records lost to a full --journal (--journal-full drop).",
		    c->dropped },
	};
	char *text = NULL;
	size_t size = 0, k;
	FILE *f;
	int i;

	if ((f = open_memstream(&text, &size)) == NULL)
		return NULL;
	for (k = 0; k < sizeof(one) / sizeof(one[0]); k++)
		dm_one(f, d, one[k].name, one[k].type, one[k].help, one[k].v);
	fputs("# HELP sm_sender_endpoint_up 1 while the endpoint answers, 0 "
	    "once it failed (no answer, 5xx, TLS) until it answers again.\n"
	    "# TYPE sm_sender_endpoint_up gauge\n", f);
	for (i = 0; i < d->o.nurls; i++)
		dm_ep(f, d, "sm_sender_endpoint_up", i, dm_up(d, i) ? 1 : 0);
	fputs("# HELP sm_sender_endpoint_records_acknowledged_total Records "
	    "the endpoint acknowledged.\n# TYPE "
	    "sm_sender_endpoint_records_acknowledged_total counter\n", f);
	for (i = 0; i < d->o.nurls; i++)
		dm_ep(f, d, "sm_sender_endpoint_records_acknowledged_total", i,
		    c->per_ep[i]);
	if (fclose(f) == EOF) {
		free(text);
		return NULL;
	}
	return text;
}

/* Write the file: a temporary one renamed over it.  0, or -1 with why. */
static int
dm_write(const struct deliver *d, bool running, struct why *why)
{
	const char *path = d->o.metrics_path;
	char *text, *tmp = NULL;
	size_t len, off = 0;
	ssize_t n;
	int fd, rc = -1;

	if ((text = deliver_metrics_text(d, running)) == NULL)
		return why_set(why, "out of memory");
	/* not *.prom: the textfile collector leaves it alone */
	if (asprintf(&tmp, "%s.tmp", path) == -1) {
		tmp = NULL;
		why_set(why, "out of memory");
		goto out_free;
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0644)) == -1) {
		why_set(why, "%s: %s", tmp, strerror(errno));
		goto out_free;
	}
	len = strlen(text);
	while (off < len) {
		if ((n = write(fd, text + off, len - off)) == -1) {
			if (errno == EINTR)
				continue;
			why_set(why, "%s: %s", tmp, strerror(errno));
			goto out_unlink;
		}
		off += (size_t)n;
	}
	if (close(fd) == -1) {
		fd = -1;
		why_set(why, "%s: %s", tmp, strerror(errno));
		goto out_unlink;
	}
	fd = -1;
	if (rename(tmp, path) == -1) {
		why_set(why, "%s: %s", path, strerror(errno));
		goto out_unlink;
	}
	rc = 0;
	goto out_free;
out_unlink:
	if (fd != -1)
		close(fd);
	unlink(tmp);
out_free:
	free(tmp);
	free(text);
	return rc;
}

int
deliver_metrics_open(struct deliver *d, struct why *why)
{
	const char *base = strrchr(d->o.metrics_path, '/');
	size_t len;

	base = base != NULL ? base + 1 : d->o.metrics_path;
	len = strlen(base);
	if (len > 5 && strcmp(base + len - 5, ".prom") == 0)
		len -= 5;
	if ((d->metrics_sender = strndup(base, len)) == NULL)
		return why_set(why, "out of memory");
	if (d->o.metrics_interval_ms == 0)
		d->o.metrics_interval_ms = DELIVER_METRICS_INTERVAL_MS_DEFAULT;
	/* written at once: a path that cannot be is a set-up error */
	if (dm_write(d, true, why) == -1) {
		why_prefix(why, "--metrics-file");
		return -1;
	}
	d->metrics_due = clock_mono_ms() + d->o.metrics_interval_ms;
	return 0;
}

/* Write now; a failure said once, and its end. */
static void
dm_write_said(struct deliver *d, bool running)
{
	struct why why;

	if (dm_write(d, running, &why) == -1) {
		if (!d->metrics_failed)
			warnx("--metrics-file: %s", why.msg);
		d->metrics_failed = true;
		return;
	}
	if (d->metrics_failed)
		warnx("--metrics-file %s: written again", d->o.metrics_path);
	d->metrics_failed = false;
}

void
deliver_metrics_tick(struct deliver *d, int64_t now)
{
	if (d->o.metrics_path == NULL || now < d->metrics_due)
		return;
	deliver_journal_counts(d);
	dm_write_said(d, true);
	d->metrics_due = now + d->o.metrics_interval_ms;
}

int64_t
deliver_metrics_due_in(const struct deliver *d, int64_t now)
{
	if (d->o.metrics_path == NULL)
		return -1;
	return d->metrics_due > now ? d->metrics_due - now : 0;
}

void
deliver_metrics_close(struct deliver *d)
{
	if (d->o.metrics_path != NULL)
		dm_write_said(d, false);
}
