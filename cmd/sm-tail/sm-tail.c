/*
 * sm-tail: print the newest rows of table system_metrics, follow new ones
 * (none skipped, none repeated), or show them on a terminal dashboard.
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

#include "cli.h"
#include "dash.h"
#include "dashview.h"
#include "db.h"
#include "exitcode.h"
#include "record.h"
#include "rowfmt.h"
#include "schema.h"
#include "tail.h"
#include "timefmt.h"

#define LINES_DEFAULT 10
#define INTERVAL_DEFAULT 0.5	/* seconds */

static volatile sig_atomic_t stop_requested;

static void
on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* On stdout with status 0 for --help, on stderr for a usage error. */
static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status == SM_EXIT_OK ? stdout : stderr,
	    "usage: sm-tail [-fh] [-n count] [--db url] "
	    "[--defaults-file file]\n"
	    "               [--format ndjson|table|seed] "
	    "[--gap-timeout seconds] [--host name]\n"
	    "               [--interval seconds] [--since time] "
	    "[--source name]\n"
	    "               [--ssl-ca file] [--ssl-mode mode] [--version]\n"
	    "       sm-tail -d [-n count] [--db url] [--defaults-file file] "
	    "[--gap-timeout seconds]\n"
	    "               [--host name] [--interval seconds] "
	    "[--since time] [--source name]\n"
	    "               [--ssl-ca file] [--ssl-mode mode] "
	    "[--warn percent]\n");
	exit(status == SM_EXIT_OK ? cli_close_stdout(status) : status);
}

/* Host and source names are compared whole: keep them plain. */
static bool
name_ok(const char *s, size_t max)
{
	size_t len = strlen(s), i;

	if (len == 0 || len > max)
		return false;
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

/* As sm-store: a password in --db is visible in ps(1); overwrite it. */
static void
scrub_password(char *url)
{
	size_t off, len;

	if (dburl_password_span(url, &off, &len) == -1)
		return;
	warnx("--db: a password in the URL is visible to other users; use "
	    "SM_DB_PASSWORD or an option file");
	memset(url + off, 'x', len);
}

static void
install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;	/* no SA_RESTART: cut sleeps short */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	/* a closed pipe shows up as EPIPE on write, handled there */
	signal(SIGPIPE, SIG_IGN);
}

