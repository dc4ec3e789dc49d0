/*
 * sm-store: store NDJSON records in MySQL table system_metrics, from stdin
 * or, with --listen, from HTTP POST /metrics.
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mysql.h>

#include "cli.h"
#include "db.h"
#include "exitcode.h"
#include "httpd.h"
#include "ingest.h"
#include "ndjson.h"
#include "schema.h"
#include "spool.h"
#include "store.h"
#include "token.h"

#define SOURCE_DEFAULT "sm-store"
#define MAX_WAIT_DEFAULT 60	/* seconds */

static void __attribute__((noreturn))
usage(int status)
{
	cli_usage(status,
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
	    "                [--no-migrate] [--port-file file] "
	    "[--source name] [--ssl-ca file]\n"
	    "                [--ssl-mode mode] [--threads n] "
	    "[--timeout seconds]\n"
	    "                [--token-file file]\n",
	    "  --batch n              rows per transaction (1000)\n"
	    "  --db url               mysql://user@host:port/db (or ?socket=); SM_DB\n"
	    "  --defaults-file file   a MySQL option file with the password\n"
	    "  --echo                 the stored records, canonical, on stdout\n"
	    "  --flush-ms ms          how long a partial batch waits (500)\n"
	    "  --listen [addr:]port   the HTTP receiver (POST /metrics)\n"
	    "  --max-body bytes       the largest request body (1 MiB)\n"
	    "  --max-connections n    connections served at once (256)\n"
	    "  --max-line bytes       the longest input line (1 MiB)\n"
	    "  --max-wait seconds     how long stdin waits for the database (60)\n"
	    "  --no-migrate           never alter an existing table\n"
	    "  --port-file file       the port listened on, written here\n"
	    "  --reject file          rejected lines, with why\n"
	    "  --source name          data_source of the rows (sm-store)\n"
	    "  --spool file           what could not be stored, replayable\n"
	    "  --ssl-ca file          the CAs that sign the server's certificate\n"
	    "  --ssl-mode mode        DISABLED, PREFERRED, REQUIRED, VERIFY_CA or\n"
	    "                         VERIFY_IDENTITY\n"
	    "  --strict               stop reading at the first bad line\n"
	    "  --threads n            HTTP threads (1)\n"
	    "  --timeout seconds      a request must arrive whole within this (30)\n"
	    "  --token-file file      the bearer token clients must send\n"
	    "  --version              the version\n");
}

/* Standard input into the store; closes the store, the spool and rejects. */
static int
run_stdin(struct ingest_config *ic, struct spool *reject, struct spool *spool)
{
	char summary[256];
	struct why why;
	struct ingest_stats st;
	int status;

	ic->fd = STDIN_FILENO;
	ic->reject = reject->f != NULL ? reject : NULL;
	ic->spool = spool->f != NULL ? spool : NULL;
	ic->stop = &cli_stop;
	cli_catch_stop(-1);
	status = ingest_run(ic, &st);
	store_close(ic->store);
	if (spool_close(spool, &why) == -1) {
		/* the spool is all that is left of them */
		warnx("%s", why.msg);
		st.lost += st.spooled;
		st.spooled = 0;
		status = SM_EXIT_UNAVAILABLE;
	}
	if (spool_close(reject, &why) == -1) {
		warnx("%s", why.msg);
		if (status == SM_EXIT_OK)
			status = SM_EXIT_PARTIAL;
	}
	ingest_summary(&st, summary, sizeof(summary));
	warnx("%s", summary);
	return status;
}

