/*
 * sm-alert: read records (NDJSON) on stdin, write alert events (NDJSON) on
 * stdout when a host's threshold rule or stale rule starts firing and
 * when it resolves; optionally run a command for each event.
 */
#include <err.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alert.h"
#include "alertrun.h"
#include "alertstore.h"
#include "cli.h"
#include "exitcode.h"
#include "hook.h"
#include "ndjson.h"
#include "utf8.h"

#define EXEC_MAX_DEFAULT 4
#define EXEC_TIMEOUT_MS_DEFAULT 30000

static const struct cli_help help = {
	.about = "threshold and stopped-reporting alerts over a "
	    "stream of records",
	.usage =
	    "usage: sm-alert [-h] [--exec command] [--exec-max n] "
	    "[--exec-timeout seconds]\n"
	    "                [--max-line bytes] [--replay] [--rule rule] "
	    "[--rules file]\n"
	    "                [--stale seconds] [--store url] [--version]\n",
	.options =
	    "  --exec command         run it per event, "
	    "the event on its stdin\n"
	    "  --exec-max n           commands running at once (4)\n"
	    "  --exec-timeout seconds each command's limit (30)\n"
	    "  --max-line bytes       the longest input line (1 MiB)\n"
	    "  --replay               the records' ts is the clock\n"
	    "  --rule rule            FIELD OP NUMBER [for DURATION]; "
	    "repeatable\n"
	    "  --rules file           rules, one a line, # comments\n"
	    "  --stale seconds        a host silent this long fires\n"
	    "  --store url            the events also into table sm_alerts "
	    "there\n"
	    "  --version              the version\n",
	.environment =
	    "  SM_DB_PASSWORD         --store: the password, when the URL "
	    "has none\n"
	    "  (--exec's commands get SM_ALERT_ID, SM_ALERT_HOST, "
	    "SM_ALERT_RULE and\n"
	    "  SM_ALERT_STATE)\n",
};

static void __attribute__((noreturn))
usage(int status)
{
	exit(cli_usage(status, &help));
}

/* --store: the writer's database and thread; 0, or -1 after a warning. */
static int
alertmain_store(struct alertrun_config *ac, const char *url)
{
	static struct db_config db;
	struct why why;

	if (db_config_init(&db, url, NULL, NULL, NULL, &why) == -1) {
		warnx("--store: %s", why.msg);
		return -1;
	}
	if ((ac->store = alertstore_new(&db, "sm-alert", &cli_stop)) == NULL)
		errx(SM_EXIT_FATAL, "out of memory");
	return 0;
}

/* What waits written, the counts said: status, or 1 if some were not. */
static int
alertmain_stored(struct alertrun_config *ac, int status)
{
	struct alertstore_counts c;

	alertstore_free(ac->store, &c);
	ac->store = NULL;
	warnx("%llu events stored in " ALERTSTORE_TABLE ", %llu not",
	    c.stored, c.dropped);
	return c.dropped > 0 && status == SM_EXIT_OK ? SM_EXIT_PARTIAL :
	    status;
}

