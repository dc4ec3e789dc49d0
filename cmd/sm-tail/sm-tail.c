/*
 * sm-tail: print the newest rows of table system_metrics, follow new ones
 * (none skipped, none repeated), show them on a terminal dashboard, or
 * serve them over HTTP to browsers and scrapers (--listen).
 */
#include <err.h>
#include <getopt.h>
#include <locale.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mysql.h>

#include "alert.h"
#include "cli.h"
#include "dash.h"
#include "dashview.h"
#include "db.h"
#include "exitcode.h"
#include "feed.h"
#include "follow.h"
#include "history.h"
#include "httpd_listen.h"
#include "record.h"
#include "rowfmt.h"
#include "schema.h"
#include "tail.h"
#include "timefmt.h"
#include "tls.h"
#include "web.h"
#include "webauth.h"
#include "webpage.h"
#include "when.h"

#define LINES_DEFAULT 10
#define INTERVAL_MS_DEFAULT 500

static const struct cli_help help = {
	.about = "print, follow, watch or serve the newest rows of "
	    "the metrics table",
	.usage =
	    "usage: sm-tail [-fh] [-n count] [--db url] "
	    "[--defaults-file file]\n"
	    "               [--format ndjson|table|seed] "
	    "[--gap-timeout seconds] [--host name]\n"
	    "               [--interval seconds] [--since time] "
	    "[--source name]\n"
	    "               [--ssl-ca file] [--ssl-mode mode] "
	    "[--until time]\n"
	    "               [--via auto|binlog|poll] [--version]\n"
	    "       sm-tail --since time --step duration [--db url] "
	    "[--defaults-file file]\n"
	    "               [--format ndjson|table] [--host name] "
	    "[--source name]\n"
	    "               [--ssl-ca file] [--ssl-mode mode] "
	    "[--tier raw|1m|1h]\n"
	    "               [--until time]\n"
	    "       sm-tail -d [-n count] [--db url] [--defaults-file file] "
	    "[--gap-timeout seconds]\n"
	    "               [--host name] [--interval seconds] "
	    "[--since time] [--source name]\n"
	    "               [--ssl-ca file] [--ssl-mode mode] "
	    "[--via auto|binlog|poll]\n"
	    "               [--warn percent]\n"
	    "       sm-tail --listen addr [-n count] [--auth-file file] "
	    "[--backlog rows]\n"
	    "               [--db url] [--defaults-file file] "
	    "[--gap-timeout seconds]\n"
	    "               [--host name] [--interval seconds] "
	    "[--max-connections n]\n"
	    "               [--max-per-address n] [--metrics-token-file file]\n"
	    "               [--port-file file]\n"
	    "               [--rule rule] [--rules file] [--since time] "
	    "[--source name]\n"
	    "               [--ssl-ca file] [--ssl-mode mode] "
	    "[--stale seconds]\n"
	    "               [--tls-cert file --tls-key file] "
	    "[--tls-client-ca file]\n"
	    "               [--via auto|binlog|poll] [--warn percent] "
	    "[--web-root dir]\n",
	.options =
	    "  -d, --dashboard        the terminal dashboard\n"
	    "  -f, --follow           follow new rows\n"
	    "  -n, --lines count      the last count rows first (10)\n"
	    "  --auth-file file       --listen: viewers, name:crypt(3) hash "
	    "lines\n"
	    "  --backlog rows         --listen: rows kept for new clients "
	    "(4096)\n"
	    "  --db url               mysql://user@host:port/db (or ?socket=); "
	    "SM_DB\n"
	    "  --defaults-file file   a MySQL option file with the password\n"
	    "  --format name          ndjson, table or seed\n"
	    "  --gap-timeout seconds  how long a missing id is waited for "
	    "(60)\n"
	    "  --host name            only this host's rows\n"
	    "  --interval seconds     between polls (0.5)\n"
	    "  --listen addr          the browser dashboard, SSE, JSON, "
	    "/metrics\n"
	    "  --max-connections n    --listen: connections at once (1024)\n"
	    "  --max-per-address n    --listen: connections from one address "
	    "(no cap)\n"
	    "  --metrics-token-file file\n"
	    "                         --listen: a bearer token for /metrics\n"
	    "  --port-file file       --listen: the port, written here\n"
	    "  --rule rule            --listen: an alert rule; repeatable\n"
	    "  --rules file           --listen: alert rules from a file\n"
	    "  --since time           only rows sampled at or after (RFC "
	    "3339, a date,\n"
	    "                         or a duration ago: 2h, 7d)\n"
	    "  --source name          only rows of this data_source\n"
	    "  --ssl-ca file          the CAs that sign the server's "
	    "certificate\n"
	    "  --ssl-mode mode        DISABLED, PREFERRED, REQUIRED, "
	    "VERIFY_CA or\n"
	    "                         VERIFY_IDENTITY\n"
	    "  --stale seconds        --listen: a host is stale (and alerts)\n"
	    "  --step duration        points of this width over the range "
	    "(1m, 1h)\n"
	    "  --tier name            --step: read raw, 1m or 1h (the "
	    "coarsest that fits)\n"
	    "  --tls-cert file        --listen: HTTPS, the certificate chain "
	    "(PEM)\n"
	    "  --tls-client-ca file   --listen: clients need a certificate "
	    "these CAs sign\n"
	    "  --tls-key file         --listen: HTTPS, the certificate's key "
	    "(PEM)\n"
	    "  --until time           only rows sampled before (as --since)\n"
	    "  --version              the version\n"
	    "  --via method           auto, binlog or poll: how -f follows\n"
	    "  --warn percent         gauges in the warning colour above (75)\n"
	    "  --web-root dir         --listen: the page's files\n",
	.environment =
	    DB_HELP_ENVIRONMENT
	    "  TERM                   the terminal type (-d)\n"
	    "  LANG, LC_ALL           a UTF-8 locale: -d's sparklines in "
	    "block characters\n",
};

