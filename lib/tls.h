/*
 * TLS on the listeners (sm-store --listen, sm-tail --listen): their
 * --tls-cert, --tls-key and --tls-client-ca options, the files read and
 * checked at the start (GnuTLS, as libmicrohttpd uses it), the options
 * that hand them to libmicrohttpd, and the check of a client's
 * certificate (mutual TLS).
 */
#ifndef SM_TLS_H
#define SM_TLS_H

#include <stdbool.h>
#include <stddef.h>

#include "why.h"

/* TLS 1.2 and 1.3 only: libmicrohttpd's MHD_OPTION_HTTPS_PRIORITIES */
#define TLS_PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"
#define TLS_FILE_MAX (1024 * 1024)	/* bytes of a PEM file, at most */

struct MHD_Connection;
struct MHD_OptionItem;

/* getopt_long's values of the options (beside DB_OPT_*, lib/db.h). */
enum tls_opt {
	TLS_OPT_CERT = 0x320,	/* --tls-cert FILE */
	TLS_OPT_KEY,		/* --tls-key FILE */
	TLS_OPT_CLIENT_CA	/* --tls-client-ca FILE */
};

#define TLS_LONGOPTS \
	{ "tls-cert", required_argument, NULL, TLS_OPT_CERT }, \
	{ "tls-key", required_argument, NULL, TLS_OPT_KEY }, \
	{ "tls-client-ca", required_argument, NULL, TLS_OPT_CLIENT_CA }

/* The options as given (NULL: not given), then the files' PEM text. */
struct tls_opts {
	const char *cert_file, *key_file, *ca_file;
	char *cert, *key, *ca;		/* tls_load's; NULL: none */
};

/*
 * Take getopt_long's option ch and its argument, as db_opt does: 1 when
 * ch is a TLS_OPT_*, 0 when it is not.
 */
int tls_opt(struct tls_opts *o, int ch, const char *arg);

/* Whether any of the options was given. */
bool tls_given(const struct tls_opts *o);

/*
 * Check the options together (--tls-cert and --tls-key go together,
 * --tls-client-ca needs them), read the files and check them: the
 * certificate and the client CAs parse, the key parses and belongs to the
 * certificate.  Warns when the key is readable by others or the
 * certificate has expired.  0 (nothing to do when no option was given),
 * or -1 with the reason, naming the file, in why.
 */
int tls_load(struct tls_opts *o, struct why *why);

/* Wipe and free what tls_load read. */
void tls_free(struct tls_opts *o);

/*
 * Add to opts (room for TLS_MHD_OPTS more) libmicrohttpd's options for
 * what tls_load read; returns how many.  The daemon also wants the flag
 * MHD_USE_TLS when o->cert is not NULL.
 */
#define TLS_MHD_OPTS 4
size_t tls_mhd_options(const struct tls_opts *o, struct MHD_OptionItem *opts);

/*
 * With --tls-client-ca: whether the client of conn showed a certificate
 * that the CAs sign and that is valid now; -1 with the reason in why when
 * not.  0 without --tls-client-ca.
 */
int tls_peer_check(const struct tls_opts *o, struct MHD_Connection *conn,
    struct why *why);

#endif
