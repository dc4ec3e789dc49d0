/*
 * sm-tail's options into one mode, checked against it by one table, and
 * each mode's body (tailmain.h).
 */
#include <err.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <mysql.h>

#include "cli.h"
#include "dash.h"
#include "dashview.h"
#include "exitcode.h"
#include "feed.h"
#include "follow.h"
#include "history.h"
#include "httpd_listen.h"
#include "record.h"
#include "schema.h"
#include "tailmain.h"
#include "tailprint.h"
#include "timefmt.h"
#include "utf8.h"
#include "webauth.h"
#include "webpage.h"
#include "when.h"

#define M(mode) (1u << (mode))
/* the modes that follow the table */
#define FOLLOWING (M(TAILMAIN_FOLLOW) | M(TAILMAIN_DASHBOARD) | \
	M(TAILMAIN_LISTEN))

void
tailmain_opts_init(struct tailmain_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->mode = TAILMAIN_PRINT;
	o->tail.filter.since_ms = -1;
	o->tail.filter.until_ms = -1;
	o->interval_ms = o->gap_timeout_ms = o->stale_ms = o->step_ms = -1;
	o->forget_ms = -1;
	o->warn = -1;
	o->lines = o->backlog = o->max_conns = -1;
	o->max_hosts = o->request_timeout = o->per_addr = -1;
	o->tier = TIER_RAW;
}

/*
 * Option name chose mode: 1, or -1 after a warning when another option
 * chose another (as tailmain_opt).
 */
static int
tailmain_mode(struct tailmain_opts *o, enum tailmain_mode mode,
    const char *name)
{
	if (o->mode_opt != NULL && o->mode != mode) {
		warnx("conflicting modes: %s and %s", o->mode_opt, name);
		return -1;
	}
	o->mode = mode;
	o->mode_opt = name;
	return 1;
}

/* --since or --until (ch): 1, or -1 after a warning. */
static int
tailmain_time(struct tailmain_opts *o, int ch, const char *arg)
{
	const char *why;
	bool since = ch == TAILMAIN_OPT_SINCE;

	if (when_parse(arg, timefmt_now_ms(), since ?
	    &o->tail.filter.since_ms : &o->tail.filter.until_ms,
	    &why) == -1) {
		warnx("--%s: \"%s\": %s; want RFC 3339 "
		    "(2026-11-26T15:00:00Z), a date (2026-11-26) or a "
		    "duration ago (2h, 7d)", since ? "since" : "until", arg,
		    why);
		return -1;
	}
	return 1;
}

/* The options with a value of a kind of their own: as tailmain_opt. */
static int
tailmain_opt_value(struct tailmain_opts *o, int ch, const char *arg)
{
	const char *why_text;
	struct why why;
	char shown[128];	/* an argument in a message, escaped */

	switch (ch) {
	case TAILMAIN_OPT_FORMAT:
		if (rowfmt_parse(arg, &o->kind) == -1) {
			warnx("--format: \"%s\": want ndjson, table or seed",
			    arg);
			return -1;
		}
		o->format = arg;
		return 1;
	case TAILMAIN_OPT_MAX_CONNECTIONS:
		return httpd_opt_max_connections(arg, &o->max_conns) == -1 ?
		    -1 : 1;
	case TAILMAIN_OPT_MAX_PER_ADDRESS:
		return httpd_opt_max_per_address(arg, &o->per_addr) == -1 ?
		    -1 : 1;
	case TAILMAIN_OPT_CONNECTION_MEMORY:
		if (cli_parse_size(arg, &o->conn_memory, NULL) == -1 ||
		    o->conn_memory < WEB_CONN_MEMORY_MIN ||
		    o->conn_memory > WEB_CONN_MEMORY_MAX) {
			warnx("--connection-memory: \"%s\": want a size from "
			    "%uK to %uK (K, M: powers of 1024)", arg,
			    WEB_CONN_MEMORY_MIN >> 10,
			    WEB_CONN_MEMORY_MAX >> 10);
			return -2;
		}
		return 1;
	case TAILMAIN_OPT_SINCE:
	case TAILMAIN_OPT_UNTIL:
		return tailmain_time(o, ch, arg);
	case TAILMAIN_OPT_TIER:
		if (history_tier_parse(arg, &o->tier) == -1) {
			warnx("--tier: \"%s\": want raw, 1m or 1h", arg);
			return -1;
		}
		o->tier_given = true;
		return 1;
	case TAILMAIN_OPT_RULE:
		if (alert_ruleset_add(&o->rules, arg, &why) == -1) {
			warnx("--rule \"%s\": %s",
			    utf8_escape(arg, shown, sizeof(shown)), why.msg);
			return -2;
		}
		return 1;
	case TAILMAIN_OPT_RULES:
		if (alert_ruleset_load(&o->rules, arg, &why) == -1) {
			warnx("--rules %s: %s",
			    utf8_escape(arg, shown, sizeof(shown)), why.msg);
			return -2;
		}
		return 1;
	case TAILMAIN_OPT_VIA:
		if (tail_via_parse(arg, &o->tail.via) == -1) {
			warnx("--via: \"%s\": want auto, binlog or poll", arg);
			return -1;
		}
		o->via_given = true;
		return 1;
	case TAILMAIN_OPT_STEP:
		if (when_duration(arg, &o->step_ms, &why_text) == -1) {
			warnx("--step: \"%s\": %s", arg, why_text);
			return -1;
		}
		return tailmain_mode(o, TAILMAIN_STEP, "--step");
	}
	return 0;
}

