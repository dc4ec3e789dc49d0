/*
 * sm-store after its options: the stdin run or the HTTP receiver, with the
 * store, spool and reject files opened and closed (storemain.h).
 */
#include <err.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mysql.h>

#include "cli.h"
#include "exitcode.h"
#include "httpd.h"
#include "httpd_listen.h"
#include "ingest.h"
#include "spool.h"
#include "store.h"
#include "storemain.h"
#include "token.h"

void
storemain_opts_init(struct storemain_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->source = STOREMAIN_SOURCE_DEFAULT;
	o->batch = -1;			/* each mode's own default */
	o->flush_ms = o->max_body = o->max_conns = o->max_line =
	    o->max_per_addr = -1;
	o->threads = -1;
	o->max_wait_ms = o->timeout_ms = -1;
}

/* The database configuration from the options; -1 after a warning. */
static int
storemain_db(struct storemain_opts *o, struct db_config *dbc)
{
	struct why why;

	if (db_opts_config(&o->db, dbc, &why) == -1) {
		warnx("%s", why.msg);
		return -1;
	}
	return 0;
}

/* The committer's configuration: stdin waits out an outage, HTTP not. */
static void
storemain_store_config(const struct storemain_opts *o,
    const struct db_config *dbc, struct store_config *sc)
{
	memset(sc, 0, sizeof(*sc));
	sc->db = dbc;
	sc->source = o->source;
	sc->batch = o->batch > 0 ? (size_t)o->batch : o->listen != NULL ?
	    STORE_BATCH_DEFAULT : STORE_BATCH_STDIN;
	sc->max_wait_ms = o->max_wait_ms >= 0 ? o->max_wait_ms :
	    STOREMAIN_MAX_WAIT_MS_DEFAULT;
	sc->fail_fast = o->listen != NULL;
	sc->migrate = !o->no_migrate;
}

/* Close the spool and the reject file after a run; the status to use. */
static int
storemain_close_files(struct spool *spool, struct spool *reject,
    struct ingest_stats *st, int status)
{
	struct why why;

	if (spool_close(spool, &why) == -1) {
		/* the spool is all that is left of them */
		warnx("%s", why.msg);
		st->lost += st->spooled;
		st->spooled = 0;
		status = SM_EXIT_UNAVAILABLE;
	}
	if (spool_close(reject, &why) == -1) {
		warnx("%s", why.msg);
		if (status == SM_EXIT_OK)
			status = SM_EXIT_PARTIAL;
	}
	return status;
}

int
storemain_stdin(struct storemain_opts *o)
{
	struct spool reject = { 0 }, spool = { 0 };
	struct ingest_config ic = {
		.fd = STDIN_FILENO,
		.batch = o->batch > 0 ? (size_t)o->batch : STORE_BATCH_STDIN,
		.flush_ms = o->flush_ms >= 0 ? (long)o->flush_ms :
		    INGEST_FLUSH_MS_DEFAULT,
		.max_line = o->max_line > 0 ? (size_t)o->max_line : 0,
		.echo = o->echo,
		.strict = o->strict,
		.stop = &cli_stop,
	};
	struct why why;
	char summary[256];
	struct ingest_stats st;
	struct store_config sc;
	struct db_config dbc;
	int status = SM_EXIT_USAGE;

	if (storemain_db(o, &dbc) == -1)
		return SM_EXIT_USAGE;
	if (o->reject != NULL && spool_open(&reject, o->reject, &why) == -1) {
		warnx("--reject: %s", why.msg);
		goto free_db;
	}
	if (o->spool != NULL && spool_open(&spool, o->spool, &why) == -1) {
		warnx("--spool: %s", why.msg);
		goto close_files;
	}
	if (mysql_library_init(0, NULL, NULL) != 0) {
		warnx("cannot initialise the MySQL client library");
		status = SM_EXIT_UNAVAILABLE;
		goto close_files;
	}
	storemain_store_config(o, &dbc, &sc);
	if ((ic.store = store_open(&sc, &why)) == NULL) {
		warnx("database %s", why.msg);
		goto end_library;
	}
	ic.reject = reject.f != NULL ? &reject : NULL;
	ic.spool = spool.f != NULL ? &spool : NULL;
	cli_catch_stop(-1);
	status = ingest_run(&ic, &st);
	store_close(ic.store);
	status = storemain_close_files(&spool, &reject, &st, status);
	ingest_summary(&st, summary, sizeof(summary));
	warnx("%s", summary);
end_library:
	mysql_library_end();
close_files:
	/* nothing was read: nothing in them to lose or report */
	(void)spool_close(&spool, &why);
	(void)spool_close(&reject, &why);
free_db:
	db_config_free(&dbc);
	return status;
}

int
storemain_listen(struct storemain_opts *o)
{
	struct httpd_config hc = {
		.addr = o->addr,
		.addrlen = o->addrlen,
		.port_file = o->port_file,
		.max_body = o->max_body > 0 ? (size_t)o->max_body :
		    HTTPD_MAX_BODY_DEFAULT,
		/* MHD counts whole seconds: "to within a second" */
		.timeout = o->timeout_ms > 0 ?
		    (unsigned)(o->timeout_ms / 1000) : HTTPD_TIMEOUT_DEFAULT,
		.max_connections = o->max_conns > 0 ? (unsigned)o->max_conns :
		    HTTPD_MAX_CONNECTIONS_DEFAULT,
		.max_per_address = o->max_per_addr > 0 ?
		    (unsigned)o->max_per_addr : 0,
		.threads = o->threads > 0 ? (unsigned)o->threads : 1,
		.source = o->source,
	};
	struct why why;
	char *token = NULL, *mtoken = NULL;
	struct store_config sc;
	struct db_config dbc;
	sigset_t stop;
	int status = SM_EXIT_USAGE;

	if (storemain_db(o, &dbc) == -1)
		return SM_EXIT_USAGE;
	if (o->token_file != NULL &&
	    token_read(o->token_file, &token, &why) == -1) {
		warnx("--token-file: %s", why.msg);
		goto free_db;
	}
	hc.token = token;
	if (o->metrics_token_file != NULL && token_read(
	    o->metrics_token_file, &mtoken, &why) == -1) {
		warnx("--metrics-token-file: %s", why.msg);
		goto free_token;
	}
	hc.metrics_token = mtoken;
	if (tls_load(&o->tls, &why) == -1) {
		warnx("--tls-cert, --tls-key, --tls-client-ca: %s", why.msg);
		goto free_token;
	}
	hc.tls = &o->tls;
	signal(SIGPIPE, SIG_IGN);
	if (mysql_library_init(0, NULL, NULL) != 0) {
		warnx("cannot initialise the MySQL client library");
		status = SM_EXIT_UNAVAILABLE;
		goto free_token;
	}
	httpd_block_stop(&stop);
	storemain_store_config(o, &dbc, &sc);
	if ((hc.store = store_open(&sc, &why)) == NULL) {
		warnx("database %s", why.msg);
		goto end_library;
	}
	status = SM_EXIT_OK;
	if (httpd_run(&hc, &stop, &why) == -1) {
		warnx("--listen %s: %s", o->listen, why.msg);
		status = SM_EXIT_USAGE;
	}
	store_close(hc.store);
end_library:
	mysql_library_end();
free_token:
	tls_free(&o->tls);
	if (token != NULL) {
		explicit_bzero(token, strlen(token));
		free(token);
	}
	if (mtoken != NULL) {
		explicit_bzero(mtoken, strlen(mtoken));
		free(mtoken);
	}
free_db:
	db_config_free(&dbc);
	return status;
}
