/*
 * The database's configuration, without <mysql.h>: the URL (--db or
 * $SM_DB), the password ($SM_DB_PASSWORD or the option files), MySQL
 * option files (--defaults-file), TLS (--ssl-mode, --ssl-ca), time-outs,
 * the connection options every command takes, and the kinds of failure.
 * Connecting and the server's errors are lib/db.h's.
 */
#ifndef SM_DBCONF_H
#define SM_DBCONF_H

#include <stdbool.h>
#include <stddef.h>

#include "dburl.h"
#include "why.h"

#define DB_OPTION_GROUP "sm"	/* read besides [client] */
#define DB_CONNECT_TIMEOUT 5	/* seconds */
#define DB_IO_TIMEOUT 30	/* seconds for a read or write to the server */

enum db_ssl_mode {
	DB_SSL_DEFAULT,		/* PREFERRED over TCP, DISABLED on a socket
				   or loopback (db_is_local) */
	DB_SSL_DISABLED,
	DB_SSL_PREFERRED,	/* TLS when the server offers it */
	DB_SSL_REQUIRED,	/* TLS or nothing; the certificate unchecked */
	DB_SSL_VERIFY_CA,	/* TLS, certificate checked against the CA */
	DB_SSL_VERIFY_IDENTITY	/* ... and the host name against it */
};

struct db_config {
	struct dburl url;
	char *password;		/* URL or $SM_DB_PASSWORD; NULL: files */
	char *defaults_file;	/* NULL: the usual option files */
	enum db_ssl_mode ssl_mode;
	char *ssl_ca;		/* NULL: none */
	bool password_in_url;
	unsigned connect_timeout;	/* seconds */
	unsigned io_timeout;		/* seconds */
};

/* How a failure should be handled. */
enum db_fault {
	DB_FAULT_NONE,
	DB_FAULT_CONNECTION,	/* server gone or unreachable: reconnect */
	DB_FAULT_CONFIG,	/* access denied, unknown database: give up */
	DB_FAULT_RETRY,		/* deadlock, lock wait: redo the transaction */
	DB_FAULT_DATA,		/* a value the server refused: reject rows */
	DB_FAULT_OTHER		/* anything else: reconnect, then retry */
};

/*
 * Fill c from the URL (NULL: $SM_DB), the option file (NULL: the usual
 * ones), an --ssl-mode name (NULL: from the URL, else the default) and an
 * --ssl-ca file (NULL: from the URL, else none).  The password comes from
 * the URL, else $SM_DB_PASSWORD, else the option files at connect time.
 * Returns 0, or -1 with the reason in why.
 */
int db_config_init(struct db_config *c, const char *url,
    const char *defaults_file, const char *ssl_mode, const char *ssl_ca,
    struct why *why);

/* Free c, wiping the password. */
void db_config_free(struct db_config *c);

/* "user@host:port/db": the target, never with the password. */
void db_describe(const struct db_config *c, char *buf, size_t size);

/* The environment lines of --help, for every command that takes these. */
#define DB_HELP_ENVIRONMENT \
	"  SM_DB                  the database URL when --db is not given\n" \
	"  SM_DB_PASSWORD         the database password\n"

/* The connection options of every command that uses the database. */
enum db_opt {
	DB_OPT_DB = 0x300,	/* --db URL */
	DB_OPT_DEFAULTS_FILE,	/* --defaults-file FILE */
	DB_OPT_SSL_CA,		/* --ssl-ca FILE */
	DB_OPT_SSL_MODE		/* --ssl-mode MODE */
};

struct db_opts {
	char *url;		/* in argv: a password in it gets scrubbed */
	const char *defaults_file;
	const char *ssl_ca;
	const char *ssl_mode;
};

/*
 * Take getopt_long's option ch and its argument, as cli_opt does: 1 when
 * ch is a DB_OPT_*, 0 when it is not, -1 after a warning for a bad value
 * (the caller then prints its usage).
 */
int db_opt(struct db_opts *o, int ch, char *arg);

/*
 * db_config_init from the options, then scrub a password from the --db
 * argument.  Returns 0, or -1 with the reason in why.
 */
int db_opts_config(struct db_opts *o, struct db_config *c, struct why *why);

#endif
