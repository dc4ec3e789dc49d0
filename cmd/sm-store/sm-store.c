/*
 * sm-store: store NDJSON records in MySQL table system_metrics, from stdin
 * or, with --listen, from HTTP POST /metrics.
 */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "db.h"
#include "exitcode.h"
#include "httpd.h"
#include "httpd_listen.h"
#include "ndjson.h"
#include "schema.h"
#include "store.h"
#include "storemain.h"
#include "tls.h"

static const struct cli_help help = {
	.about = "store NDJSON records in MySQL, from standard input or HTTP",
	.usage =
	    "usage: sm-store [-h] [--batch n] [--db url] "
	    "[--defaults-file file] [--echo]\n"
	    "                [--flush-ms ms] [--max-line bytes] "
	    "[--max-wait seconds]\n"
	    "                [--no-migrate] [--reject file] [--source name] "
	    "[--spool file]\n"
	    "                [--ssl-ca file] [--ssl-mode mode] [--strict] "
	    "[--version]\n"
	    "       sm-store --listen [addr:]port [--batch n] [--db url]\n"
	    "                [--defaults-file file] [--max-body bytes] "
	    "[--max-connections n]\n"
	    "                [--max-per-address n] "
	    "[--metrics-token-file file]\n"
	    "                [--no-migrate] [--port-file file] "
	    "[--source name] [--ssl-ca file]\n"
	    "                [--ssl-mode mode] [--threads n] "
	    "[--timeout seconds]\n"
	    "                [--tls-cert file --tls-key file] "
	    "[--tls-client-ca file]\n"
	    "                [--token-file file]\n",
	.options =
	    "  --batch n              rows per transaction (4095; 1023 with "
	    "--listen)\n"
	    "  --db url               mysql://user@host:port/db (or ?socket=); "
	    "SM_DB\n"
	    "  --defaults-file file   a MySQL option file with the password\n"
	    "  --echo                 the stored records, canonical, "
	    "on stdout\n"
	    "  --flush-ms ms          how long a partial batch waits (500)\n"
	    "  --listen [addr:]port   the HTTP receiver (POST /metrics; "
	    "GET /metrics: counters)\n"
	    "  --max-body bytes       the largest request body (1 MiB)\n"
	    "  --max-connections n    connections served at once (256)\n"
	    "  --max-line bytes       the longest input line (1 MiB)\n"
	    "  --max-per-address n    connections from one address (no "
	    "cap)\n"
	    "  --max-wait seconds     how long stdin waits for the database "
	    "(60)\n"
	    "  --metrics-token-file file\n"
	    "                         the bearer token GET /metrics wants "
	    "(else --token-file's)\n"
	    "  --no-migrate           never alter an existing table\n"
	    "  --port-file file       the port listened on, written here\n"
	    "  --reject file          rejected lines, with why\n"
	    "  --source name          data_source of the rows (sm-store)\n"
	    "  --spool file           what could not be stored, replayable\n"
	    "  --ssl-ca file          the CAs that sign the server's "
	    "certificate\n"
	    "  --ssl-mode mode        DISABLED, PREFERRED, REQUIRED, "
	    "VERIFY_CA or\n"
	    "                         VERIFY_IDENTITY\n"
	    "  --strict               stop reading at the first bad line\n"
	    "  --threads n            HTTP threads (1)\n"
	    "  --timeout seconds      a request must arrive whole within this "
	    "(30)\n"
	    "  --tls-cert file        HTTPS: the server's certificate chain "
	    "(PEM)\n"
	    "  --tls-client-ca file   HTTPS: clients need a certificate these "
	    "CAs sign\n"
	    "  --tls-key file         HTTPS: the certificate's private key "
	    "(PEM)\n"
	    "  --token-file file      the bearer token clients must send\n"
	    "  --version              the version\n",
	.environment =
	    DB_HELP_ENVIRONMENT
	    "  SM_STORE_BULK          0: multi-row INSERTs, not array "
	    "binding\n",
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
	enum { OPT_BATCH = 256, OPT_ECHO, OPT_FLUSH_MS, OPT_LISTEN,
	    OPT_MAX_BODY, OPT_MAX_CONNECTIONS, OPT_MAX_LINE,
	    OPT_MAX_PER_ADDRESS, OPT_MAX_WAIT, OPT_METRICS_TOKEN_FILE,
	    OPT_NO_MIGRATE, OPT_PORT_FILE, OPT_REJECT, OPT_SOURCE, OPT_SPOOL,
	    OPT_STRICT, OPT_THREADS, OPT_TIMEOUT, OPT_TOKEN_FILE, OPT_VERSION };
	static const struct option longopts[] = {
		{ "batch", required_argument, NULL, OPT_BATCH },
		{ "db", required_argument, NULL, DB_OPT_DB },
		{ "defaults-file", required_argument, NULL,
		    DB_OPT_DEFAULTS_FILE },
		{ "echo", no_argument, NULL, OPT_ECHO },
		{ "flush-ms", required_argument, NULL, OPT_FLUSH_MS },
		{ "help", no_argument, NULL, 'h' },
		{ "listen", required_argument, NULL, OPT_LISTEN },
		{ "max-body", required_argument, NULL, OPT_MAX_BODY },
		{ "max-connections", required_argument, NULL,
		    OPT_MAX_CONNECTIONS },
		{ "max-line", required_argument, NULL, OPT_MAX_LINE },
		{ "max-per-address", required_argument, NULL,
		    OPT_MAX_PER_ADDRESS },
		{ "max-wait", required_argument, NULL, OPT_MAX_WAIT },
		{ "metrics-token-file", required_argument, NULL,
		    OPT_METRICS_TOKEN_FILE },
		{ "no-migrate", no_argument, NULL, OPT_NO_MIGRATE },
		{ "port-file", required_argument, NULL, OPT_PORT_FILE },
		{ "reject", required_argument, NULL, OPT_REJECT },
		{ "source", required_argument, NULL, OPT_SOURCE },
		{ "spool", required_argument, NULL, OPT_SPOOL },
		{ "ssl-ca", required_argument, NULL, DB_OPT_SSL_CA },
		{ "ssl-mode", required_argument, NULL, DB_OPT_SSL_MODE },
		{ "strict", no_argument, NULL, OPT_STRICT },
		{ "threads", required_argument, NULL, OPT_THREADS },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		TLS_LONGOPTS,
		{ "token-file", required_argument, NULL, OPT_TOKEN_FILE },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 }
	};
	struct storemain_opts o;
	int ch, r, status;
	const struct cli_opt opts[] = {
		{ OPT_BATCH, "--batch", .count = &o.batch, .min = 1,
		    .max = STORE_BATCH_MAX, .unit = "rows" },
		{ OPT_ECHO, "--echo", .flag = &o.echo },
		{ OPT_FLUSH_MS, "--flush-ms", .count = &o.flush_ms, .min = 0,
		    .max = 3600000, .unit = "milliseconds" },
		{ OPT_MAX_BODY, "--max-body", .count = &o.max_body, .min = 1,
		    .max = HTTPD_MAX_BODY_MAX, .unit = "bytes" },
		{ OPT_MAX_LINE, "--max-line", .count = &o.max_line, .min = 1,
		    .max = NDJSON_MAX_LINE_MAX, .unit = "bytes" },
		{ OPT_MAX_WAIT, "--max-wait", .ms = &o.max_wait_ms,
		    .min = 0, .max = 1e7, .want = "seconds, 0 or more" },
		{ OPT_METRICS_TOKEN_FILE, "--metrics-token-file",
		    .arg = &o.metrics_token_file },
		{ OPT_NO_MIGRATE, "--no-migrate", .flag = &o.no_migrate },
		{ OPT_PORT_FILE, "--port-file", .arg = &o.port_file },
		{ OPT_REJECT, "--reject", .arg = &o.reject },
		{ OPT_SOURCE, "--source", .text = &o.source,
		    .max = SCHEMA_SOURCE_MAX },
		{ OPT_SPOOL, "--spool", .arg = &o.spool },
		{ OPT_STRICT, "--strict", .flag = &o.strict },
		{ OPT_THREADS, "--threads", .count = &o.threads, .min = 1,
		    .max = 64 },
		{ OPT_TIMEOUT, "--timeout", .ms = &o.timeout_ms, .min = 1,
		    .max = 86400, .unit = "seconds" },
		{ OPT_TOKEN_FILE, "--token-file", .arg = &o.token_file },
		{ 0 }
	};

	cli_progname(argv);
	storemain_opts_init(&o);
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		/* the database's options, then the checked ones */
		if ((r = db_opt(&o.db, ch, optarg)) == 0 &&
		    (r = tls_opt(&o.tls, ch, optarg)) == 0)
			r = cli_opt(opts, ch, optarg);
		if (r == 1)
			continue;
		if (r == -1)
			usage(SM_EXIT_USAGE);
		switch (ch) {
		case OPT_LISTEN:
			if (httpd_opt_listen(optarg, &o.addr,
			    &o.addrlen) == -1)
				usage(SM_EXIT_USAGE);
			o.listen = optarg;
			break;
		case OPT_MAX_CONNECTIONS:
			if (httpd_opt_max_connections(optarg,
			    &o.max_conns) == -1)
				usage(SM_EXIT_USAGE);
			break;
		case OPT_MAX_PER_ADDRESS:
			if (httpd_opt_max_per_address(optarg,
			    &o.max_per_addr) == -1)
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
	if (o.listen != NULL && (o.echo || o.flush_ms >= 0 ||
	    o.max_line >= 0 || o.max_wait_ms >= 0 || o.reject != NULL ||
	    o.spool != NULL || o.strict)) {
		warnx("--echo, --flush-ms, --max-line, --max-wait, --reject, "
		    "--spool and --strict are for stdin, not --listen");
		usage(SM_EXIT_USAGE);
	}
	if (o.listen == NULL && (o.max_body >= 0 || o.max_conns >= 0 ||
	    o.max_per_addr >= 0 || o.port_file != NULL || o.threads >= 0 ||
	    o.timeout_ms >= 0 || o.token_file != NULL ||
	    o.metrics_token_file != NULL || tls_given(&o.tls))) {
		warnx("--max-body, --max-connections, --max-per-address, "
		    "--metrics-token-file, "
		    "--port-file, --threads, --timeout, --tls-* and "
		    "--token-file need --listen");
		usage(SM_EXIT_USAGE);
	}
	status = o.listen != NULL ? storemain_listen(&o) : storemain_stdin(&o);
	return cli_close_stdout(status);
}
#endif
