/*
 * Database connection URLs (sm-store(1), CONNECTION):
 *
 *	mysql://[user[:password]@]host[:port]/database[?param=value&...]
 *	mysql://user@localhost/database?socket=/run/mysqld/mysqld.sock
 *
 * "mariadb://" is accepted too.  Components are percent-decoded; an IPv6
 * host goes in brackets.  Query parameters: socket, ssl-mode, ssl-ca.
 * A password is accepted but discouraged: the callers warn about it and
 * scrub it from argv (dburl_password_span).
 */
#ifndef SM_DBURL_H
#define SM_DBURL_H

#include <stddef.h>

#include "why.h"

#define DBURL_PORT_DEFAULT 3306

struct dburl {
	char *user;		/* NULL: the option files' or the login name */
	char *password;		/* NULL: none in the URL */
	char *host;		/* never NULL; "localhost" means the socket */
	unsigned port;		/* 0: the option files', else 3306 */
	char *database;		/* never NULL or empty */
	char *socket;		/* NULL: none given */
	char *ssl_mode;		/* NULL: none given */
	char *ssl_ca;		/* NULL: none given */
};

/*
 * Parse url into u (all strings newly allocated).  Returns 0, or -1 with a
 * reason in why (never holding the password).
 */
int dburl_parse(const char *url, struct dburl *u, struct why *why);

/* Free what dburl_parse allocated, wiping the password first. */
void dburl_free(struct dburl *u);

/*
 * Where the password sits in url (raw, still encoded): 0 with *off and
 * *len set, or -1 when the URL holds none.  For scrubbing argv.
 */
int dburl_password_span(const char *url, size_t *off, size_t *len);

/*
 * "user@host:port/database" (or "user@localhost/database?socket=PATH"):
 * a description of u for messages, never with the password.
 */
void dburl_describe(const struct dburl *u, char *buf, size_t size);

#endif
