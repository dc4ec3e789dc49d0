/*
 * The delivery engine behind sm-post and sm-split: NDJSON records from a
 * descriptor, batched, POSTed over libcurl's multi interface (one thread,
 * keep-alive connections reused, --parallel requests in flight) to one
 * or more endpoints chosen by balance.h, retried with backoff.h, and
 * every record accounted for: delivered (an acknowledgement line per
 * request), rejected by a receiver (reject file and stderr) or not
 * delivered in time (spool file and stderr).  sm-post is the one-endpoint
 * case of the same code.
 */
#ifndef SM_DELIVER_H
#define SM_DELIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

#include "balance.h"
#include "why.h"

#define DELIVER_HEADERS_MAX 32
#define DELIVER_BATCH_MAX 100000
#define DELIVER_PARALLEL_MAX 1024

/* Long option values shared by sm-post and sm-split (each picks its set). */
enum deliver_opt_id {
	DELIVER_OPT_HEADER = 'H',
	DELIVER_OPT_BATCH = 256,
	DELIVER_OPT_FAIL_TIMEOUT,
	DELIVER_OPT_HEALTH_INTERVAL,
	DELIVER_OPT_LINGER,
	DELIVER_OPT_MAX_FAILS,
	DELIVER_OPT_MAX_LINE,
	DELIVER_OPT_MAX_TIME,
	DELIVER_OPT_NDJSON,
	DELIVER_OPT_PARALLEL,
	DELIVER_OPT_REJECT,
	DELIVER_OPT_RETRIES,
	DELIVER_OPT_SPOOL,
	DELIVER_OPT_STATS_EVERY,
	DELIVER_OPT_STRICT,
	DELIVER_OPT_TIMEOUT,
	DELIVER_OPT_TOKEN_FILE,
	DELIVER_OPT_WEIGHTS,
	DELIVER_OPT_CACERT,
	DELIVER_OPT_CERT,
	DELIVER_OPT_KEY,
	DELIVER_OPT_JOURNAL,
	DELIVER_OPT_JOURNAL_MAX,
	DELIVER_OPT_JOURNAL_FULL,
	DELIVER_OPT_SYNC,
	DELIVER_OPT_DRAIN_TIMEOUT,
	DELIVER_OPT_ACKS,
	DELIVER_OPT_VERSION,
	DELIVER_OPT_METRICS_FILE,
	DELIVER_OPT_METRICS_INTERVAL
};

/* --journal-full: what a full journal does. */
enum deliver_full {
	DELIVER_FULL_UNSET,	/* not given: wait */
	DELIVER_FULL_WAIT,	/* stop reading until there is room */
	DELIVER_FULL_DROP	/* drop the oldest segment, read on */
};

struct deliver_opts {
	char *const *urls;		/* endpoints, in command-line order */
	int nurls;
	int weights[BALANCE_MAX];
	int nweights;			/* 0: every weight 1 */
	long batch;			/* records per request */
	bool ndjson;			/* NDJSON bodies, not JSON arrays */
	int64_t linger_ms;		/* how long a partial batch waits */
	long parallel;			/* requests in flight */
	int64_t timeout_ms;		/* one request */
	int64_t max_time_ms;		/* one batch, first try to last */
	long retries;			/* attempts after the first */
	const char *reject_path;
	const char *spool_path;
	const char *token_file;
	/* HTTPS: the CAs to trust, our certificate and key (mutual TLS) */
	const char *cacert, *cert, *key;
	const char *headers[DELIVER_HEADERS_MAX];
	int nheaders;
	long max_fails;
	int64_t fail_timeout_ms;
	int64_t health_interval_ms;	/* 0: no active probes */
	long stats_every;		/* requests; 0: none on the way */
	long max_line;			/* bytes; 0: NDJSON_MAX_LINE_DEFAULT */
	bool strict;			/* stop reading at a bad line */
	bool stats;			/* statistics at the end */
	const char *journal_dir;	/* --journal: NULL for none */
	uint64_t journal_max;		/* bytes; 0: JOURNAL_MAX_DEFAULT */
	enum deliver_full journal_full;	/* --journal-full */
	int sync;			/* enum journal_sync */
	int64_t sync_ms;		/* with JOURNAL_SYNC_INTERVAL */
	int64_t drain_timeout_ms;	/* reading on after a stop signal */
	/* --metrics-file: Prometheus text, rewritten (delivermetrics.c) */
	const char *metrics_path;	/* NULL: none */
	int64_t metrics_interval_ms;	/* 0: the default */
	int in_fd;			/* records come from here */
	FILE *acks;			/* acknowledgements go here (NULL:
					   none) */
	bool acks_always;		/* --acks: even on a terminal */
	FILE *status;			/* a status line, rewritten (NULL:
					   none): stdout on a terminal */
};

