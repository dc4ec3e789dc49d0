/*
 * Who may look at sm-tail --listen (sm-tail(1), SECURITY): viewers with
 * a name and password (--auth-file: "name:hash" lines, the hashes
 * crypt(3)'s, yescrypt, bcrypt or SHA-crypt, as htpasswd -B or mkpasswd
 * write them) sent by HTTP basic authentication, which browsers send by
 * themselves with every request of the page (its EventSource too); and
 * scrapers of /metrics with a bearer token of their own
 * (--metrics-token-file).  Failed attempts are counted for /metrics.
 */
#ifndef SM_WEBAUTH_H
#define SM_WEBAUTH_H

#include <stdbool.h>

#include "why.h"

#define WEBAUTH_USERS_MAX 1024
#define WEBAUTH_REALM "sm-tail"

struct MHD_Connection;
struct webauth;

/*
 * Read the files (either may be NULL, not both); every line checked: a
 * name, a colon, a hash crypt(3) knows.  NULL with the reason (file and
 * line) in why.
 */
struct webauth *webauth_new(const char *auth_file, const char *token_file,
    struct why *why);
void webauth_free(struct webauth *a);

/*
 * Whether the request on conn may have url: /health always; /metrics
 * with the metrics token or a viewer's credentials; anything else with a
 * viewer's.  A credential given and wrong is counted.
 */
bool webauth_check(struct webauth *a, struct MHD_Connection *conn,
    const char *url);

/* Failed attempts so far. */
unsigned long webauth_failures(const struct webauth *a);

/*
 * The gate of every request: with tls (--tls-client-ca), a client
 * certificate the CAs sign, and with a (NULL: none), webauth_check.  0
 * to go on; -1 once the refusal is queued (403 for the certificate, 401
 * asking for basic authentication), MHD's result in *ret.  /health
 * always goes on.
 */
struct tls_opts;
int webauth_guard(struct webauth *a, const struct tls_opts *tls,
    struct MHD_Connection *conn, const char *url, int *ret);

/*
 * text (taken) with sm_tail_auth_failures_total after it; text itself
 * when a is NULL; NULL when out of memory.
 */
char *webauth_metrics(const struct webauth *a, char *text);

#endif