int
tailmain_opt(struct tailmain_opts *o, int ch, char *arg)
{
	const struct cli_opt table[] = {
		{ TAILMAIN_OPT_AUTH_FILE, "--auth-file", .arg = &o->auth_file },
		{ TAILMAIN_OPT_METRICS_TOKEN, "--metrics-token-file",
		    .arg = &o->metrics_token },
		{ TAILMAIN_OPT_BACKLOG, "--backlog", .count = &o->backlog,
		    .min = 1, .max = FEED_BACKLOG_MAX, .unit = "rows" },
		{ TAILMAIN_OPT_FORGET, "--forget", .ms = &o->forget_ms,
		    .min = 1, .max = 86400 * 365,
		    .want = "seconds, 1 or more" },
		{ TAILMAIN_OPT_MAX_HOSTS, "--max-hosts", .count = &o->max_hosts,
		    .min = 1, .max = FEED_PAIRS_MAX, .unit = "pairs" },
		{ TAILMAIN_OPT_REQUEST_TIMEOUT, "--request-timeout",
		    .count = &o->request_timeout, .min = 1, .max = 3600,
		    .unit = "seconds" },
		{ TAILMAIN_OPT_GAP_TIMEOUT, "--gap-timeout",
		    .ms = &o->gap_timeout_ms, .min = 0.1, .max = 86400 },
		{ TAILMAIN_OPT_HOST, "--host", .text = &o->tail.filter.host,
		    .max = RECORD_HOST_MAX },
		{ TAILMAIN_OPT_INTERVAL, "--interval", .ms = &o->interval_ms,
		    .min = 0.01, .max = 3600 },
		{ TAILMAIN_OPT_KEEP_ALERTS, "--keep-alerts",
		    .flag = &o->web.keep_alerts },
		{ 'n', "-n", .count = &o->lines, .min = 0, .max = 1LL << 62,
		    .want = "a count of rows, 0 or more" },
		{ TAILMAIN_OPT_PORT_FILE, "--port-file",
		    .arg = &o->web.port_file },
		{ TAILMAIN_OPT_SOURCE, "--source",
		    .text = &o->tail.filter.source, .max = SCHEMA_SOURCE_MAX },
		{ TAILMAIN_OPT_STALE, "--stale", .ms = &o->stale_ms, .min = 1,
		    .max = 86400 * 365, .want = "seconds, 1 or more" },
		{ TAILMAIN_OPT_WARN, "--warn", .number = &o->warn, .min = 0,
		    .max = 100, .want = "a percentage from 0 to 100" },
		{ TAILMAIN_OPT_WEB_ROOT, "--web-root",
		    .arg = &o->web.web_root },
		{ 0 }
	};
	int r;

	if ((r = db_opt(&o->db, ch, arg)) != 0 ||
	    (r = tls_opt(&o->tls, ch, arg)) != 0 ||
	    (r = cli_opt(table, ch, arg)) != 0 ||
	    (r = tailmain_opt_value(o, ch, arg)) != 0)
		return r;
	switch (ch) {
	case 'd':
		return tailmain_mode(o, TAILMAIN_DASHBOARD, "-d");
	case 'f':
		return tailmain_mode(o, TAILMAIN_FOLLOW, "-f");
	case TAILMAIN_OPT_LISTEN:
		if (httpd_opt_listen(arg, &o->web.addr, &o->web.addrlen) == -1)
			return -1;
		o->listen = arg;
		return tailmain_mode(o, TAILMAIN_LISTEN, "--listen");
	}
	return 0;
}

