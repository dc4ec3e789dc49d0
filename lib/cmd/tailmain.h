/*
 * sm-tail's modes once its options are parsed (sm-tail(1)).  As signify
 * picks one verb, the mode options (-f, -d, --listen, --step) pick one
 * mode, and a second one is a "conflicting modes" error naming both;
 * every other option is checked against the mode by one table.  The
 * command parses with tailmain_opt into struct tailmain_opts, checks with
 * tailmain_check and runs tailmain_run, which returns the exit status.
 */
#ifndef SM_TAILMAIN_H
#define SM_TAILMAIN_H

#include <stdbool.h>
#include <stdint.h>

#include "alert.h"
#include "dbconf.h"
#include "rowfmt.h"
#include "tail.h"
#include "tier.h"
#include "tls.h"
#include "web.h"

#define TAILMAIN_LINES_DEFAULT 10
#define TAILMAIN_INTERVAL_MS_DEFAULT 500

enum tailmain_mode {
	TAILMAIN_PRINT,		/* no mode option: print the newest rows */
	TAILMAIN_FOLLOW,	/* -f */
	TAILMAIN_STEP,		/* --step: points over --since to --until */
	TAILMAIN_DASHBOARD,	/* -d */
	TAILMAIN_LISTEN		/* --listen */
};

/* sm-tail's own options (getopt_long's values past the characters). */
enum tailmain_optid {
	TAILMAIN_OPT_AUTH_FILE = 256, TAILMAIN_OPT_BACKLOG,
	TAILMAIN_OPT_CONNECTION_MEMORY, TAILMAIN_OPT_FORGET,
	TAILMAIN_OPT_FORMAT, TAILMAIN_OPT_GAP_TIMEOUT, TAILMAIN_OPT_HOST,
	TAILMAIN_OPT_INTERVAL, TAILMAIN_OPT_KEEP_ALERTS, TAILMAIN_OPT_LISTEN,
	TAILMAIN_OPT_MAX_CONNECTIONS, TAILMAIN_OPT_MAX_HOSTS,
	TAILMAIN_OPT_MAX_PER_ADDRESS,
	TAILMAIN_OPT_METRICS_TOKEN, TAILMAIN_OPT_PORT_FILE,
	TAILMAIN_OPT_REQUEST_TIMEOUT, TAILMAIN_OPT_RULE,
	TAILMAIN_OPT_RULES, TAILMAIN_OPT_SINCE, TAILMAIN_OPT_SOURCE,
	TAILMAIN_OPT_STALE, TAILMAIN_OPT_STEP, TAILMAIN_OPT_TIER,
	TAILMAIN_OPT_UNTIL, TAILMAIN_OPT_VERSION, TAILMAIN_OPT_VIA,
	TAILMAIN_OPT_WARN, TAILMAIN_OPT_WEB_ROOT
};

/* The options; -1 (a number) or NULL: not given, the default. */
struct tailmain_opts {
	enum tailmain_mode mode;
	const char *mode_opt;	/* the option that chose it; NULL: none */
	const char *format, *listen, *auth_file, *metrics_token;
	enum rowfmt_kind kind;	/* --format's, when given */
	int64_t interval_ms, gap_timeout_ms, stale_ms, step_ms, forget_ms;
	double warn;
	long long lines, backlog, max_conns, max_hosts, request_timeout;
	long long per_addr;		/* --max-per-address */
	uint64_t conn_memory;		/* --connection-memory; 0: none */
	enum tier_id tier;
	bool tier_given, via_given;
	struct tail_config tail;	/* filters and --via */
	struct web_config web;		/* --listen's address, files */
	struct alert_ruleset rules;	/* --rule, --rules, --stale */
	struct db_opts db;
	struct tls_opts tls;
};

/* Every option not given. */
void tailmain_opts_init(struct tailmain_opts *o);

/*
 * Take getopt_long's option ch and its argument, as cli_opt does: 1 when
 * it is one of sm-tail's (the database's and TLS's too), 0 when it is not
 * (-h, --version), -1 after a warning (a bad value, or a second mode: the
 * caller then prints its usage), -2 after a warning that is enough (a bad
 * alert rule: the caller exits with SM_EXIT_USAGE).
 */
int tailmain_opt(struct tailmain_opts *o, int ch, char *arg);

/*
 * The options together: 0, or -1 after a warning naming the option that
 * does not go with the mode (the caller then prints its usage).
 */
int tailmain_check(const struct tailmain_opts *o);

/* Run the mode; the exit status.  Diagnostics go to stderr. */
int tailmain_run(struct tailmain_opts *o);

#endif
