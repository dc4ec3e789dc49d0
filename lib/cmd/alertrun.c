/*
 * sm-alert's read loop: NDJSON records into the alert engine, events to
 * stdout and the --exec hook, polling until a stale alert is due (alertrun.h).
 */
#include <err.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "alertrun.h"
#include "alertstore.h"
#include "clock.h"
#include "exitcode.h"
#include "ndjson.h"
#include "record.h"

struct alertrun {
	const struct alertrun_config *c;
	unsigned long records, rejected, events;
	bool out_failed;
};

static void
alertrun_emit(const struct alert_event *ev, void *arg)
{
	struct alertrun *ar = arg;
	char line[ALERT_EVENT_MAX];
	char host[RECORD_HOST_MAX + 16], rule[ALERT_RULE_TEXT_MAX + 16];
	char id[UUID_STR_LEN + 16], state[32];
	const char *env[] = { id, host, rule, state, NULL };
	int len;

	if ((len = alert_event_format(ev, line, sizeof(line))) == -1) {
		warnx("%s: %s: cannot format an event", ev->host, ev->rule);
		ar->out_failed = true;
		return;
	}
	ar->events++;
	if (ar->c->store != NULL)
		alertstore_put(ar->c->store, ev);
	if (!ar->out_failed && fwrite(line, 1, (size_t)len,
	    ar->c->out) != (size_t)len) {
		if (errno != EPIPE)
			warn("stdout");
		ar->out_failed = true;
	}
	if (ar->c->hook == NULL)
		return;
	/* for commands that want a field without parsing JSON (mail -s) */
	snprintf(id, sizeof(id), "SM_ALERT_ID=%s", ev->id);
	snprintf(host, sizeof(host), "SM_ALERT_HOST=%s", ev->host);
	snprintf(rule, sizeof(rule), "SM_ALERT_RULE=%s", ev->rule);
	snprintf(state, sizeof(state), "SM_ALERT_STATE=%s",
	    ev->firing ? "firing" : "resolved");
	hook_poll(ar->c->hook);
	hook_run(ar->c->hook, line, (size_t)len, ev->id[0] != '\0' ? ev->id :
	    ev->host, env);
}

static void
alertrun_line(struct alertrun *ar, struct alert_engine *e, const char *line,
    size_t len, unsigned long lineno)
{
	struct record rec;
	struct why why;

	if (record_parse(line, len, &rec, &why) == -1) {
		warnx("line %lu: %s; skipped", lineno, why.msg);
		ar->rejected++;
		return;
	}
	if (alert_feed(e, &rec, ar->c->replay ? alert_at(rec.ts_ms) :
	    alert_now()) == -1) {
		warnx("line %lu: out of memory; skipped", lineno);
		ar->rejected++;
		return;
	}
	ar->records++;
}

/* How long poll may wait: until a stale alert is due, or a command ends. */
static int
alertrun_timeout(const struct alertrun *ar, const struct alert_engine *e)
{
	int timeout = -1;
	int64_t due;

	if (!ar->c->replay && alert_next_due(e, &due)) {
		int64_t left = due - clock_mono_ms();

		timeout = left <= 0 ? 0 : left > 3600000 ? 3600000 :
		    (int)left;
	}
	if (ar->c->hook != NULL) {
		int h = hook_timeout_ms(ar->c->hook);

		if (h >= 0 && (timeout < 0 || h < timeout))
			timeout = h;
	}
	return timeout;
}

#define PLURAL(n) ((n) == 1 ? "" : "s")	/* "1 host", "2 hosts" */

/* Flush what is written before waiting: a reader sees events at once. */
static void
alertrun_flush(struct alertrun *ar)
{
	if (!ar->out_failed && fflush(ar->c->out) == EOF) {
		if (errno != EPIPE)
			warn("stdout");
		ar->out_failed = true;
	}
}

int
alertrun(const struct alertrun_config *c)
{
	struct alertrun ar = { .c = c };
	struct ndjson_reader r;
	struct alert_engine *e;
	unsigned long hosts, failed;
	int status = SM_EXIT_OK;

	if ((e = alert_new(c->rules, c->nrules, alertrun_emit, &ar)) == NULL) {
		warnx("out of memory");
		return SM_EXIT_PARTIAL;
	}
	if (ndjson_reader_init(&r, c->fd, c->max_line) == -1) {
		warnx("out of memory");
		status = SM_EXIT_PARTIAL;
		goto free_engine;
	}
	/* an event nobody can read is no event: stop when stdout is gone */
	while (!*c->stop && !ar.out_failed) {
		struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
		enum ndjson_status ns;
		const char *line;
		size_t len;

		ns = ndjson_next(&r, &line, &len);
		if (ns == NDJSON_LINE) {
			alertrun_line(&ar, e, line, len, r.lineno);
			continue;
		}
		if (ns == NDJSON_TOO_LONG) {
			warnx("line %lu: longer than %zu bytes; skipped",
			    r.lineno, r.max_line);
			ar.rejected++;
			continue;
		}
		if (ns == NDJSON_EOF)
			break;
		alertrun_flush(&ar);
		if (poll(&pfd, 1, alertrun_timeout(&ar, e)) == -1 &&
		    errno != EINTR) {
			warn("poll");
			status = SM_EXIT_PARTIAL;
			break;
		}
		if (pfd.revents != 0 && ndjson_fill(&r) < 0 &&
		    errno != EINTR && errno != EAGAIN) {
			warn("input");
			status = SM_EXIT_PARTIAL;
			break;
		}
		if (!c->replay)
			alert_tick(e, alert_now());
		if (c->hook != NULL)
			hook_poll(c->hook);
	}
	alertrun_flush(&ar);
	if (c->hook != NULL)
		hook_drain(c->hook);
	hosts = (unsigned long)alert_hosts(e);
	failed = c->hook != NULL ? hook_failures(c->hook) : 0;
	warnx("%lu record%s, %lu rejected, %lu host%s, %lu event%s, %lu failed "
	    "command%s%s", ar.records, PLURAL(ar.records), ar.rejected, hosts,
	    PLURAL(hosts), ar.events, PLURAL(ar.events), failed,
	    PLURAL(failed), ar.out_failed ? ", output failed" : "");
	if (ar.rejected > 0 || ar.out_failed ||
	    (c->hook != NULL && hook_failures(c->hook) > 0))
		status = SM_EXIT_PARTIAL;
	ndjson_reader_free(&r);
free_engine:
	alert_free(e);
	return status;
}