int
tailmain_check(const struct tailmain_opts *o)
{
	/* an option given, the modes it is refused in, and the reason */
	const struct {
		bool given;
		unsigned refused;
		const char *why;
	} rules[] = {
		{ o->format != NULL, M(TAILMAIN_LISTEN),
		    "--listen serves rows over HTTP: not with -d, -f or "
		    "--format" },
		{ o->backlog >= 0 || o->max_conns >= 0 ||
		    o->web.port_file != NULL || o->stale_ms >= 0 ||
		    o->web.web_root != NULL || o->rules.n > 0 ||
		    o->auth_file != NULL || o->metrics_token != NULL ||
		    tls_given(&o->tls) || o->forget_ms >= 0 ||
		    o->max_hosts >= 0 || o->request_timeout >= 0 ||
		    o->per_addr >= 0 || o->web.keep_alerts ||
		    o->conn_memory > 0, ~M(TAILMAIN_LISTEN),
		    "--auth-file, --backlog, --connection-memory, --forget, "
		    "--keep-alerts, "
		    "--max-connections, --max-hosts, --max-per-address, "
		    "--metrics-token-file, --port-file, "
		    "--request-timeout, --rule, --rules, --stale, --tls-* and "
		    "--web-root need --listen" },
		/* a host forgotten before it is stale would never be */
		{ o->forget_ms >= 0 && o->stale_ms > 0 &&
		    o->forget_ms <= o->stale_ms, ~0U,
		    "--forget must be longer than --stale" },
		{ o->lines >= 0 || o->via_given ||
		    o->tail.filter.since_ms < 0 || (o->format != NULL &&
		    o->kind == ROWFMT_SEED), M(TAILMAIN_STEP),
		    "--step reads points over --since to --until: it needs "
		    "--since, and not -d, -f, -n, --listen, --via or "
		    "--format seed" },
		{ o->tier_given, ~M(TAILMAIN_STEP), "--tier is for --step" },
		{ o->tail.filter.until_ms >= 0, FOLLOWING,
		    "--until ends the rows read: not with -d, -f or "
		    "--listen" },
		{ o->format != NULL, M(TAILMAIN_DASHBOARD),
		    "-d shows rows on the screen: not with --format or -f" },
		{ o->warn >= 0, ~(M(TAILMAIN_DASHBOARD) | M(TAILMAIN_LISTEN)),
		    "--warn is for the dashboards (-d, --listen)" },
		{ o->via_given, ~FOLLOWING,
		    "--via is for -f, -d and --listen" },
		{ o->interval_ms >= 0 || o->gap_timeout_ms >= 0, ~FOLLOWING,
		    "--interval and --gap-timeout are for -f, -d and "
		    "--listen" },
	};
	size_t i;

	for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (rules[i].given && (rules[i].refused & M(o->mode)) != 0) {
			warnx("%s", rules[i].why);
			return -1;
		}
	return 0;
}

/* --step: points over --since to --until. */
static int
tailmain_step(struct tailmain_opts *o, const struct db_config *dbc)
{
	struct history_query q = {
		.host = o->tail.filter.host,
		.source = o->tail.filter.source,
		.from_ms = o->tail.filter.since_ms,
		.to_ms = o->tail.filter.until_ms >= 0 ?
		    o->tail.filter.until_ms : timefmt_now_ms(),
		.step_ms = o->step_ms,
		.force = o->tier_given,
		.forced = o->tier,
	};
	struct why why;

	if (history_check(&q, &why) == -1) {
		warnx("--since, --until, --step: %s", why.msg);
		return SM_EXIT_USAGE;
	}
	return history_print(dbc, &q, o->kind == ROWFMT_TABLE, stdout);
}

/* --listen: serve until a stop signal. */
static int
tailmain_listen(struct tailmain_opts *o)
{
	struct web_config *wc = &o->web;
	struct why why;
	sigset_t stop;
	int status = SM_EXIT_USAGE;

	httpd_block_stop(&stop);
	if (o->lines < 0)
		o->tail.lines = o->backlog > 0 ?
		    (unsigned long long)o->backlog : FEED_BACKLOG_DEFAULT;
	wc->tail = o->tail;
	wc->interval_ms = o->interval_ms;
	wc->backlog = o->backlog > 0 ? (size_t)o->backlog :
	    FEED_BACKLOG_DEFAULT;
	wc->max_connections = o->max_conns > 0 ? (unsigned)o->max_conns :
	    WEB_MAX_CONNECTIONS_DEFAULT;
	wc->stale_ms = o->stale_ms > 0 ? o->stale_ms : 0;
	wc->max_per_address = o->per_addr > 0 ? (unsigned)o->per_addr : 0;
	wc->conn_memory = o->conn_memory > 0 ? (size_t)o->conn_memory :
	    WEB_CONN_MEMORY_DEFAULT;
	wc->request_timeout = o->request_timeout > 0 ?
	    (unsigned)o->request_timeout : WEB_REQUEST_TIMEOUT_DEFAULT;
	wc->max_hosts = o->max_hosts > 0 ? (size_t)o->max_hosts :
	    FEED_PAIRS_DEFAULT;
	/* by default, twice --stale when that is longer */
	wc->forget_ms = o->forget_ms > 0 ? o->forget_ms : o->stale_ms * 2 >
	    FEED_FORGET_DEFAULT_MS ? o->stale_ms * 2 : FEED_FORGET_DEFAULT_MS;
	wc->rules = &o->rules;
	wc->warn = o->warn >= 0 ? o->warn : DASH_WARN_DEFAULT;
	wc->vendor_dir = WEB_DYGRAPHS_DIR;
	if (tls_load(&o->tls, &why) == -1) {
		warnx("--tls-cert, --tls-key, --tls-client-ca: %s", why.msg);
		goto out_tls;
	}
	wc->tls = &o->tls;
	if ((o->auth_file != NULL || o->metrics_token != NULL) &&
	    (wc->auth = webauth_new(o->auth_file, o->metrics_token,
	    &why)) == NULL) {
		warnx("%s", why.msg);
		goto out_tls;
	}
	if ((status = web_run(wc, &stop, &why)) != SM_EXIT_OK)
		warnx("--listen %s: %s", o->listen, why.msg);
	webauth_free(wc->auth);
out_tls:
	tls_free(&o->tls);
	return status;
}

