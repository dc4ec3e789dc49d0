/*
 * sm-tail: print the newest rows of table system_metrics, follow new ones
 * (none skipped, none repeated), show them on a terminal dashboard, or
 * serve them over HTTP to browsers and scrapers (--listen).
 */
#include <getopt.h>
#include <stdlib.h>

#include "cli.h"
#include "dbconf.h"
#include "exitcode.h"
#include "tailmain.h"
#include "tls.h"

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
	    "               [--connection-memory size] [--db url]\n"
	    "               [--defaults-file file] [--forget seconds]\n"
	    "               [--gap-timeout seconds] [--host name] "
	    "[--interval seconds]\n"
	    "               [--keep-alerts] [--max-connections n] "
	    "[--max-hosts n]\n"
	    "               [--max-per-address n] [--metrics-token-file file]\n"
	    "               [--port-file file] [--request-timeout seconds]\n"
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
	    "  --connection-memory size\n"
	    "                         --listen: each connection's memory, "
	    "the request's\n"
	    "                         headers in it (6K: headers to 2.5K)\n"
	    "  --db url               mysql://user@host:port/db (or ?socket=); "
	    "SM_DB\n"
	    "  --defaults-file file   a MySQL option file with the password\n"
	    "  --forget seconds       --listen: a host and source silent "
	    "this long goes\n"
	    "                         (3600)\n"
	    "  --format name          ndjson, table or seed\n"
	    "  --gap-timeout seconds  how long a missing id is waited for "
	    "(60)\n"
	    "  --host name            only this host's rows\n"
	    "  --interval seconds     between polls (0.5)\n"
	    "  --keep-alerts          --listen: store alert events in "
	    "table sm_alerts\n"
	    "  --listen addr          the browser dashboard, SSE, JSON, "
	    "/metrics\n"
	    "  --max-connections n    --listen: connections at once (1024)\n"
	    "  --max-hosts n          --listen: host and source pairs kept, "
	    "the newest\n"
	    "                         (4096)\n"
	    "  --max-per-address n    --listen: connections from one address "
	    "(no cap)\n"
	    "  --metrics-token-file file\n"
	    "                         --listen: a bearer token for /metrics\n"
	    "  --port-file file       --listen: the port, written here\n"
	    "  --request-timeout seconds\n"
	    "                         --listen: a request arrives whole "
	    "within (30)\n"
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
static const struct option longopts[] = {
	{ "auth-file", required_argument, NULL, TAILMAIN_OPT_AUTH_FILE },
	{ "backlog", required_argument, NULL, TAILMAIN_OPT_BACKLOG },
	{ "connection-memory", required_argument, NULL,
	    TAILMAIN_OPT_CONNECTION_MEMORY },
	{ "dashboard", no_argument, NULL, 'd' },
	{ "db", required_argument, NULL, DB_OPT_DB },
	{ "defaults-file", required_argument, NULL, DB_OPT_DEFAULTS_FILE },
	{ "follow", no_argument, NULL, 'f' },
	{ "forget", required_argument, NULL, TAILMAIN_OPT_FORGET },
	{ "format", required_argument, NULL, TAILMAIN_OPT_FORMAT },
	{ "gap-timeout", required_argument, NULL, TAILMAIN_OPT_GAP_TIMEOUT },
	{ "help", no_argument, NULL, 'h' },
	{ "host", required_argument, NULL, TAILMAIN_OPT_HOST },
	{ "interval", required_argument, NULL, TAILMAIN_OPT_INTERVAL },
	{ "keep-alerts", no_argument, NULL, TAILMAIN_OPT_KEEP_ALERTS },
	{ "lines", required_argument, NULL, 'n' },
	{ "listen", required_argument, NULL, TAILMAIN_OPT_LISTEN },
	{ "max-connections", required_argument, NULL,
	    TAILMAIN_OPT_MAX_CONNECTIONS },
	{ "max-hosts", required_argument, NULL, TAILMAIN_OPT_MAX_HOSTS },
	{ "max-per-address", required_argument, NULL,
	    TAILMAIN_OPT_MAX_PER_ADDRESS },
	{ "metrics-token-file", required_argument, NULL,
	    TAILMAIN_OPT_METRICS_TOKEN },
	{ "port-file", required_argument, NULL, TAILMAIN_OPT_PORT_FILE },
	{ "request-timeout", required_argument, NULL,
	    TAILMAIN_OPT_REQUEST_TIMEOUT },
	{ "rule", required_argument, NULL, TAILMAIN_OPT_RULE },
	{ "rules", required_argument, NULL, TAILMAIN_OPT_RULES },
	{ "since", required_argument, NULL, TAILMAIN_OPT_SINCE },
	{ "source", required_argument, NULL, TAILMAIN_OPT_SOURCE },
	{ "ssl-ca", required_argument, NULL, DB_OPT_SSL_CA },
	{ "ssl-mode", required_argument, NULL, DB_OPT_SSL_MODE },
	{ "stale", required_argument, NULL, TAILMAIN_OPT_STALE },
	{ "step", required_argument, NULL, TAILMAIN_OPT_STEP },
	{ "tier", required_argument, NULL, TAILMAIN_OPT_TIER },
	TLS_LONGOPTS,
	{ "until", required_argument, NULL, TAILMAIN_OPT_UNTIL },
	{ "version", no_argument, NULL, TAILMAIN_OPT_VERSION },
	{ "via", required_argument, NULL, TAILMAIN_OPT_VIA },
	{ "warn", required_argument, NULL, TAILMAIN_OPT_WARN },
	{ "web-root", required_argument, NULL, TAILMAIN_OPT_WEB_ROOT },
	{ NULL, 0, NULL, 0 }
};

int
main(int argc, char *argv[])
{
	/* static: the alert rules it holds are large */
	static struct tailmain_opts o;
	int ch, r;

	cli_progname(argv);
	tailmain_opts_init(&o);
	while ((ch = getopt_long(argc, argv, "dfhn:", longopts,
	    NULL)) != -1) {
		if ((r = tailmain_opt(&o, ch, optarg)) == 1)
			continue;
		if (r == -2)
			return SM_EXIT_USAGE;
		if (r == -1)
			usage(SM_EXIT_USAGE);
		switch (ch) {
		case TAILMAIN_OPT_VERSION:
			return cli_close_stdout(cli_version());
		case 'h':
			usage(SM_EXIT_OK);
		default:
			usage(SM_EXIT_USAGE);
		}
	}
	if (cli_no_operands(argc, argv) == -1 || tailmain_check(&o) == -1)
		usage(SM_EXIT_USAGE);
	return cli_close_stdout(tailmain_run(&o));
}
#endif
