/*
 * Parsing mysql:// and mariadb:// URLs, percent-decoding them, and hiding
 * a password given in one (dburl.h).
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dburl.h"

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * A newly allocated, percent-decoded copy of s[0..len); NULL on a bad
 * escape, an encoded NUL, or no memory (*bad tells which).
 */
static char *
dburl_decode(const char *s, size_t len, int *bad)
{
	char *out, *p;
	size_t i;

	*bad = 0;
	if ((out = malloc(len + 1)) == NULL)
		return NULL;
	for (i = 0, p = out; i < len; i++) {
		int hi, lo;

		if (s[i] != '%') {
			*p++ = s[i];
			continue;
		}
		if (i + 2 >= len) {
			*bad = 1;
			break;
		}
		hi = hexval((unsigned char)s[i + 1]);
		lo = hexval((unsigned char)s[i + 2]);
		if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
			*bad = 1;
			break;
		}
		*p++ = (char)(hi << 4 | lo);
		i += 2;
	}
	if (*bad) {
		free(out);
		return NULL;
	}
	*p = '\0';
	return out;
}

static int
dburl_take(char **dst, const char *s, size_t len, const char *what,
    struct why *why)
{
	int bad;

	if ((*dst = dburl_decode(s, len, &bad)) == NULL)
		return bad ? why_set(why, "bad %%-escape in the %s", what) :
		    why_set(why, "out of memory");
	return 0;
}

static int
dburl_scheme(const char *url, size_t *skip)
{
	static const char *schemes[] = { "mysql://", "mariadb://" };
	size_t i;

	for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		size_t n = strlen(schemes[i]);

		if (strncasecmp(url, schemes[i], n) == 0) {
			*skip = n;
			return 0;
		}
	}
	return -1;
}

static int
dburl_port(const char *s, size_t len, unsigned *port, struct why *why)
{
	unsigned long v = 0;
	size_t i;

	if (len == 0 || len > 5)
		return why_set(why, "bad port");
	for (i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return why_set(why, "bad port");
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v == 0 || v > 65535)
		return why_set(why, "port %lu out of range", v);
	*port = (unsigned)v;
	return 0;
}

static int
dburl_hostport(const char *s, size_t len, struct dburl *u, struct why *why)
{
	const char *colon;
	size_t hlen;

	if (len > 0 && s[0] == '[') {
		const char *end = memchr(s, ']', len);

		if (end == NULL)
			return why_set(why, "unclosed [ in the host");
		if (dburl_take(&u->host, s + 1, (size_t)(end - s) - 1, "host",
		    why) == -1)
			return -1;
		hlen = (size_t)(end - s) + 1;
		if (hlen == len)
			return 0;
		if (s[hlen] != ':')
			return why_set(why, "junk after ] in the host");
		return dburl_port(s + hlen + 1, len - hlen - 1, &u->port, why);
	}
	colon = memchr(s, ':', len);
	hlen = colon != NULL ? (size_t)(colon - s) : len;
	if (dburl_take(&u->host, s, hlen, "host", why) == -1)
		return -1;
	if (colon != NULL && dburl_port(colon + 1, len - hlen - 1, &u->port,
	    why) == -1)
		return -1;
	return 0;
}

static int
dburl_param(struct dburl *u, const char *s, size_t len, struct why *why)
{
	const char *eq = memchr(s, '=', len);
	char *key = NULL, **dst;
	size_t klen;
	int rc = -1;

	if (len == 0)
		return 0;
	klen = eq != NULL ? (size_t)(eq - s) : len;
	if (dburl_take(&key, s, klen, "query", why) == -1)
		return -1;
	if (strcmp(key, "socket") == 0)
		dst = &u->socket;
	else if (strcmp(key, "ssl-mode") == 0 || strcmp(key, "ssl_mode") == 0)
		dst = &u->ssl_mode;
	else if (strcmp(key, "ssl-ca") == 0 || strcmp(key, "ssl_ca") == 0)
		dst = &u->ssl_ca;
	else {
		why_set(why, "unknown parameter \"%.40s\" (want socket, "
		    "ssl-mode or ssl-ca)", key);
		goto out_free_key;
	}
	if (eq == NULL || eq + 1 == s + len) {
		why_set(why, "parameter %s wants a value", key);
		goto out_free_key;
	}
	if (*dst != NULL) {
		why_set(why, "parameter %s given twice", key);
		goto out_free_key;
	}
	rc = dburl_take(dst, eq + 1, len - klen - 1, key, why);
out_free_key:
	free(key);
	return rc;
}