#ifndef SM_NO_MAIN
int
main(int argc, char *argv[])
{
	enum { OPT_DB = 256, OPT_DEFAULTS_FILE, OPT_FORMAT, OPT_GAP_TIMEOUT,
	    OPT_HOST, OPT_INTERVAL, OPT_SINCE, OPT_SOURCE, OPT_SSL_CA,
	    OPT_SSL_MODE, OPT_VERSION, OPT_WARN };
	static const struct option longopts[] = {
		{ "dashboard", no_argument, NULL, 'd' },
		{ "db", required_argument, NULL, OPT_DB },
		{ "defaults-file", required_argument, NULL,
		    OPT_DEFAULTS_FILE },
		{ "follow", no_argument, NULL, 'f' },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "gap-timeout", required_argument, NULL, OPT_GAP_TIMEOUT },
		{ "help", no_argument, NULL, 'h' },
		{ "host", required_argument, NULL, OPT_HOST },
		{ "interval", required_argument, NULL, OPT_INTERVAL },
		{ "lines", required_argument, NULL, 'n' },
		{ "since", required_argument, NULL, OPT_SINCE },
		{ "source", required_argument, NULL, OPT_SOURCE },
		{ "ssl-ca", required_argument, NULL, OPT_SSL_CA },
		{ "ssl-mode", required_argument, NULL, OPT_SSL_MODE },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ "warn", required_argument, NULL, OPT_WARN },
		{ NULL, 0, NULL, 0 }
	};
	const char *defaults_file = NULL, *ssl_ca = NULL, *ssl_mode = NULL;
	const char *format = NULL, *why_time;
	char *db_url = NULL, dbwhy[DB_WHY_LEN];
	double interval = -1, gap_timeout = -1, warn = -1;
	long long lines = -1;
	bool dashboard = false, follow = false;
	enum rowfmt_kind kind;
	struct tail_config tc;
	struct db_config dbc;
	int ch, status;

	memset(&tc, 0, sizeof(tc));
	tc.filter.since_ms = -1;
	while ((ch = getopt_long(argc, argv, "dfhn:", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'd':
			dashboard = true;
			break;
		case OPT_DB:
			db_url = optarg;
			break;
		case OPT_DEFAULTS_FILE:
			defaults_file = optarg;
			break;
		case 'f':
			follow = true;
			break;
		case OPT_FORMAT:
			if (rowfmt_parse(optarg, &kind) == -1) {
				warnx("--format: \"%s\": want ndjson, table "
				    "or seed", optarg);
				usage(SM_EXIT_USAGE);
			}
			format = optarg;
			break;
		case OPT_GAP_TIMEOUT:
			if (cli_parse_seconds(optarg, 0.1, 86400,
			    &gap_timeout) == -1) {
				warnx("--gap-timeout: \"%s\": want seconds "
				    "from 0.1 to 86400", optarg);
				usage(SM_EXIT_USAGE);
			}
			break;
		case OPT_HOST:
			if (!name_ok(optarg, RECORD_HOST_MAX)) {
				warnx("--host: want 1 to %d printable bytes",
				    RECORD_HOST_MAX);
				usage(SM_EXIT_USAGE);
			}
			tc.filter.host = optarg;
			break;
		case OPT_INTERVAL:
			if (cli_parse_seconds(optarg, 0.01, 3600,
			    &interval) == -1) {
				warnx("--interval: \"%s\": want seconds from "
				    "0.01 to 3600", optarg);
				usage(SM_EXIT_USAGE);
			}
			break;
		case 'n':
			if (cli_parse_count(optarg, 0, 1LL << 62,
			    &lines) == -1) {
				warnx("-n: \"%s\": want a count of rows, 0 or "
				    "more", optarg);
				usage(SM_EXIT_USAGE);
			}
			break;
		case OPT_SINCE:
			if (timefmt_parse(optarg, &tc.filter.since_ms,
			    &why_time) == -1) {
				warnx("--since: \"%s\": %s; want RFC 3339, "
				    "e.g. 2026-11-26T15:00:00Z", optarg,
				    why_time);
				usage(SM_EXIT_USAGE);
			}
			break;
		case OPT_SOURCE:
			if (!name_ok(optarg, SCHEMA_SOURCE_MAX)) {
				warnx("--source: want 1 to %d printable bytes",
				    SCHEMA_SOURCE_MAX);
				usage(SM_EXIT_USAGE);
			}
			tc.filter.source = optarg;
			break;
		case OPT_SSL_CA:
			ssl_ca = optarg;
			break;
		case OPT_SSL_MODE:
			if (db_ssl_mode_parse(optarg,
			    &(enum db_ssl_mode){ 0 }) == -1) {
				warnx("--ssl-mode: \"%s\": want DISABLED, "
				    "PREFERRED, REQUIRED, VERIFY_CA or "
				    "VERIFY_IDENTITY", optarg);
				usage(SM_EXIT_USAGE);
			}
			ssl_mode = optarg;
			break;
		case OPT_VERSION:
			cli_version();
		case OPT_WARN:
			if (cli_parse_seconds(optarg, 0, 100, &warn) == -1) {
				warnx("--warn: \"%s\": want a percentage from "
				    "0 to 100", optarg);
				usage(SM_EXIT_USAGE);
			}
			break;
		case 'h':
			usage(SM_EXIT_OK);
		default:
			usage(SM_EXIT_USAGE);
		}
	}
	if (optind != argc) {
		warnx("unexpected argument \"%s\"", argv[optind]);
		usage(SM_EXIT_USAGE);
	}
	if (dashboard && (format != NULL || follow)) {
		warnx("-d shows rows on the screen: not with --format or -f");
		usage(SM_EXIT_USAGE);
	}
	if (!dashboard && warn >= 0) {
		warnx("--warn is for the dashboard (-d)");
		usage(SM_EXIT_USAGE);
	}
	if (!dashboard && !follow && (interval >= 0 || gap_timeout >= 0)) {
		warnx("--interval and --gap-timeout are for -f and -d");
		usage(SM_EXIT_USAGE);
	}
	if (dashboard && (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)))
		errx(SM_EXIT_USAGE, "-d: the dashboard needs a terminal on "
		    "stdin and stdout");
	if (format == NULL)
		kind = isatty(STDOUT_FILENO) ? ROWFMT_TABLE : ROWFMT_NDJSON;
	if (db_config_init(&dbc, db_url, defaults_file, ssl_mode, ssl_ca,
	    dbwhy) == -1)
		errx(SM_EXIT_USAGE, "%s", dbwhy);
	if (db_url != NULL)
		scrub_password(db_url);
	if (dashboard)
		setlocale(LC_ALL, "");
	install_signals();

	if (mysql_library_init(0, NULL, NULL) != 0)
		errx(SM_EXIT_UNAVAILABLE, "cannot initialise the MySQL "
		    "client library");
	tc.db = &dbc;
	tc.lines = lines >= 0 ? (unsigned long long)lines :
	    dashboard ? DASH_HISTORY : LINES_DEFAULT;
	tc.follow = follow || dashboard;
	tc.gap_timeout_ms = gap_timeout >= 0 ? (int64_t)(gap_timeout * 1000) :
	    FOLLOW_GAP_TIMEOUT_MS;
	if (interval < 0)
		interval = INTERVAL_DEFAULT;
	if (dashboard) {
		struct dashview_config dc;

		memset(&dc, 0, sizeof(dc));
		dc.tail = tc;
		dc.interval = interval;
		dc.warn = warn >= 0 ? warn : DASH_WARN_DEFAULT;
		dc.stop = &stop_requested;
		status = dashview_run(&dc);
	} else {
		status = tail_print(&tc, kind, interval, &stop_requested);
	}
	mysql_library_end();
	db_config_free(&dbc);
	return cli_close_stdout(status);
}
#endif
