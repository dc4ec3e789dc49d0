/*
 * sm-post: read NDJSON records on stdin and POST them to one endpoint,
 * batched and in parallel, retrying what failed and accounting for every
 * record (lib/deliver.h does the work).
 */
#include <getopt.h>
#include <stdlib.h>

#include "cli.h"
#include "deliver.h"
#include "postmain.h"

static const struct cli_help help = {
	.about = "send NDJSON records to an HTTP endpoint, losing none",
	.usage =
	    "usage: sm-post [-h] [-H header] [--acks] [--batch n] "
	    "[--cacert file]\n"
	    "               [--cert file --key file] "
	    "[--drain-timeout seconds]\n"
	    "               [--journal dir] [--journal-full wait|drop]\n"
	    "               [--journal-max size] [--linger ms] "
	    "[--max-line bytes]\n"
	    "               [--max-time seconds] [--metrics-file file]\n"
	    "               [--metrics-interval seconds] [--ndjson]\n"
	    "               [--parallel n] [--reject file] [--retries n] "
	    "[--spool file]\n"
	    "               [--strict] [--sync batch|never|ms] "
	    "[--timeout seconds]\n"
	    "               [--token-file file] [--version] url\n",
	.options =
	    "  -H, --header header    an HTTP header for every request\n"
	    "  --acks                 acknowledgements on a terminal too\n"
	    "  --batch n              records per request (1)\n"
	    "  --cacert file          HTTPS: the CAs that sign the receiver's "
	    "certificate\n"
	    "  --cert file            HTTPS: our client certificate (mutual "
	    "TLS)\n"
	    "  --drain-timeout s      reading on after a stop signal (5)\n"
	    "  --journal dir          every record on disk before the next "
	    "read\n"
	    "  --journal-full mode    full: wait (stop reading) or drop the "
	    "oldest (wait)\n"
	    "  --journal-max size     the journal's bound on disk (256M)\n"
	    "  --key file             HTTPS: the client certificate's key\n"
	    "  --linger ms            how long a partial batch waits (0)\n"
	    "  --max-line bytes       the longest input line (1 MiB)\n"
	    "  --max-time seconds     one batch, first try to last (60)\n"
	    "  --metrics-file file    counters for Prometheus, rewritten "
	    "(textfile format)\n"
	    "  --metrics-interval s   how often --metrics-file is rewritten "
	    "(10)\n"
	    "  --ndjson               NDJSON bodies, not JSON arrays\n"
	    "  --parallel n           requests in flight (1)\n"
	    "  --reject file          records a receiver refused, with why\n"
	    "  --retries n            attempts after the first (10)\n"
	    "  --spool file           what could not be delivered, replayable\n"
	    "  --strict               stop reading at the first bad line\n"
	    "  --sync batch|never|ms  when the journal is synced (500)\n"
	    "  --timeout seconds      one request (10)\n"
	    "  --token-file file      a bearer token for the receivers\n"
	    "  --version              the version\n",
	.environment = POSTMAIN_HELP_ENVIRONMENT,
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
	static const struct option longopts[] = {
		{ "acks", no_argument, NULL, DELIVER_OPT_ACKS },
		{ "batch", required_argument, NULL, DELIVER_OPT_BATCH },
		{ "cacert", required_argument, NULL, DELIVER_OPT_CACERT },
		{ "cert", required_argument, NULL, DELIVER_OPT_CERT },
		{ "drain-timeout", required_argument, NULL,
		    DELIVER_OPT_DRAIN_TIMEOUT },
		{ "header", required_argument, NULL, DELIVER_OPT_HEADER },
		{ "help", no_argument, NULL, 'h' },
		{ "journal", required_argument, NULL, DELIVER_OPT_JOURNAL },
		{ "journal-full", required_argument, NULL,
		    DELIVER_OPT_JOURNAL_FULL },
		{ "journal-max", required_argument, NULL,
		    DELIVER_OPT_JOURNAL_MAX },
		{ "key", required_argument, NULL, DELIVER_OPT_KEY },
		{ "linger", required_argument, NULL, DELIVER_OPT_LINGER },
		{ "max-line", required_argument, NULL, DELIVER_OPT_MAX_LINE },
		{ "max-time", required_argument, NULL, DELIVER_OPT_MAX_TIME },
		{ "metrics-file", required_argument, NULL,
		    DELIVER_OPT_METRICS_FILE },
		{ "metrics-interval", required_argument, NULL,
		    DELIVER_OPT_METRICS_INTERVAL },
		{ "ndjson", no_argument, NULL, DELIVER_OPT_NDJSON },
		{ "parallel", required_argument, NULL, DELIVER_OPT_PARALLEL },
		{ "reject", required_argument, NULL, DELIVER_OPT_REJECT },
		{ "retries", required_argument, NULL, DELIVER_OPT_RETRIES },
		{ "spool", required_argument, NULL, DELIVER_OPT_SPOOL },
		{ "strict", no_argument, NULL, DELIVER_OPT_STRICT },
		{ "sync", required_argument, NULL, DELIVER_OPT_SYNC },
		{ "timeout", required_argument, NULL, DELIVER_OPT_TIMEOUT },
		{ "token-file", required_argument, NULL,
		    DELIVER_OPT_TOKEN_FILE },
		{ "version", no_argument, NULL, DELIVER_OPT_VERSION },
		{ NULL, 0, NULL, 0 }
	};
	static const struct postmain pm = {
		.longopts = longopts,
		.usage = usage,
		.min_urls = 1,
		.max_urls = 1,
		.few = "no URL",
		.many = "one URL only (sm-split spreads over several)",
	};
	struct deliver_opts o;

	cli_progname(argv);
	deliver_opts_init(&o);
	/* a summary at the end, as sm-split's */
	o.stats = true;
	return cli_close_stdout(postmain_run(&pm, &o, argc, argv));
}
#endif
