/*
 * sm-keep: roll table system_metrics up into per-minute and per-hour
 * tiers and keep each within its retention; one pass, or --follow.
 */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include <mysql.h>

#include "cli.h"
#include "db.h"
#include "exitcode.h"
#include "keep.h"
#include "keeprun.h"
#include "when.h"

#define INTERVAL_DEFAULT 60	/* seconds between --follow passes */

static const struct cli_help help = {
	.about = "roll the metrics table up into per-minute and per-hour "
	    "tiers and keep each within its retention",
	.usage =
	    "usage: sm-keep [-fhv] [--alerts age] [--db url] "
	    "[--defaults-file file]\n"
	    "               [--hour age] [--hour-size size] "
	    "[--interval seconds]\n"
	    "               [--minute age] [--minute-size size] [--raw age]\n"
	    "               [--raw-size size] [--settle seconds] "
	    "[--ssl-ca file]\n"
	    "               [--ssl-mode mode] [--version]\n",
	.options =
	    "  -f, --follow           a pass every --interval, until "
	    "stopped\n"
	    "  -v, --verbose          a line per pass, also when idle\n"
	    "  --alerts age           keep alert events (sm_alerts) this "
	    "long (2y; 0: for ever)\n"
	    "  --db url               mysql://user@host:port/db (or ?socket=); "
	    "SM_DB\n"
	    "  --defaults-file file   a MySQL option file with the password\n"
	    "  --hour age             keep hour buckets this long (2y; 0: "
	    "for ever)\n"
	    "  --hour-size size       and within this size, oldest out "
	    "first (500M, 20G;\n"
	    "                         0: no limit, the default)\n"
	    "  --interval seconds     between --follow passes (60)\n"
	    "  --minute age           keep minute buckets this long (90d)\n"
	    "  --minute-size size     and within this size (0: no limit)\n"
	    "  --raw age              keep raw rows this long (7d)\n"
	    "  --raw-size size        and within this size (0: no limit)\n"
	    "  --settle seconds       roll a row up once inserted this long "
	    "ago (30)\n"
	    "  --ssl-ca file          the CAs that sign the server's "
	    "certificate\n"
	    "  --ssl-mode mode        DISABLED, PREFERRED, REQUIRED, "
	    "VERIFY_CA or\n"
	    "                         VERIFY_IDENTITY\n"
	    "  --version              the version\n",
	.environment =
	    DB_HELP_ENVIRONMENT,
};

static void __attribute__((noreturn))
usage(int status)
{
	exit(cli_usage(status, &help));
}

/* An age option ("7d", "0"): 0, or -1 after the warning. */
static int
age_opt(const char *name, const char *arg, int64_t *ms)
{
	const char *why;

	if (when_duration(arg, ms, &why) == 0)
		return 0;
	warnx("%s: \"%s\": %s", name, arg, why);
	return -1;
}

/* A size option ("500M", "0"): 0, or -1 after the warning. */
static int
size_opt(const char *name, const char *arg, unsigned long long *bytes)
{
	const char *why;
	uint64_t v;

	/* "0": no limit */
	if (cli_parse_size(arg, &v, &why) == 0) {
		*bytes = v;
		return 0;
	}
	warnx("%s: \"%s\": %s", name, arg, why);
	return -1;
}

