/*
 * sm-store's two ways to run once its options are parsed (sm-store(1)):
 * standard input into the store, or the HTTP receiver (--listen).  The
 * command parses and checks the options into struct storemain_opts; these
 * do the rest and return the exit status (lib/exitcode.h).
 */
#ifndef SM_STOREMAIN_H
#define SM_STOREMAIN_H

#include <stdbool.h>
#include <sys/socket.h>

#include "dbconf.h"
#include "tls.h"

#define STOREMAIN_SOURCE_DEFAULT "sm-store"
#define STOREMAIN_MAX_WAIT_MS_DEFAULT 60000

/* The options; -1 (a number) or NULL: not given, the default. */
struct storemain_opts {
	const char *listen;		/* --listen as given; NULL: stdin */
	struct sockaddr_storage addr;	/* its address (httpd_opt_listen) */
	socklen_t addrlen;
	const char *port_file, *reject, *source, *spool, *token_file;
	const char *metrics_token_file;	/* GET /metrics' own token */
	long long batch, flush_ms, max_body, max_conns, max_line,
	    max_per_addr, threads;
	int64_t max_wait_ms, timeout_ms;
	bool echo, no_migrate, strict;
	struct db_opts db;
	struct tls_opts tls;		/* --tls-cert, --tls-key, ... */
};

/* Every option not given, the source at its default. */
void storemain_opts_init(struct storemain_opts *o);

/*
 * Store standard input: records stored (or spooled), rejected lines to
 * --reject, a summary on stderr.  Stops at the end of input or the first
 * stop signal (lib/cli.h).
 */
int storemain_stdin(struct storemain_opts *o);

/* Serve POST /metrics (and GET /metrics) until a stop signal. */
int storemain_listen(struct storemain_opts *o);

#endif
