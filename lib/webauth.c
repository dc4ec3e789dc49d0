/*
 * The viewers of sm-tail --listen and its scrapers (webauth.h): the files
 * read, the credentials of a request checked in constant time, a password
 * that once matched its hash remembered (as a digest) so that the page's
 * every request does not cost a hash of crypt(3)'s.
 */
#include <crypt.h>
#include <err.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>

#include "tls.h"
#include "token.h"
#include "webauth.h"

#define WEBAUTH_LINE_MAX 1024
#define WEBAUTH_DIGEST 32		/* SHA-256 */

struct webauth_user {
	char *name;
	char *hash;			/* crypt(3)'s */
	bool known;			/* digest: a password that matched */
	unsigned char digest[WEBAUTH_DIGEST];
};

struct webauth {
	struct webauth_user *users;
	size_t n;
	char *token;			/* /metrics' bearer token; NULL: none */
	pthread_mutex_t lock;		/* users' digests, data */
	struct crypt_data data;		/* crypt_r's, 32 KiB */
	unsigned long failures;		/* atomic */
};

/* a and b, of len bytes, equal: every byte looked at whatever differs */
static bool
webauth_equal(const void *a, const void *b, size_t len)
{
	const unsigned char *x = a, *y = b;
	volatile unsigned char d = 0;
	size_t i;

	for (i = 0; i < len; i++)
		d |= x[i] ^ y[i];
	return d == 0;
}

/* the strings equal, in time that depends on want's length only */
static bool
webauth_equal_str(const char *given, const char *want)
{
	size_t glen = strlen(given), wlen = strlen(want), i;
	volatile unsigned char d = glen != wlen;

	for (i = 0; i < wlen; i++)
		d |= (unsigned char)want[i] ^
		    (unsigned char)(i < glen ? given[i] : 0);
	return d == 0;
}

/* One "name:hash" line into a->users; 0, or -1 with why. */
static int
webauth_add(struct webauth *a, char *line, struct why *why)
{
	struct webauth_user *u;
	char *colon = strchr(line, ':');

	if (colon == NULL || colon == line)
		return why_set(why, "want name:hash");
	*colon = '\0';
	if (crypt_checksalt(colon + 1) != CRYPT_SALT_OK)
		return why_set(why, "%s: not a hash crypt(3) takes (yescrypt "
		    "$y$, bcrypt $2b$, SHA-crypt $6$)", line);
	if (a->n == WEBAUTH_USERS_MAX)
		return why_set(why, "more than %d users", WEBAUTH_USERS_MAX);
	if ((u = realloc(a->users, (a->n + 1) * sizeof(*u))) == NULL)
		return why_set(why, "out of memory");
	a->users = u;
	u = &a->users[a->n];
	memset(u, 0, sizeof(*u));
	if ((u->name = strdup(line)) == NULL ||
	    (u->hash = strdup(colon + 1)) == NULL) {
		free(u->name);
		return why_set(why, "out of memory");
	}
	a->n++;
	return 0;
}

static int
webauth_read(struct webauth *a, const char *path, struct why *why)
{
	char line[WEBAUTH_LINE_MAX];
	unsigned long lineno = 0;
	struct why lwhy;
	struct stat st;
	size_t len;
	FILE *f;
	int rc = -1;

	if ((f = fopen(path, "re")) == NULL)
		return why_set(why, "%s: %s", path, strerror(errno));
	if (fstat(fileno(f), &st) == 0 && (st.st_mode & 077) != 0)
		warnx("%s: readable by others; chmod 600 it", path);
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		len = strcspn(line, "\r\n");
		if (line[len] == '\0' && !feof(f)) {
			why_set(why, "%s: line %lu: too long", path, lineno);
			goto out_close;
		}
		line[len] = '\0';
		if (line[0] == '\0' || line[0] == '#')
			continue;
		if (webauth_add(a, line, &lwhy) == -1) {
			why_set(why, "%s: line %lu: %.400s", path, lineno,
			    lwhy.msg);
			goto out_close;
		}
	}
	if (ferror(f)) {
		why_set(why, "%s: %s", path, strerror(errno));
		goto out_close;
	}
	if (a->n == 0) {
		why_set(why, "%s: no user", path);
		goto out_close;
	}
	rc = 0;
out_close:
	explicit_bzero(line, sizeof(line));
	fclose(f);
	return rc;
}