/* -d: the terminal dashboard until q or a stop signal. */
static int
tailmain_dashboard(struct tailmain_opts *o, bool *poller_left)
{
	struct dashview_config dc;

	memset(&dc, 0, sizeof(dc));
	dc.tail = o->tail;
	dc.interval_ms = o->interval_ms;
	dc.warn = o->warn >= 0 ? o->warn : DASH_WARN_DEFAULT;
	dc.stop = &cli_stop;
	return dashview_run(&dc, poller_left);
}

/*
 * What is checked once the options are all in, before the database: 0,
 * or -1 after a warning.
 */
static int
tailmain_ready(struct tailmain_opts *o)
{
	struct why why;

	/* a --web-root without the page: said now, not at each request */
	if (o->web.web_root != NULL &&
	    webpage_root_check(o->web.web_root, &why) == -1) {
		warnx("--web-root: %s", why.msg);
		return -1;
	}
	/* a host silent that long: stale on the page, and an alert */
	if (o->stale_ms > 0 &&
	    alert_ruleset_add_stale(&o->rules, o->stale_ms, &why) == -1) {
		warnx("--stale: %s", why.msg);
		return -1;
	}
	if (o->mode == TAILMAIN_DASHBOARD && (!isatty(STDIN_FILENO) ||
	    !isatty(STDOUT_FILENO))) {
		warnx("-d: the dashboard needs a terminal on stdin and "
		    "stdout");
		return -1;
	}
	if (o->format == NULL)
		o->kind = isatty(STDOUT_FILENO) ? ROWFMT_TABLE : ROWFMT_NDJSON;
	return 0;
}

int
tailmain_run(struct tailmain_opts *o)
{
	struct db_config dbc;
	struct why why;
	bool poller_left = false;
	int status;

	if (tailmain_ready(o) == -1)
		return SM_EXIT_USAGE;
	if (db_opts_config(&o->db, &dbc, &why) == -1) {
		warnx("%s", why.msg);
		return SM_EXIT_USAGE;
	}
	if (o->mode == TAILMAIN_DASHBOARD)
		setlocale(LC_ALL, "");
	cli_catch_stop(-1);
	if (mysql_library_init(0, NULL, NULL) != 0) {
		warnx("cannot initialise the MySQL client library");
		status = SM_EXIT_UNAVAILABLE;
		goto out_db;
	}
	o->tail.db = &dbc;
	o->tail.lines = o->lines >= 0 ? (unsigned long long)o->lines :
	    o->mode == TAILMAIN_DASHBOARD ? DASH_HISTORY :
	    TAILMAIN_LINES_DEFAULT;
	o->tail.follow = o->mode == TAILMAIN_FOLLOW ||
	    o->mode == TAILMAIN_DASHBOARD;
	o->tail.gap_timeout_ms = o->gap_timeout_ms >= 0 ?
	    o->gap_timeout_ms : FOLLOW_GAP_TIMEOUT_MS;
	if (o->interval_ms < 0)
		o->interval_ms = TAILMAIN_INTERVAL_MS_DEFAULT;
	switch (o->mode) {
	case TAILMAIN_STEP:
		status = tailmain_step(o, &dbc);
		break;
	case TAILMAIN_LISTEN:
		status = tailmain_listen(o);
		break;
	case TAILMAIN_DASHBOARD:
		status = tailmain_dashboard(o, &poller_left);
		break;
	default:
		status = tail_print(&o->tail, o->kind, o->interval_ms,
		    &cli_stop);
		break;
	}
	/* not under a poller still blocked in the library: exit does it */
	if (!poller_left)
		mysql_library_end();
out_db:
	db_config_free(&dbc);
	return status;
}