#ifndef SM_NO_MAIN
int
main(int argc, char *argv[])
{
	enum { OPT_EXEC = 256, OPT_EXEC_MAX, OPT_EXEC_TIMEOUT, OPT_MAX_LINE,
	    OPT_REPLAY, OPT_RULE, OPT_RULES, OPT_STALE, OPT_STORE,
	    OPT_VERSION };
	static const struct option longopts[] = {
		{ "exec", required_argument, NULL, OPT_EXEC },
		{ "exec-max", required_argument, NULL, OPT_EXEC_MAX },
		{ "exec-timeout", required_argument, NULL, OPT_EXEC_TIMEOUT },
		{ "help", no_argument, NULL, 'h' },
		{ "max-line", required_argument, NULL, OPT_MAX_LINE },
		{ "replay", no_argument, NULL, OPT_REPLAY },
		{ "rule", required_argument, NULL, OPT_RULE },
		{ "rules", required_argument, NULL, OPT_RULES },
		{ "stale", required_argument, NULL, OPT_STALE },
		{ "store", required_argument, NULL, OPT_STORE },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 }
	};
	static struct alert_ruleset rules;
	struct alertrun_config ac = { .fd = STDIN_FILENO, .stop = &cli_stop };
	struct hook_config hc = { .timeout_ms = -1 };
	struct hook *hook = NULL;
	const char *store_url = NULL;
	long long exec_max = -1, max_line = -1;
	int64_t stale_ms;
	struct why why;
	char shown[128];	/* an argument in a message, escaped */
	int ch, status;
	const struct cli_opt opts[] = {
		{ OPT_EXEC_MAX, "--exec-max", .count = &exec_max, .min = 1,
		    .max = HOOK_RUNNING_MAX, .unit = "commands" },
		{ OPT_EXEC_TIMEOUT, "--exec-timeout", .ms = &hc.timeout_ms,
		    .min = 0.01, .max = 86400 },
		{ OPT_MAX_LINE, "--max-line", .count = &max_line, .min = 1,
		    .max = NDJSON_MAX_LINE_MAX, .unit = "bytes" },
		{ OPT_REPLAY, "--replay", .flag = &ac.replay },
		{ OPT_STORE, "--store", .arg = &store_url },
		{ OPT_STALE, "--stale", .ms = &stale_ms, .min = 0.001,
		    .max = 30 * 86400,
		    .want = "seconds from 0.001 to 2592000 (30 days)" },
		{ 0 }
	};

	cli_progname(argv);
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		/* checked by the table; --stale goes on below to its rule */
		if (cli_opt(opts, ch, optarg) == -1)
			usage(SM_EXIT_USAGE);
		switch (ch) {
		case OPT_EXEC:
			if (optarg[0] == '\0') {
				warnx("--exec: want a command");
				usage(SM_EXIT_USAGE);
			}
			hc.cmd = optarg;
			break;
		case OPT_RULE:
			if (alert_ruleset_add(&rules, optarg, &why) == -1)
				errx(SM_EXIT_USAGE, "--rule \"%s\": %s",
				    utf8_escape(optarg, shown, sizeof(shown)),
				    why.msg);
			break;
		case OPT_RULES:
			if (alert_ruleset_load(&rules, optarg, &why) == -1)
				errx(SM_EXIT_USAGE, "--rules %s: %s",
				    utf8_escape(optarg, shown, sizeof(shown)),
				    why.msg);
			break;
		case OPT_STALE:
			/* checked above; a rule in the order given */
			if (alert_ruleset_add_stale(&rules, stale_ms,
			    &why) == -1)
				errx(SM_EXIT_USAGE, "--stale %s: %s", optarg,
				    why.msg);
			break;
		case OPT_VERSION:
			return cli_close_stdout(cli_version());
		case 'h':
			usage(SM_EXIT_OK);
		case '?':
			usage(SM_EXIT_USAGE);
		}
	}
	if (cli_no_operands(argc, argv) == -1)
		usage(SM_EXIT_USAGE);
	if (rules.n == 0) {
		warnx("no rules: give --rule, --rules or --stale");
		usage(SM_EXIT_USAGE);
	}
	if (hc.cmd == NULL && (exec_max >= 0 || hc.timeout_ms >= 0)) {
		warnx("--exec-max and --exec-timeout need --exec");
		usage(SM_EXIT_USAGE);
	}
	ac.rules = rules.rules;
	ac.nrules = rules.n;
	ac.out = stdout;
	ac.max_line = max_line > 0 ? (size_t)max_line : 0;
	if (hc.cmd != NULL) {
		hc.max_running = exec_max > 0 ? (size_t)exec_max :
		    EXEC_MAX_DEFAULT;
		if (hc.timeout_ms < 0)
			hc.timeout_ms = EXEC_TIMEOUT_MS_DEFAULT;
		hc.stop = &cli_stop;
		if ((hook = hook_new(&hc)) == NULL)
			errx(SM_EXIT_PARTIAL, "out of memory");
		ac.hook = hook;
	}
	cli_catch_stop(-1);
	if (store_url != NULL && alertmain_store(&ac, store_url) == -1)
		return SM_EXIT_USAGE;
	status = alertrun(&ac);
	hook_free(hook);
	if (ac.store != NULL)
		status = alertmain_stored(&ac, status);
	return cli_close_stdout(status);
}
#endif