struct webauth *
webauth_new(const char *auth_file, const char *token_file, struct why *why)
{
	struct webauth *a;

	if ((a = calloc(1, sizeof(*a))) == NULL) {
		why_set(why, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&a->lock, NULL);
	if (auth_file != NULL && webauth_read(a, auth_file, why) == -1) {
		why_prefix(why, "--auth-file");
		goto out_free;
	}
	if (token_file != NULL && token_read(token_file, &a->token,
	    why) == -1) {
		why_prefix(why, "--metrics-token-file");
		goto out_free;
	}
	return a;
out_free:
	webauth_free(a);
	return NULL;
}

void
webauth_free(struct webauth *a)
{
	size_t i;

	if (a == NULL)
		return;
	for (i = 0; i < a->n; i++) {
		free(a->users[i].name);
		free(a->users[i].hash);
	}
	free(a->users);
	if (a->token != NULL) {
		explicit_bzero(a->token, strlen(a->token));
		free(a->token);
	}
	explicit_bzero(&a->data, sizeof(a->data));
	pthread_mutex_destroy(&a->lock);
	free(a);
}

/*
 * name and password against the file: the digest of a password that
 * matched before, else crypt(3).  An unknown name costs a hash too, so
 * that time does not tell which names exist.
 */
static bool
webauth_password(struct webauth *a, const char *name, const char *pass)
{
	unsigned char digest[WEBAUTH_DIGEST];
	struct webauth_user *u = NULL;
	const char *out;
	bool ok;
	size_t i;

	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, pass, strlen(pass),
	    digest) < 0)
		return false;
	for (i = 0; i < a->n; i++)
		if (strcmp(a->users[i].name, name) == 0)
			u = &a->users[i];
	pthread_mutex_lock(&a->lock);
	if (u != NULL && u->known && webauth_equal(u->digest, digest,
	    sizeof(digest))) {
		pthread_mutex_unlock(&a->lock);
		return true;
	}
	out = crypt_r(pass, u != NULL ? u->hash : a->users[0].hash,
	    &a->data);
	ok = u != NULL && out != NULL && out[0] != '*' &&
	    webauth_equal_str(out, u->hash);
	if (ok) {
		memcpy(u->digest, digest, sizeof(digest));
		u->known = true;
	}
	pthread_mutex_unlock(&a->lock);
	explicit_bzero(digest, sizeof(digest));
	return ok;
}

/* "Bearer TOKEN" against the metrics token (token_bearer_ok). */
static bool
webauth_bearer(const struct webauth *a, const char *header)
{
	return a->token != NULL && token_bearer_ok(header, a->token);
}

bool
webauth_check(struct webauth *a, struct MHD_Connection *conn,
    const char *url)
{
	const char *header;
	char *name, *pass = NULL;
	bool ok = false;

	if (strcmp(url, "/health") == 0)
		return true;
	header = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_AUTHORIZATION);
	if (header == NULL)
		return false;
	if (strcmp(url, "/metrics") == 0 && webauth_bearer(a, header))
		return true;
	name = MHD_basic_auth_get_username_password(conn, &pass);
	if (name != NULL && pass != NULL && a->n > 0)
		ok = webauth_password(a, name, pass);
	if (pass != NULL) {
		explicit_bzero(pass, strlen(pass));
		MHD_free(pass);
	}
	if (name != NULL)
		MHD_free(name);
	if (!ok)
		__atomic_add_fetch(&a->failures, 1, __ATOMIC_RELAXED);
	return ok;
}

unsigned long
webauth_failures(const struct webauth *a)
{
	return __atomic_load_n(&a->failures, __ATOMIC_RELAXED);
}

int
webauth_guard(struct webauth *a, const struct tls_opts *tls,
    struct MHD_Connection *conn, const char *url, int *ret)
{
	struct MHD_Response *r;
	struct why why;
	char body[WHY_LEN + 32];
	bool tls_ok = strcmp(url, "/health") == 0 ||
	    tls_peer_check(tls, conn, &why) == 0;

	if (tls_ok && (a == NULL || webauth_check(a, conn, url)))
		return 0;
	for (size_t i = 0; !tls_ok && why.msg[i] != '\0'; i++)
		if (why.msg[i] == '"' || why.msg[i] == '\\' ||
		    (unsigned char)why.msg[i] < 0x20)
			why.msg[i] = ' ';	/* fit for a JSON string */
	if (!tls_ok)
		snprintf(body, sizeof(body), "{\"error\":\"%s\"}\n", why.msg);
	else
		snprintf(body, sizeof(body), "{\"error\":\"unauthorized\"}\n");
	if ((r = MHD_create_response_from_buffer(strlen(body), body,
	    MHD_RESPMEM_MUST_COPY)) == NULL) {
		*ret = MHD_NO;
		return -1;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "application/json");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (!tls_ok) {
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION,
		    "close");
		*ret = MHD_queue_response(conn, MHD_HTTP_FORBIDDEN, r);
	} else {
		*ret = MHD_queue_basic_auth_fail_response(conn, WEBAUTH_REALM,
		    r);
	}
	MHD_destroy_response(r);
	return -1;
}

char *
webauth_metrics(const struct webauth *a, char *text)
{
	char *all;

	if (text == NULL || a == NULL)
		return text;
	if (asprintf(&all, "%s# HELP sm_tail_auth_failures_total Requests "
	    "with wrong credentials (--auth-file, --metrics-token-file).\n"
	    "# TYPE sm_tail_auth_failures_total counter\n"
	    "sm_tail_auth_failures_total %lu\n", text,
	    webauth_failures(a)) == -1)
		all = NULL;
	free(text);
	return all;
}