/* Defaults (sm-post's; sm-split turns on stats and probes). */
void deliver_opts_init(struct deliver_opts *o);

/*
 * Apply one option (id from enum deliver_opt_id) with its argument.
 * Returns 0, or -1 with the reason in why.
 */
int deliver_opt(struct deliver_opts *o, int id, const char *arg,
    struct why *why);

/*
 * Where the output goes, once the options are read: stdout a terminal
 * and no --acks: a status line there instead of the acknowledgements.
 */
void deliver_opts_output(struct deliver_opts *o);

/*
 * Check the options against the URLs (count, weights); 0, or -1 with why.
 * Commands call it before deliver_command() to reject bad combinations
 * with their usage message.
 */
int deliver_opts_check(const struct deliver_opts *o, struct why *why);

/*
 * Run a whole command: set up (a configuration error is reported and
 * returns SM_EXIT_USAGE), catch SIGINT, SIGTERM and SIGHUP (cli_catch_stop:
 * the first stops sending, reads the input on to its end or for
 * --drain-timeout and spools or journals it with what is not in flight,
 * the second aborts what is), deliver everything from o->in_fd, report,
 * tear down.
 * Returns the exit status.  The caller has called curl_global_init().
 */
int deliver_command(const struct deliver_opts *o);

/* The engine, for commands and tests that drive it in steps. */
struct deliver;

int deliver_new(struct deliver **dp, const struct deliver_opts *o,
    struct why *why);
int deliver_run(struct deliver *d);	/* exit status */
void deliver_free(struct deliver *d);

/*
 * The descriptor a stop signal writes a byte to (cli_catch_stop): the first
 * byte stops sending and drains the input (deliver_command), the second
 * aborts what is in flight.
 */
int deliver_wake_fd(const struct deliver *d);

/* Counters of a run, for the statistics line and tests. */
struct deliver_counts {
	unsigned long records_in;	/* input records accepted */
	unsigned long bad_lines;	/* input lines not a JSON object */
	unsigned long delivered;	/* records acknowledged with 2xx */
	unsigned long rejected;		/* records refused by a receiver */
	unsigned long spooled;		/* records not delivered in time */
	unsigned long kept;		/* left in the journal at a stop */
	unsigned long dropped;		/* lost to a full journal */
	unsigned long requests;		/* requests finished */
	unsigned long sent;		/* attempts started, retries too */
	unsigned long journaled;	/* records written to the journal */
	unsigned long retried;		/* attempts after a failed one */
	unsigned long failed_over;	/* ... that went to another endpoint */
	unsigned long per_ep[BALANCE_MAX];	/* delivered, per endpoint */
	int nep;
};

const struct deliver_counts *deliver_counts(const struct deliver *d);

/*
 * "sent 1000/2000 | a: 500 (50.0%) | b: 500 (50.0%) | retried 3 | failed
 * over 2": records delivered / records read, then per endpoint (a, b, ...
 * in command-line order), then "| rejected N | spooled N | kept N |
 * dropped N" when not 0.  With one endpoint: "sent 3/3 | retried 0" and those.
 */
void deliver_stats_format(const struct deliver_counts *c, char *buf,
    size_t size);

#endif