int
dburl_parse(const char *url, struct dburl *u, struct why *why)
{
	const char *auth, *auth_end, *at, *path, *query, *p;
	size_t skip;

	memset(u, 0, sizeof(*u));
	if (dburl_scheme(url, &skip) == -1)
		return why_set(why, "want mysql://[user@]host[:port]/"
		    "database");
	auth = url + skip;
	if (strchr(auth, '#') != NULL)
		return why_set(why, "a URL fragment (#) has no meaning "
		    "here");
	auth_end = auth + strcspn(auth, "/?");
	if (*auth_end != '/')
		return why_set(why, "no /database in the URL");
	/* the last @: an unencoded @ in a password stays in the password */
	at = NULL;
	for (p = auth; p < auth_end; p++)
		if (*p == '@')
			at = p;
	if (at != NULL) {
		const char *colon = memchr(auth, ':', (size_t)(at - auth));
		size_t ulen = colon != NULL ? (size_t)(colon - auth) :
		    (size_t)(at - auth);

		if (ulen > 0 && dburl_take(&u->user, auth, ulen, "user",
		    why) == -1)
			goto out_free;
		if (colon != NULL && dburl_take(&u->password, colon + 1,
		    (size_t)(at - colon) - 1, "password", why) == -1)
			goto out_free;
		auth = at + 1;
	}
	if (dburl_hostport(auth, (size_t)(auth_end - auth), u, why) == -1)
		goto out_free;
	path = auth_end + 1;
	query = path + strcspn(path, "?");
	if (dburl_take(&u->database, path, (size_t)(query - path),
	    "database", why) == -1)
		goto out_free;
	if (u->database[0] == '\0') {
		why_set(why, "no database name after the /");
		goto out_free;
	}
	if (strchr(u->database, '/') != NULL) {
		why_set(why, "a database name cannot hold a /");
		goto out_free;
	}
	if (*query == '?') {
		for (p = query + 1; *p != '\0'; ) {
			size_t n = strcspn(p, "&");

			if (dburl_param(u, p, n, why) == -1)
				goto out_free;
			p += n;
			if (*p == '&')
				p++;
		}
	}
	if (u->host[0] == '\0') {
		/* mysql:///db?socket=PATH: a local socket */
		free(u->host);
		if ((u->host = strdup("localhost")) == NULL) {
			why_set(why, "out of memory");
			goto out_free;
		}
	}
	if (u->socket != NULL && u->socket[0] != '/') {
		why_set(why, "socket: want an absolute path");
		goto out_free;
	}
	return 0;
out_free:
	dburl_free(u);
	return -1;
}

static void
wipe_free(char *s)
{
	if (s != NULL) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

void
dburl_free(struct dburl *u)
{
	free(u->user);
	wipe_free(u->password);
	free(u->host);
	free(u->database);
	free(u->socket);
	free(u->ssl_mode);
	free(u->ssl_ca);
	memset(u, 0, sizeof(*u));
}

int
dburl_password_span(const char *url, size_t *off, size_t *len)
{
	const char *auth, *auth_end, *at = NULL, *colon, *p;
	size_t skip;

	if (dburl_scheme(url, &skip) == -1)
		return -1;
	auth = url + skip;
	auth_end = auth + strcspn(auth, "/?#");
	for (p = auth; p < auth_end; p++)
		if (*p == '@')
			at = p;
	if (at == NULL ||
	    (colon = memchr(auth, ':', (size_t)(at - auth))) == NULL)
		return -1;
	*off = (size_t)(colon + 1 - url);
	*len = (size_t)(at - colon) - 1;
	return 0;
}

void
dburl_describe(const struct dburl *u, char *buf, size_t size)
{
	const char *user = u->user != NULL ? u->user : "";
	const char *at = u->user != NULL ? "@" : "";
	bool v6 = strchr(u->host, ':') != NULL;
	char port[16] = "";

	if (u->port != 0)
		snprintf(port, sizeof(port), ":%u", u->port);
	snprintf(buf, size, "%s%s%s%s%s%s/%s%s%s", user, at, v6 ? "[" : "",
	    u->host, v6 ? "]" : "", port, u->database,
	    u->socket != NULL ? "?socket=" : "",
	    u->socket != NULL ? u->socket : "");
}
