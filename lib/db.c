/*
 * Connecting to MySQL/MariaDB: options and URL into a configuration, TLS,
 * time-outs, and which server errors mean reconnect (db.h).
 */
#include <arpa/inet.h>
#include <err.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <errmsg.h>
#include <mysqld_error.h>

#include "db.h"
#include "db_impl.h"

/*
 * Every session: UTC (sm-store(1), "The table"), and strict mode so a
 * value the table cannot hold is an error, never a silently clipped row.
 */
#define DB_INIT_COMMAND \
	"SET time_zone = '+00:00', sql_mode = 'STRICT_ALL_TABLES," \
	"NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO," \
	"NO_ENGINE_SUBSTITUTION'"

static const struct {
	const char *name;
	enum db_ssl_mode mode;
} db_ssl_modes[] = {
	{ "DISABLED", DB_SSL_DISABLED },
	{ "PREFERRED", DB_SSL_PREFERRED },
	{ "REQUIRED", DB_SSL_REQUIRED },
	{ "VERIFY_CA", DB_SSL_VERIFY_CA },
	{ "VERIFY_IDENTITY", DB_SSL_VERIFY_IDENTITY },
};

int
db_ssl_mode_parse(const char *name, enum db_ssl_mode *mode)
{
	size_t i;

	for (i = 0; i < sizeof(db_ssl_modes) / sizeof(db_ssl_modes[0]); i++)
		if (strcasecmp(name, db_ssl_modes[i].name) == 0) {
			*mode = db_ssl_modes[i].mode;
			return 0;
		}
	return -1;
}