#ifndef SM_NO_MAIN
int
main(int argc, char *argv[])
{
	enum { OPT_ALERTS = 256, OPT_HOUR, OPT_HOUR_SIZE, OPT_INTERVAL,
	    OPT_MINUTE, OPT_MINUTE_SIZE, OPT_RAW, OPT_RAW_SIZE, OPT_SETTLE,
	    OPT_VERSION };
	static const struct option longopts[] = {
		{ "alerts", required_argument, NULL, OPT_ALERTS },
		{ "db", required_argument, NULL, DB_OPT_DB },
		{ "defaults-file", required_argument, NULL,
		    DB_OPT_DEFAULTS_FILE },
		{ "follow", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ "hour", required_argument, NULL, OPT_HOUR },
		{ "hour-size", required_argument, NULL, OPT_HOUR_SIZE },
		{ "interval", required_argument, NULL, OPT_INTERVAL },
		{ "minute", required_argument, NULL, OPT_MINUTE },
		{ "minute-size", required_argument, NULL, OPT_MINUTE_SIZE },
		{ "raw", required_argument, NULL, OPT_RAW },
		{ "raw-size", required_argument, NULL, OPT_RAW_SIZE },
		{ "settle", required_argument, NULL, OPT_SETTLE },
		{ "ssl-ca", required_argument, NULL, DB_OPT_SSL_CA },
		{ "ssl-mode", required_argument, NULL, DB_OPT_SSL_MODE },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 }
	};
	struct keeprun_config kc = {
		.keep = {
			.keep_ms = { KEEP_RAW_DEFAULT, KEEP_MINUTE_DEFAULT,
			    KEEP_HOUR_DEFAULT },
			.alerts_ms = KEEP_ALERTS_DEFAULT,
			.settle_ms = KEEP_SETTLE_DEFAULT,
			.step_rows = KEEP_STEP_ROWS,
		},
		.stop = &cli_stop,
	};
	int64_t interval = INTERVAL_DEFAULT * 1000, settle = -1;
	long long step_rows = -1;
	struct db_opts dbo = { 0 };
	struct db_config dbc;
	struct why why;
	int ch, r, status;
	const struct cli_opt opts[] = {
		{ 'f', "-f", .flag = &kc.follow },
		{ 'v', "-v", .flag = &kc.verbose },
		{ OPT_INTERVAL, "--interval", .ms = &interval,
		    .min = 0.1, .max = 86400 },
		{ OPT_SETTLE, "--settle", .ms = &settle, .min = 0,
		    .max = 86400 },
		{ 0 }
	};

	cli_progname(argv);
	while ((ch = getopt_long(argc, argv, "fhv", longopts, NULL)) != -1) {
		if ((r = db_opt(&dbo, ch, optarg)) == 0)
			r = cli_opt(opts, ch, optarg);
		if (r == 1)
			continue;
		if (r == -1)
			usage(SM_EXIT_USAGE);
		switch (ch) {
		case OPT_RAW:
			if (age_opt("--raw", optarg,
			    &kc.keep.keep_ms[TIER_RAW]) == -1)
				usage(SM_EXIT_USAGE);
			break;
		case OPT_MINUTE:
			if (age_opt("--minute", optarg,
			    &kc.keep.keep_ms[TIER_1M]) == -1)
				usage(SM_EXIT_USAGE);
			break;
		case OPT_ALERTS:
			if (age_opt("--alerts", optarg,
			    &kc.keep.alerts_ms) == -1)
				usage(SM_EXIT_USAGE);
			break;
		case OPT_HOUR:
			if (age_opt("--hour", optarg,
			    &kc.keep.keep_ms[TIER_1H]) == -1)
				usage(SM_EXIT_USAGE);
			break;
		case OPT_RAW_SIZE:
			if (size_opt("--raw-size", optarg,
			    &kc.size.limit[TIER_RAW]) == -1)
				usage(SM_EXIT_USAGE);
			break;
		case OPT_MINUTE_SIZE:
			if (size_opt("--minute-size", optarg,
			    &kc.size.limit[TIER_1M]) == -1)
				usage(SM_EXIT_USAGE);
			break;
		case OPT_HOUR_SIZE:
			if (size_opt("--hour-size", optarg,
			    &kc.size.limit[TIER_1H]) == -1)
				usage(SM_EXIT_USAGE);
			break;
		case OPT_VERSION:
			return cli_close_stdout(cli_version());
		case 'h':
			usage(SM_EXIT_OK);
		default:
			usage(SM_EXIT_USAGE);
		}
	}
	if (cli_no_operands(argc, argv) == -1)
		usage(SM_EXIT_USAGE);
	if (keep_check(&kc.keep, &why) == -1)
		errx(SM_EXIT_USAGE, "%s", why.msg);
	/* tests roll up a few ids a transaction, to see several steps */
	if (getenv("SM_KEEP_STEP_ROWS") != NULL &&
	    cli_parse_count(getenv("SM_KEEP_STEP_ROWS"), 1, 1000000,
	    &step_rows) == 0)
		kc.keep.step_rows = (unsigned)step_rows;
	if (settle >= 0)
		kc.keep.settle_ms = settle;
	kc.interval_ms = interval;
	if (db_opts_config(&dbo, &dbc, &why) == -1)
		errx(SM_EXIT_USAGE, "%s", why.msg);
	cli_catch_stop(-1);
	if (mysql_library_init(0, NULL, NULL) != 0)
		errx(SM_EXIT_UNAVAILABLE, "cannot initialise the MySQL "
		    "client library");
	kc.db = &dbc;
	status = keeprun(&kc);
	mysql_library_end();
	db_config_free(&dbc);
	return cli_close_stdout(status);
}
#endif