static void __attribute__((noreturn))
usage(int status)
{
	exit(cli_usage(status, &help));
}

#ifndef SM_NO_MAIN
int
main(int argc, char *argv[])
{
	enum { OPT_AUTH_FILE = 256, OPT_BACKLOG, OPT_FORMAT, OPT_GAP_TIMEOUT,
	    OPT_HOST, OPT_INTERVAL, OPT_LISTEN, OPT_MAX_CONNECTIONS,
	    OPT_MAX_PER_ADDRESS,
	    OPT_METRICS_TOKEN, OPT_PORT_FILE, OPT_RULE, OPT_RULES, OPT_SINCE,
	    OPT_SOURCE, OPT_STALE, OPT_STEP, OPT_TIER, OPT_UNTIL, OPT_VERSION,
	    OPT_VIA, OPT_WARN, OPT_WEB_ROOT };
	static const struct option longopts[] = {
		{ "auth-file", required_argument, NULL, OPT_AUTH_FILE },
		{ "backlog", required_argument, NULL, OPT_BACKLOG },
		{ "dashboard", no_argument, NULL, 'd' },
		{ "db", required_argument, NULL, DB_OPT_DB },
		{ "defaults-file", required_argument, NULL,
		    DB_OPT_DEFAULTS_FILE },
		{ "follow", no_argument, NULL, 'f' },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "gap-timeout", required_argument, NULL, OPT_GAP_TIMEOUT },
		{ "help", no_argument, NULL, 'h' },
		{ "host", required_argument, NULL, OPT_HOST },
		{ "interval", required_argument, NULL, OPT_INTERVAL },
		{ "lines", required_argument, NULL, 'n' },
		{ "listen", required_argument, NULL, OPT_LISTEN },
		{ "max-connections", required_argument, NULL,
		    OPT_MAX_CONNECTIONS },
		{ "max-per-address", required_argument, NULL,
		    OPT_MAX_PER_ADDRESS },
		{ "metrics-token-file", required_argument, NULL,
		    OPT_METRICS_TOKEN },
		{ "port-file", required_argument, NULL, OPT_PORT_FILE },
		{ "rule", required_argument, NULL, OPT_RULE },
		{ "rules", required_argument, NULL, OPT_RULES },
		{ "since", required_argument, NULL, OPT_SINCE },
		{ "source", required_argument, NULL, OPT_SOURCE },
		{ "ssl-ca", required_argument, NULL, DB_OPT_SSL_CA },
		{ "ssl-mode", required_argument, NULL, DB_OPT_SSL_MODE },
		{ "stale", required_argument, NULL, OPT_STALE },
		{ "step", required_argument, NULL, OPT_STEP },
		{ "tier", required_argument, NULL, OPT_TIER },
		TLS_LONGOPTS,
		{ "until", required_argument, NULL, OPT_UNTIL },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ "via", required_argument, NULL, OPT_VIA },
		{ "warn", required_argument, NULL, OPT_WARN },
		{ "web-root", required_argument, NULL, OPT_WEB_ROOT },
		{ NULL, 0, NULL, 0 }
	};
	/* the alerts the page and /metrics show (sm-alert(1), RULES) */
	static struct alert_ruleset rules;
	const char *format = NULL, *why_time, *listen = NULL;
	const char *auth_file = NULL, *metrics_token = NULL;
	struct tls_opts tls = { 0 };
	struct why dbwhy, why;
	int64_t interval = -1, gap_timeout = -1, stale = -1;	/* ms */
	double warn = -1;
	long long lines = -1, backlog = -1, max_conns = -1, per_addr = -1;
	int64_t step_ms = -1;
	enum tier_id tier = TIER_RAW;
	bool tier_given = false;
	struct web_config wc;
	bool dashboard = false, follow = false, poller_left = false;
	bool via_given = false;
	enum rowfmt_kind kind;
	struct tail_config tc;
	struct db_opts dbo = { 0 };
	struct db_config dbc;
	int ch, r, status;

	const struct cli_opt opts[] = {
		{ OPT_AUTH_FILE, "--auth-file", .arg = &auth_file },
		{ OPT_METRICS_TOKEN, "--metrics-token-file",
		    .arg = &metrics_token },
		{ OPT_BACKLOG, "--backlog", .count = &backlog, .min = 1,
		    .max = FEED_BACKLOG_MAX, .unit = "rows" },
		{ 'd', "-d", .flag = &dashboard },
		{ 'f', "-f", .flag = &follow },
		{ OPT_GAP_TIMEOUT, "--gap-timeout", .ms = &gap_timeout,
		    .min = 0.1, .max = 86400 },
		{ OPT_HOST, "--host", .text = &tc.filter.host,
		    .max = RECORD_HOST_MAX },
		{ OPT_INTERVAL, "--interval", .ms = &interval,
		    .min = 0.01, .max = 3600 },
		{ 'n', "-n", .count = &lines, .min = 0, .max = 1LL << 62,
		    .want = "a count of rows, 0 or more" },
		{ OPT_PORT_FILE, "--port-file", .arg = &wc.port_file },
		{ OPT_SOURCE, "--source", .text = &tc.filter.source,
		    .max = SCHEMA_SOURCE_MAX },
		{ OPT_STALE, "--stale", .ms = &stale, .min = 1,
		    .max = 86400 * 365, .want = "seconds, 1 or more" },
		{ OPT_WARN, "--warn", .number = &warn, .min = 0, .max = 100,
		    .want = "a percentage from 0 to 100" },
		{ OPT_WEB_ROOT, "--web-root", .arg = &wc.web_root },
		{ 0 }
	};

	cli_progname(argv);
	memset(&tc, 0, sizeof(tc));
	memset(&wc, 0, sizeof(wc));
	tc.filter.since_ms = -1;
	tc.filter.until_ms = -1;
	while ((ch = getopt_long(argc, argv, "dfhn:", longopts,
	    NULL)) != -1) {
		/* the database's options, then the checked ones */
		if ((r = db_opt(&dbo, ch, optarg)) == 0 &&
		    (r = tls_opt(&tls, ch, optarg)) == 0)
			r = cli_opt(opts, ch, optarg);
		if (r == 1)
			continue;
		if (r == -1)
			usage(SM_EXIT_USAGE);
		switch (ch) {
		case OPT_FORMAT:
			if (rowfmt_parse(optarg, &kind) == -1) {
				warnx("--format: \"%s\": want ndjson, table "
				    "or seed", optarg);
				usage(SM_EXIT_USAGE);
			}
			format = optarg;
			break;
		case OPT_LISTEN:
			if (httpd_opt_listen(optarg, &wc.addr,
			    &wc.addrlen) == -1)
				usage(SM_EXIT_USAGE);
			listen = optarg;
			break;
		case OPT_MAX_CONNECTIONS:
			if (httpd_opt_max_connections(optarg,
			    &max_conns) == -1)
				usage(SM_EXIT_USAGE);
			break;
		case OPT_MAX_PER_ADDRESS:
			if (httpd_opt_max_per_address(optarg,
			    &per_addr) == -1)
				usage(SM_EXIT_USAGE);
			break;
		case OPT_SINCE:
		case OPT_UNTIL:
			if (when_parse(optarg, timefmt_now_ms(),
			    ch == OPT_SINCE ? &tc.filter.since_ms :
			    &tc.filter.until_ms, &why_time) == -1) {
				warnx("--%s: \"%s\": %s; want RFC 3339 "
				    "(2026-11-26T15:00:00Z), a date "
				    "(2026-11-26) or a duration ago (2h, 7d)",
				    ch == OPT_SINCE ? "since" : "until",
				    optarg, why_time);
				usage(SM_EXIT_USAGE);
			}
			break;
		case OPT_TIER:
			if (history_tier_parse(optarg, &tier) == -1) {
				warnx("--tier: \"%s\": want raw, 1m or 1h",
				    optarg);
				usage(SM_EXIT_USAGE);
			}
			tier_given = true;
			break;
		case OPT_STEP:
			if (when_duration(optarg, &step_ms, &why_time) == -1) {
				warnx("--step: \"%s\": %s", optarg,
				    why_time);
				usage(SM_EXIT_USAGE);
			}
			break;
		case OPT_RULE:
			if (alert_ruleset_add(&rules, optarg, &why) == -1)
				errx(SM_EXIT_USAGE, "--rule \"%s\": %s", optarg,
				    why.msg);
			break;
		case OPT_RULES:
			if (alert_ruleset_load(&rules, optarg, &why) == -1)
				errx(SM_EXIT_USAGE, "--rules %s: %s", optarg,
				    why.msg);
			break;
		case OPT_VERSION:
			return cli_close_stdout(cli_version());
		case OPT_VIA:
			if (tail_via_parse(optarg, &tc.via) == -1) {
				warnx("--via: \"%s\": "
				    "want auto, binlog or poll", optarg);
				usage(SM_EXIT_USAGE);
			}
			via_given = true;
			break;
		case 'h':
			usage(SM_EXIT_OK);
		default:
			usage(SM_EXIT_USAGE);
		}
	}
	if (cli_no_operands(argc, argv) == -1)
		usage(SM_EXIT_USAGE);
	if (listen != NULL && (dashboard || follow || format != NULL)) {
		warnx("--listen serves rows over HTTP: not with -d, -f or "
		    "--format");
		usage(SM_EXIT_USAGE);
	}
	if (listen == NULL && (backlog >= 0 || max_conns >= 0 ||
	    per_addr >= 0 || wc.port_file != NULL || stale >= 0 ||
	    wc.web_root != NULL || rules.n > 0 || auth_file != NULL ||
	    metrics_token != NULL || tls_given(&tls))) {
		warnx("--auth-file, --backlog, --max-connections, "
		    "--max-per-address, --metrics-token-file, --port-file, "
		    "--rule, --rules, --stale, --tls-* and --web-root need "
		    "--listen");
		usage(SM_EXIT_USAGE);
	}
	/* a --web-root without the page: said now, not at each request */
	if (wc.web_root != NULL && webpage_root_check(wc.web_root, &why) == -1)
		errx(SM_EXIT_USAGE, "--web-root: %s", why.msg);
	/* a host silent that long: stale on the page, and an alert */
	if (stale > 0 && alert_ruleset_add_stale(&rules, stale, &why) == -1)
		errx(SM_EXIT_USAGE, "--stale: %s", why.msg);
	if (step_ms >= 0 && (dashboard || follow || listen != NULL ||
	    lines >= 0 || via_given || tc.filter.since_ms < 0 ||
	    (format != NULL && kind == ROWFMT_SEED))) {
		warnx("--step reads points over --since to --until: it needs "
		    "--since, and not -d, -f, -n, --listen, --via or "
		    "--format seed");
		usage(SM_EXIT_USAGE);
	}
	if (tier_given && step_ms < 0) {
		warnx("--tier is for --step");
		usage(SM_EXIT_USAGE);
	}
	if (tc.filter.until_ms >= 0 && (dashboard || follow ||
	    listen != NULL)) {
		warnx("--until ends the rows read: not with -d, -f or "
		    "--listen");
		usage(SM_EXIT_USAGE);
	}
	if (dashboard && (format != NULL || follow)) {
		warnx("-d shows rows on the screen: not with --format or -f");
		usage(SM_EXIT_USAGE);
	}
	if (!dashboard && listen == NULL && warn >= 0) {
		warnx("--warn is for the dashboards (-d, --listen)");
		usage(SM_EXIT_USAGE);
	}
	if (!dashboard && !follow && listen == NULL && via_given) {
		warnx("--via is for -f, -d and --listen");
		usage(SM_EXIT_USAGE);
	}
	if (!dashboard && !follow && listen == NULL && (interval >= 0 ||
	    gap_timeout >= 0)) {
		warnx("--interval and --gap-timeout are for -f, -d and "
		    "--listen");
		usage(SM_EXIT_USAGE);
	}
	if (dashboard && (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)))
		errx(SM_EXIT_USAGE, "-d: the dashboard needs a terminal on "
		    "stdin and stdout");
	if (format == NULL)
		kind = isatty(STDOUT_FILENO) ? ROWFMT_TABLE : ROWFMT_NDJSON;
	if (db_opts_config(&dbo, &dbc, &dbwhy) == -1)
		errx(SM_EXIT_USAGE, "%s", dbwhy.msg);
	if (dashboard)
		setlocale(LC_ALL, "");
	cli_catch_stop(-1);

	if (mysql_library_init(0, NULL, NULL) != 0)
		errx(SM_EXIT_UNAVAILABLE, "cannot initialise the MySQL "
		    "client library");
	tc.db = &dbc;
	tc.lines = lines >= 0 ? (unsigned long long)lines :
	    dashboard ? DASH_HISTORY : LINES_DEFAULT;
	tc.follow = follow || dashboard;
	tc.gap_timeout_ms = gap_timeout >= 0 ? gap_timeout :
	    FOLLOW_GAP_TIMEOUT_MS;
	if (interval < 0)
		interval = INTERVAL_MS_DEFAULT;
	if (step_ms >= 0) {
		struct history_query q = {
			.host = tc.filter.host,
			.source = tc.filter.source,
			.from_ms = tc.filter.since_ms,
			.to_ms = tc.filter.until_ms >= 0 ? tc.filter.until_ms :
			    timefmt_now_ms(),
			.step_ms = step_ms,
			.force = tier_given,
			.forced = tier,
		};

		if (history_check(&q, &why) == -1)
			errx(SM_EXIT_USAGE, "--since, --until, --step: %s",
			    why.msg);
		status = history_print(&dbc, &q, kind == ROWFMT_TABLE,
		    stdout);
	} else if (listen != NULL) {
		sigset_t stop;

		httpd_block_stop(&stop);
		if (lines < 0)
			tc.lines = backlog > 0 ? (unsigned long long)backlog :
			    FEED_BACKLOG_DEFAULT;
		wc.tail = tc;
		wc.interval_ms = interval;
		wc.backlog = backlog > 0 ? (size_t)backlog :
		    FEED_BACKLOG_DEFAULT;
		wc.max_connections = max_conns > 0 ? (unsigned)max_conns :
		    WEB_MAX_CONNECTIONS_DEFAULT;
		wc.max_per_address = per_addr > 0 ? (unsigned)per_addr : 0;
		wc.stale_ms = stale > 0 ? stale : 0;
		wc.rules = &rules;
		wc.warn = warn >= 0 ? warn : DASH_WARN_DEFAULT;
		wc.vendor_dir = WEB_DYGRAPHS_DIR;
		if (tls_load(&tls, &why) == -1)
			errx(SM_EXIT_USAGE, "--tls-cert, --tls-key, "
			    "--tls-client-ca: %s", why.msg);
		wc.tls = &tls;
		if ((auth_file != NULL || metrics_token != NULL) &&
		    (wc.auth = webauth_new(auth_file, metrics_token,
		    &why)) == NULL)
			errx(SM_EXIT_USAGE, "%s", why.msg);
		if ((status = web_run(&wc, &stop, &why)) != SM_EXIT_OK)
			warnx("--listen %s: %s", listen, why.msg);
		webauth_free(wc.auth);
		tls_free(&tls);
	} else if (dashboard) {
		struct dashview_config dc;

		memset(&dc, 0, sizeof(dc));
		dc.tail = tc;
		dc.interval_ms = interval;
		dc.warn = warn >= 0 ? warn : DASH_WARN_DEFAULT;
		dc.stop = &cli_stop;
		status = dashview_run(&dc, &poller_left);
	} else {
		status = tail_print(&tc, kind, interval, &cli_stop);
	}
	/* not under a poller still blocked in the library: exit does it */
	if (!poller_left)
		mysql_library_end();
	db_config_free(&dbc);
	return cli_close_stdout(status);
}
#endif
