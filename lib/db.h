/*
 * Connecting to the MySQL/MariaDB server, in one place for every command:
 * the URL (--db or $SM_DB), the password ($SM_DB_PASSWORD or the option
 * files), MySQL option files (--defaults-file, else the usual ones; groups
 * [client] and [sm]), TLS (--ssl-mode, --ssl-ca), time-outs, and a UTC
 * session.  Also: which server errors mean "reconnect and retry".
 *
 * The caller runs mysql_library_init() once before and mysql_library_end()
 * once after; threads other than the main one call mysql_thread_init().
 */
#ifndef SM_DB_H
#define SM_DB_H

#include <stdbool.h>

#include <mysql.h>

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

/*
 * Connect: a session with autocommit on, utf8mb4, time_zone '+00:00' and
 * strict SQL mode.  Returns the handle, or NULL with the reason in why and
 * the kind of failure in *fault.
 */
MYSQL *db_connect(const struct db_config *c, struct why *why,
    enum db_fault *fault);

/*
 * Whether the server takes writes as a cluster member: a Galera node
 * outside the primary component, or joining, answers every statement
 * with error 1047 while its connections stay open.  DB_FAULT_NONE when
 * ready (or not a Galera node), DB_FAULT_CONNECTION with the state in why.
 */
enum db_fault db_node_ready(MYSQL *m, struct why *why);

/* The fault and "message (errno)" of the last error on m, into why. */
enum db_fault db_error(MYSQL *m, const char *what, struct why *why);

/* As db_error, for a prepared statement. */
enum db_fault db_stmt_error(MYSQL_STMT *st, const char *what, struct why *why);

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