#ifndef SM_NO_MAIN
int
main(int argc, char *argv[])
{
	enum { OPT_BATCH = 256, OPT_ECHO, OPT_FLUSH_MS, OPT_LISTEN,
	    OPT_MAX_BODY, OPT_MAX_CONNECTIONS, OPT_MAX_LINE, OPT_MAX_WAIT,
	    OPT_NO_MIGRATE, OPT_PORT_FILE, OPT_REJECT, OPT_SOURCE, OPT_SPOOL, OPT_STRICT,
	    OPT_THREADS, OPT_TIMEOUT, OPT_TOKEN_FILE, OPT_VERSION };
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
		{ "max-wait", required_argument, NULL, OPT_MAX_WAIT },
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
		{ "token-file", required_argument, NULL, OPT_TOKEN_FILE },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 }
	};
	const char *listen = NULL, *port_file = NULL, *reject_path = NULL;
	const char *source = SOURCE_DEFAULT, *spool = NULL, *token_file = NULL;
	char *token = NULL;
	struct why dbwhy, why;
	long long batch = STORE_BATCH_DEFAULT, flush_ms = -1;
	long long max_body = -1, max_conns = -1, max_line = -1, threads = -1;
	double max_wait = -1, timeout = -1;
	bool echo = false, migrate = true, strict = false;
	struct httpd_config hc;
	struct store_config sc;
	struct db_opts dbo = { 0 };
	struct db_config dbc;
	struct spool reject = { 0 }, spool_file = { 0 };
	struct store *store;
	int ch, status;

	memset(&hc, 0, sizeof(hc));
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (db_opt(&dbo, ch, optarg, &dbwhy)) {
		case 1:
			continue;
		case -1:
			warnx("%s", dbwhy.msg);
			usage(SM_EXIT_USAGE);
		}
		switch (ch) {
		case OPT_BATCH:
			if (cli_parse_count(optarg, 1, STORE_BATCH_MAX,
			    &batch) == -1) {
				warnx("--batch: \"%s\": want 1 to %d rows",
				    optarg, STORE_BATCH_MAX);
				usage(SM_EXIT_USAGE);
			}
			break;
		case OPT_ECHO:
			echo = true;
			break;
		case OPT_FLUSH_MS:
			if (cli_parse_count(optarg, 0, 3600000,
			    &flush_ms) == -1) {
				warnx("--flush-ms: \"%s\": want 0 to 3600000 "
				    "milliseconds", optarg);
				usage(SM_EXIT_USAGE);
			}
			break;
		case OPT_LISTEN:
			if (httpd_opt_listen(optarg, &hc.addr,
			    &hc.addrlen) == -1)
				usage(SM_EXIT_USAGE);
			listen = optarg;
			break;
		case OPT_MAX_BODY:
			if (cli_parse_count(optarg, 1, HTTPD_MAX_BODY_MAX,
			    &max_body) == -1) {
				warnx("--max-body: \"%s\": want 1 to %d bytes",
				    optarg, HTTPD_MAX_BODY_MAX);
				usage(SM_EXIT_USAGE);
			}
			break;
		case OPT_MAX_CONNECTIONS:
			if (httpd_opt_max_connections(optarg,
			    &max_conns) == -1)
				usage(SM_EXIT_USAGE);
			break;
		case OPT_MAX_LINE:
			if (cli_parse_count(optarg, 1, NDJSON_MAX_LINE_MAX,
			    &max_line) == -1) {
				warnx("--max-line: \"%s\": want 1 to %d bytes",
				    optarg, NDJSON_MAX_LINE_MAX);
				usage(SM_EXIT_USAGE);
			}
			break;
		case OPT_MAX_WAIT:
			if (cli_parse_seconds(optarg, 0, 1e7,
			    &max_wait) == -1) {
				warnx("--max-wait: \"%s\": want seconds, 0 or "
				    "more", optarg);
				usage(SM_EXIT_USAGE);
			}
			break;
		case OPT_NO_MIGRATE:
			migrate = false;
			break;
		case OPT_PORT_FILE:
			port_file = optarg;
			break;
		case OPT_REJECT:
			reject_path = optarg;
			break;
		case OPT_SOURCE:
			if (!cli_name_ok(optarg, SCHEMA_SOURCE_MAX)) {
				warnx("--source: want 1 to %d printable bytes",
				    SCHEMA_SOURCE_MAX);
				usage(SM_EXIT_USAGE);
			}
			source = optarg;
			break;
		case OPT_SPOOL:
			spool = optarg;
			break;
		case OPT_STRICT:
			strict = true;
			break;
		case OPT_THREADS:
			if (cli_parse_count(optarg, 1, 64, &threads) == -1) {
				warnx("--threads: \"%s\": want 1 to 64",
				    optarg);
				usage(SM_EXIT_USAGE);
			}
			break;
		case OPT_TIMEOUT:
			if (cli_parse_seconds(optarg, 1, 86400,
			    &timeout) == -1) {
				warnx("--timeout: \"%s\": want 1 to 86400 "
				    "seconds", optarg);
				usage(SM_EXIT_USAGE);
			}
			break;
		case OPT_TOKEN_FILE:
			token_file = optarg;
			break;
		case OPT_VERSION:
			cli_version();
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
	if (listen != NULL && (echo || flush_ms >= 0 || max_line >= 0 ||
	    max_wait >= 0 || reject_path != NULL || spool != NULL ||
	    strict)) {
		warnx("--echo, --flush-ms, --max-line, --max-wait, --reject, "
		    "--spool and --strict are for stdin, not --listen");
		usage(SM_EXIT_USAGE);
	}
	if (listen == NULL && (max_body >= 0 || max_conns >= 0 ||
	    port_file != NULL || threads >= 0 || timeout >= 0 ||
	    token_file != NULL)) {
		warnx("--max-body, --max-connections, --port-file, --threads, "
		    "--timeout and --token-file need --listen");
		usage(SM_EXIT_USAGE);
	}
	if (db_opts_config(&dbo, &dbc, &dbwhy) == -1)
		errx(SM_EXIT_USAGE, "%s", dbwhy.msg);
	if (token_file != NULL && token_read(token_file, &token, &why) == -1)
		errx(SM_EXIT_USAGE, "--token-file: %s", why.msg);
	if (reject_path != NULL && spool_open(&reject, reject_path, &why) == -1)
		errx(SM_EXIT_USAGE, "--reject: %s", why.msg);
	if (spool != NULL && spool_open(&spool_file, spool, &why) == -1)
		errx(SM_EXIT_USAGE, "--spool: %s", why.msg);
	signal(SIGPIPE, SIG_IGN);

	if (mysql_library_init(0, NULL, NULL) != 0)
		errx(SM_EXIT_UNAVAILABLE, "cannot initialise the MySQL "
		    "client library");
	memset(&sc, 0, sizeof(sc));
	sc.db = &dbc;
	sc.source = source;
	sc.batch = (size_t)batch;
	sc.max_wait = max_wait >= 0 ? max_wait : MAX_WAIT_DEFAULT;
	sc.fail_fast = listen != NULL;
	sc.migrate = migrate;
	if (listen != NULL) {
		sigset_t stop;

		httpd_block_stop(&stop);
		if ((store = store_open(&sc, &why)) == NULL)
			errx(SM_EXIT_USAGE, "database: %s", why.msg);
		hc.port_file = port_file;
		hc.token = token;
		hc.max_body = max_body > 0 ? (size_t)max_body :
		    HTTPD_MAX_BODY_DEFAULT;
		hc.timeout = timeout > 0 ? (unsigned)timeout :
		    HTTPD_TIMEOUT_DEFAULT;
		hc.max_connections = max_conns > 0 ? (unsigned)max_conns :
		    HTTPD_MAX_CONNECTIONS_DEFAULT;
		hc.threads = threads > 0 ? (unsigned)threads : 1;
		hc.source = source;
		hc.store = store;
		status = SM_EXIT_OK;
		if (httpd_run(&hc, &stop, &why) == -1) {
			warnx("--listen %s: %s", listen, why.msg);
			status = SM_EXIT_USAGE;
		}
		store_close(store);
	} else {
		struct ingest_config ic = {
			.batch = (size_t)batch,
			.flush_ms = flush_ms >= 0 ? (long)flush_ms :
			    INGEST_FLUSH_MS_DEFAULT,
			.max_line = max_line > 0 ? (size_t)max_line : 0,
			.echo = echo,
			.strict = strict,
		};

		if ((store = store_open(&sc, &why)) == NULL)
			errx(SM_EXIT_USAGE, "database: %s", why.msg);
		ic.store = store;
		status = run_stdin(&ic, &reject, &spool_file);
	}
	mysql_library_end();
	if (token != NULL) {
		explicit_bzero(token, strlen(token));
		free(token);
	}
	db_config_free(&dbc);
	return cli_close_stdout(status);
}
#endif
