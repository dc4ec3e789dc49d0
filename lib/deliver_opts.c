/*
 * The options sm-post and sm-split share: defaults, parsing, and the
 * combinations checked before anything is set up.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#include "deliver_impl.h"

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
	o->sync = JOURNAL_SYNC_INTERVAL;
	o->sync_ms = JOURNAL_SYNC_MS_DEFAULT;
	o->drain_timeout_ms = DELIVER_DRAIN_MS_DEFAULT;
}

void
deliver_opts_output(struct deliver_opts *o)
{
	/* a line a second on a terminal is noise: a line rewritten instead */
	if (o->acks == stdout && !o->acks_always && isatty(STDOUT_FILENO)) {
		o->acks = NULL;
		o->status = stdout;
	}
}

static int
deliver_opt_count(const char *name, const char *arg, long long min,
    long long max, long *out, struct why *why)
{
	long long v;

	if (cli_parse_count(arg, min, max, &v) == -1)
		return why_set(why, "%s: \"%s\": want an integer "
		    "from %lld to %lld", name, arg, min, max);
	*out = (long)v;
	return 0;
}

static int
deliver_opt_seconds(const char *name, const char *arg, double min,
    double max, int64_t *out_ms, struct why *why)
{
	if (cli_parse_ms(arg, min, max, out_ms) == -1)
		return why_set(why, "%s: \"%s\": want seconds from "
		    "%g to %g", name, arg, min, max);
	return 0;
}

int
deliver_opt(struct deliver_opts *o, int id, const char *arg, struct why *why)
{
	enum journal_sync sync;
	struct why bwhy;
	long v = 0;

	switch (id) {
	case DELIVER_OPT_DRAIN_TIMEOUT:
		return deliver_opt_seconds("--drain-timeout", arg, 0, 86400,
		    &o->drain_timeout_ms, why);
	case DELIVER_OPT_JOURNAL:
		o->journal_dir = arg;
		return 0;
	case DELIVER_OPT_JOURNAL_MAX:
		if (cli_parse_size(arg, &o->journal_max, NULL) == -1 ||
		    o->journal_max < DELIVER_JOURNAL_MAX_MIN)
			return why_set(why, "--journal-max: \"%s\": want a "
			    "size of 1M or more (K, M, G, T: powers of 1024)",
			    arg);
		return 0;
	case DELIVER_OPT_JOURNAL_FULL:
		if (strcmp(arg, "wait") == 0)
			o->journal_full = DELIVER_FULL_WAIT;
		else if (strcmp(arg, "drop") == 0)
			o->journal_full = DELIVER_FULL_DROP;
		else
			return why_set(why, "--journal-full: \"%s\": want "
			    "wait or drop", arg);
		return 0;
	case DELIVER_OPT_SYNC:
		if (journal_parse_sync(arg, &sync, &o->sync_ms) == -1)
			return why_set(why, "--sync: \"%s\": want batch, "
			    "never, or milliseconds from 1 to 3600000", arg);
		o->sync = (int)sync;
		return 0;
	case DELIVER_OPT_BATCH:
		return deliver_opt_count("--batch", arg, 1, DELIVER_BATCH_MAX,
		    &o->batch, why);
	case DELIVER_OPT_FAIL_TIMEOUT:
		return deliver_opt_seconds("--fail-timeout", arg, 0, 86400,
		    &o->fail_timeout_ms, why);
	case DELIVER_OPT_HEADER:
		if (strchr(arg, ':') == NULL || arg[0] == ':')
			return why_set(why, "-H: \"%s\": want "
			    "\"Name: value\"", arg);
		if (o->nheaders == DELIVER_HEADERS_MAX)
			return why_set(why, "-H: at most %d headers",
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
	case DELIVER_OPT_METRICS_FILE:
		o->metrics_path = arg;
		return 0;
	case DELIVER_OPT_METRICS_INTERVAL:
		return deliver_opt_seconds("--metrics-interval", arg, 0.1,
		    86400, &o->metrics_interval_ms, why);
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
	case DELIVER_OPT_ACKS:
		o->acks_always = true;
		return 0;
	case DELIVER_OPT_TIMEOUT:
		return deliver_opt_seconds("--timeout", arg, 0.001, 86400,
		    &o->timeout_ms, why);
	case DELIVER_OPT_TOKEN_FILE:
		o->token_file = arg;
		return 0;
	case DELIVER_OPT_CACERT:
		o->cacert = arg;
		return 0;
	case DELIVER_OPT_CERT:
		o->cert = arg;
		return 0;
	case DELIVER_OPT_KEY:
		o->key = arg;
		return 0;
	case DELIVER_OPT_WEIGHTS:
		if (balance_parse_weights(arg, o->weights, BALANCE_MAX,
		    &o->nweights, &bwhy) == -1)
			return why_set(why, "--weights: \"%s\": %s",
			    arg, bwhy.msg);
		return 0;
	}
	return why_set(why, "unknown option");
}

/* name's file (a TLS option's) can be read: 0, or -1 with why. */
static int
deliver_opt_readable(const char *name, const char *path, struct why *why)
{
	int fd;

	if (path == NULL)
		return 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return why_set(why, "%s: %s: %s", name, path,
		    strerror(errno));
	close(fd);
	return 0;
}

int
deliver_opts_check(const struct deliver_opts *o, struct why *why)
{
	char *h;
	int i;

	if (o->nurls < 1 || o->nurls > BALANCE_MAX)
		return why_set(why, "want 1 to %d URLs, not %d",
		    BALANCE_MAX, o->nurls);
	if (o->nweights != 0 && o->nweights != o->nurls)
		return why_set(why, "--weights: %d weights for %d "
		    "URLs", o->nweights, o->nurls);
	for (i = 0; i < o->nurls; i++) {
		if ((h = deliver_health_url(o->urls[i])) == NULL)
			return why_set(why, "\"%s\": want an http:// "
			    "or https:// URL", o->urls[i]);
		free(h);
	}
	if (o->journal_dir == NULL && (o->journal_max != 0 ||
	    o->journal_full != DELIVER_FULL_UNSET ||
	    o->sync != JOURNAL_SYNC_INTERVAL ||
	    o->sync_ms != JOURNAL_SYNC_MS_DEFAULT))
		return why_set(why, "--journal-max, --journal-full and --sync "
		    "want --journal");
	if (o->metrics_path == NULL && o->metrics_interval_ms != 0)
		return why_set(why, "--metrics-interval wants --metrics-file");
	if (o->reject_path != NULL && o->spool_path != NULL &&
	    strcmp(o->reject_path, o->spool_path) == 0)
		return why_set(why, "--reject and --spool name the "
		    "same file");
	if ((o->cert == NULL) != (o->key == NULL))
		return why_set(why, "--cert and --key go together");
	if (deliver_opt_readable("--cacert", o->cacert, why) == -1 ||
	    deliver_opt_readable("--cert", o->cert, why) == -1 ||
	    deliver_opt_readable("--key", o->key, why) == -1)
		return -1;
	return 0;
}