static char *
db_strdup_or_null(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

int
db_config_init(struct db_config *c, const char *url,
    const char *defaults_file, const char *ssl_mode, const char *ssl_ca,
    struct why *why)
{
	struct why uwhy;
	const char *env;

	memset(c, 0, sizeof(*c));
	c->connect_timeout = DB_CONNECT_TIMEOUT;
	c->io_timeout = DB_IO_TIMEOUT;
	if (url == NULL && (url = getenv("SM_DB")) == NULL)
		return why_set(why, "no database: give --db URL or set SM_DB");
	if (dburl_parse(url, &c->url, &uwhy) == -1)
		return why_set(why, "database URL: %s", uwhy.msg);
	if (ssl_mode == NULL)
		ssl_mode = c->url.ssl_mode;
	if (ssl_mode != NULL && db_ssl_mode_parse(ssl_mode,
	    &c->ssl_mode) == -1) {
		why_set(why, "ssl-mode \"%.40s\": want DISABLED, PREFERRED, "
		    "REQUIRED, VERIFY_CA or VERIFY_IDENTITY", ssl_mode);
		goto out_free;
	}
	if (ssl_ca == NULL)
		ssl_ca = c->url.ssl_ca;
	if (ssl_ca != NULL && access(ssl_ca, R_OK) == -1) {
		why_set(why, "ssl-ca %s: %s", ssl_ca, strerror(errno));
		goto out_free;
	}
	if (defaults_file != NULL && access(defaults_file, R_OK) == -1) {
		why_set(why, "%s: %s", defaults_file, strerror(errno));
		goto out_free;
	}
	if (c->url.password != NULL) {
		c->password = strdup(c->url.password);
		c->password_in_url = true;
	} else if ((env = getenv("SM_DB_PASSWORD")) != NULL) {
		c->password = strdup(env);
	}
	c->ssl_ca = db_strdup_or_null(ssl_ca);
	c->defaults_file = db_strdup_or_null(defaults_file);
	if ((c->password == NULL && (c->url.password != NULL ||
	    getenv("SM_DB_PASSWORD") != NULL)) ||
	    (c->ssl_ca == NULL && ssl_ca != NULL) ||
	    (c->defaults_file == NULL && defaults_file != NULL)) {
		why_set(why, "out of memory");
		goto out_free;
	}
	return 0;
out_free:
	db_config_free(c);
	return -1;
}

void
db_config_free(struct db_config *c)
{
	if (c->password != NULL) {
		explicit_bzero(c->password, strlen(c->password));
		free(c->password);
	}
	free(c->defaults_file);
	free(c->ssl_ca);
	dburl_free(&c->url);
	memset(c, 0, sizeof(*c));
}

void
db_describe(const struct db_config *c, char *buf, size_t size)
{
	dburl_describe(&c->url, buf, size);
}

/*
 * A Unix socket or the loopback interface: nothing on the way to read or
 * alter, so TLS there is only a cost (and a restart of the server then
 * shows as a TLS error instead of a lost connection).
 */
bool
db_is_local(const struct db_config *c)
{
	const char *h = c->url.host;
	unsigned char a[sizeof(struct in6_addr)];

	if (c->url.socket != NULL || strcmp(h, "localhost") == 0)
		return true;
	/* addresses only: a name's address may change */
	if (inet_pton(AF_INET, h, a) == 1)
		return a[0] == 127;
	return inet_pton(AF_INET6, h, a) == 1 &&
	    IN6_IS_ADDR_LOOPBACK((struct in6_addr *)a);
}

/* What to check after a connection attempt failed with err. */
const char *
db_connect_hint(unsigned err)
{
	switch (err) {
	case CR_CONNECTION_ERROR:
	case CR_CONN_HOST_ERROR:
	case CR_SERVER_LOST:
	case CR_SERVER_GONE_ERROR:
	case ER_SERVER_SHUTDOWN:
		return "check that the server runs and that --db or SM_DB "
		    "names its host and port";
	case CR_UNKNOWN_HOST:
		return "check the host name in --db or SM_DB";
	case ER_ACCESS_DENIED_ERROR:
		return "check the password: SM_DB_PASSWORD, or password= in "
		    "the [client] or [sm] group of the option file "
		    "(--defaults-file, ~/.my.cnf), and the user in the URL";
	case ER_DBACCESS_DENIED_ERROR:
		return "grant the user rights on the database, or name "
		    "another in the URL";
	case ER_BAD_DB_ERROR:
		return "create the database, or name another in the URL";
	case CR_SSL_CONNECTION_ERROR:
		return "check --ssl-mode and --ssl-ca against the server's "
		    "TLS set-up";
	}
	return NULL;
}

/* Whether err means the connection went away under a statement. */
bool
db_is_lost(unsigned err)
{
	switch (err) {
	case CR_SERVER_GONE_ERROR:
	case CR_SERVER_LOST:
	case CR_SERVER_LOST_EXTENDED:
	case CR_ERR_NET_READ:
	case CR_ERR_NET_WRITE:
	case CR_SSL_CONNECTION_ERROR:	/* the TLS stream cut short */
	case ER_SERVER_SHUTDOWN:
	case ER_CONNECTION_KILLED:
	case ER_NET_READ_ERROR:
	case ER_NET_READ_INTERRUPTED:
	case ER_NET_ERROR_ON_WRITE:
	case ER_NET_WRITE_INTERRUPTED:
		return true;
	}
	return false;
}

static void
db_set_tls(MYSQL *m, const struct db_config *c, enum db_ssl_mode mode)
{
	my_bool on = 1, off = 0;

	switch (mode) {
	case DB_SSL_DEFAULT:
	case DB_SSL_DISABLED:
		mysql_options(m, MYSQL_OPT_SSL_ENFORCE, &off);
		break;
	case DB_SSL_PREFERRED:
	case DB_SSL_REQUIRED:
		/* Connector/C falls back to plain text; db_connect checks */
		mysql_options(m, MYSQL_OPT_SSL_ENFORCE, &on);
		break;
	case DB_SSL_VERIFY_CA:
	case DB_SSL_VERIFY_IDENTITY:
		/* Connector/C 3 checks the host name in both cases */
		mysql_options(m, MYSQL_OPT_SSL_ENFORCE, &on);
		mysql_options(m, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &on);
		break;
	}
	if (c->ssl_ca != NULL && mode != DB_SSL_DISABLED &&
	    mode != DB_SSL_DEFAULT)
		mysql_options(m, MYSQL_OPT_SSL_CA, c->ssl_ca);
}

MYSQL *
db_connect(const struct db_config *c, struct why *why, enum db_fault *fault)
{
	enum db_ssl_mode mode = c->ssl_mode;
	my_bool off = 0;
	MYSQL *m;

	*fault = DB_FAULT_OTHER;
	if ((m = mysql_init(NULL)) == NULL) {
		why_set(why, "out of memory");
		return NULL;
	}
	if (mode == DB_SSL_DEFAULT && !db_is_local(c))
		mode = DB_SSL_PREFERRED;
	/* option files are read by mysql_real_connect: [client] and [sm] */
	mysql_options(m, MYSQL_READ_DEFAULT_GROUP, DB_OPTION_GROUP);
	if (c->defaults_file != NULL)
		mysql_options(m, MYSQL_READ_DEFAULT_FILE, c->defaults_file);
	mysql_options(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &c->connect_timeout);
	mysql_options(m, MYSQL_OPT_READ_TIMEOUT, &c->io_timeout);
	mysql_options(m, MYSQL_OPT_WRITE_TIMEOUT, &c->io_timeout);
	/* a silent reconnect would lose the transaction: callers handle it */
	mysql_options(m, MYSQL_OPT_RECONNECT, &off);
	mysql_options(m, MYSQL_INIT_COMMAND, DB_INIT_COMMAND);
	db_set_tls(m, c, mode);
	if (mysql_real_connect(m, c->url.host, c->url.user, c->password,
	    c->url.database, c->url.port, c->url.socket, 0) == NULL) {
		unsigned err = mysql_errno(m);
		/* the server cut the handshake (it stops): not TLS's fault */
		bool cut = err == CR_SSL_CONNECTION_ERROR &&
		    strstr(mysql_error(m), "unexpected eof") != NULL;
		const char *hint = db_connect_hint(cut ? CR_SERVER_LOST : err);

		/* the callers name the database (db_describe) */
		why_set(why, "connect: %s (%u)%s%s", mysql_error(m), err,
		    hint != NULL ? "; " : "", hint != NULL ? hint : "");
		*fault = err == 0 ? DB_FAULT_OTHER : db_fault_of(err);
		/* a refused TLS handshake will not mend by itself */
		if (err == CR_SSL_CONNECTION_ERROR && !cut)
			*fault = DB_FAULT_CONFIG;
		mysql_close(m);
		return NULL;
	}
	if ((mode == DB_SSL_REQUIRED || mode == DB_SSL_VERIFY_CA ||
	    mode == DB_SSL_VERIFY_IDENTITY) &&
	    mysql_get_ssl_cipher(m) == NULL) {
		why_set(why, "connect: ssl-mode %s, but the server offers no "
		    "TLS", mode == DB_SSL_REQUIRED ? "REQUIRED" : "VERIFY_*");
		*fault = DB_FAULT_CONFIG;
		mysql_close(m);
		return NULL;
	}
	*fault = DB_FAULT_NONE;
	return m;
}

enum db_fault
db_fault_of(unsigned err)
{
	switch (err) {
	case 0:
		return DB_FAULT_NONE;
	case CR_CONNECTION_ERROR:
	case CR_CONN_HOST_ERROR:
	case CR_UNKNOWN_HOST:
	case CR_SERVER_GONE_ERROR:
	case CR_SERVER_HANDSHAKE_ERR:
	case CR_SERVER_LOST:
	case CR_SERVER_LOST_EXTENDED:
	case CR_ERR_NET_READ:
	case CR_ERR_NET_WRITE:
	case CR_SSL_CONNECTION_ERROR:	/* db_connect: a configuration */
	case ER_CON_COUNT_ERROR:
	case ER_SERVER_SHUTDOWN:
	case ER_NET_READ_ERROR:
	case ER_NET_READ_INTERRUPTED:
	case ER_NET_ERROR_ON_WRITE:
	case ER_NET_WRITE_INTERRUPTED:
	case ER_TOO_MANY_USER_CONNECTIONS:
	case ER_QUERY_INTERRUPTED:
	case ER_OPTION_PREVENTS_STATEMENT:	/* read-only: a failover */
	case ER_READ_ONLY_MODE:
	case ER_CONNECTION_KILLED:
	case ER_UNKNOWN_COM_ERROR:	/* Galera: node not in the primary */
	case 4031:	/* ER_CLIENT_INTERACTION_TIMEOUT (MySQL 8) */
		return DB_FAULT_CONNECTION;
	case ER_ACCESS_DENIED_ERROR:
	case ER_DBACCESS_DENIED_ERROR:
	case ER_BAD_DB_ERROR:
	case ER_HOST_IS_BLOCKED:
	case ER_NOT_SUPPORTED_AUTH_MODE:
	case ER_MUST_CHANGE_PASSWORD_LOGIN:
	case ER_ACCOUNT_HAS_BEEN_LOCKED:
	case CR_AUTH_PLUGIN_CANNOT_LOAD:
		return DB_FAULT_CONFIG;
	case ER_LOCK_WAIT_TIMEOUT:
	case ER_LOCK_DEADLOCK:
	case ER_NEED_REPREPARE:
		return DB_FAULT_RETRY;
	case ER_BAD_NULL_ERROR:
	case ER_DUP_ENTRY:
	case ER_WARN_NULL_TO_NOTNULL:
	case ER_WARN_DATA_OUT_OF_RANGE:
	case 1265:	/* ER_WARN_DATA_TRUNCATED */
	case ER_TRUNCATED_WRONG_VALUE:
	case ER_DIVISION_BY_ZERO:
	case ER_TRUNCATED_WRONG_VALUE_FOR_FIELD:
	case ER_DATA_TOO_LONG:
	case ER_WRONG_VALUE_FOR_TYPE:
	case ER_NO_REFERENCED_ROW_2:
	case ER_CONSTRAINT_FAILED:
	case 3819:	/* ER_CHECK_CONSTRAINT_VIOLATED (MySQL 8) */
		return DB_FAULT_DATA;
	}
	return DB_FAULT_OTHER;
}

enum db_fault
db_node_ready(MYSQL *m, struct why *why)
{
	char ready[8] = "ON", status[32] = "Primary";
	MYSQL_RES *res;
	MYSQL_ROW row;
	bool on;

	/* MySQL has no wsrep_on: no rows; MariaDB's is OFF out of Galera */
	if (mysql_query(m, "SHOW VARIABLES LIKE 'wsrep_on'") != 0)
		return db_error(m, "SHOW VARIABLES", why);
	if ((res = mysql_store_result(m)) == NULL)
		return db_error(m, "SHOW VARIABLES", why);
	row = mysql_fetch_row(res);
	on = row != NULL && row[1] != NULL && strcasecmp(row[1], "ON") == 0;
	mysql_free_result(res);
	if (!on)
		return DB_FAULT_NONE;
	if (mysql_query(m, "SHOW STATUS WHERE Variable_name IN "
	    "('wsrep_ready', 'wsrep_cluster_status')") != 0)
		return db_error(m, "SHOW STATUS", why);
	if ((res = mysql_store_result(m)) == NULL)
		return db_error(m, "SHOW STATUS", why);
	while ((row = mysql_fetch_row(res)) != NULL) {
		if (row[0] == NULL || row[1] == NULL)
			continue;
		if (strcasecmp(row[0], "wsrep_ready") == 0)
			snprintf(ready, sizeof(ready), "%s", row[1]);
		else
			snprintf(status, sizeof(status), "%s", row[1]);
	}
	mysql_free_result(res);
	if (strcasecmp(ready, "ON") == 0 && strcmp(status, "Primary") == 0)
		return DB_FAULT_NONE;
	why_set(why, "Galera node not ready (wsrep_ready %s, cluster %s)",
	    ready, status);
	return DB_FAULT_CONNECTION;
}

enum db_fault
db_error(MYSQL *m, const char *what, struct why *why)
{
	unsigned err = mysql_errno(m);

	why_set(why, "%s%s: %s (%u)", db_is_lost(err) ?
	    "lost the connection: " : "", what, mysql_error(m), err);
	return err == 0 ? DB_FAULT_OTHER : db_fault_of(err);
}

enum db_fault
db_stmt_error(MYSQL_STMT *st, const char *what, struct why *why)
{
	unsigned err = mysql_stmt_errno(st);

	why_set(why, "%s%s: %s (%u)", db_is_lost(err) ?
	    "lost the connection: " : "", what, mysql_stmt_error(st),
	    err);
	return err == 0 ? DB_FAULT_OTHER : db_fault_of(err);
}

/*
 * A password typed into --db stays visible in ps(1) until overwritten:
 * warn, and overwrite it in place in url (an argv string, which
 * /proc/PID/cmdline reads).
 */
static void
db_url_scrub(char *url)
{
	size_t off, len;

	if (dburl_password_span(url, &off, &len) == -1)
		return;
	warnx("--db: a password in the URL is visible to other users; use "
	    "SM_DB_PASSWORD or an option file");
	memset(url + off, 'x', len);
}

int
db_opt(struct db_opts *o, int ch, char *arg)
{
	enum db_ssl_mode mode;

	switch (ch) {
	case DB_OPT_DB:
		o->url = arg;
		return 1;
	case DB_OPT_DEFAULTS_FILE:
		o->defaults_file = arg;
		return 1;
	case DB_OPT_SSL_CA:
		o->ssl_ca = arg;
		return 1;
	case DB_OPT_SSL_MODE:
		if (db_ssl_mode_parse(arg, &mode) == -1) {
			warnx("--ssl-mode: \"%s\": want DISABLED, "
			    "PREFERRED, REQUIRED, VERIFY_CA or "
			    "VERIFY_IDENTITY", arg);
			return -1;
		}
		o->ssl_mode = arg;
		return 1;
	}
	return 0;
}

int
db_opts_config(struct db_opts *o, struct db_config *c, struct why *why)
{
	if (db_config_init(c, o->url, o->defaults_file, o->ssl_mode,
	    o->ssl_ca, why) == -1)
		return -1;
	if (o->url != NULL)
		db_url_scrub(o->url);
	return 0;
}
