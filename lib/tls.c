/*
 * TLS for the two listeners (tls.h): the options, the PEM files read and
 * checked with GnuTLS before libmicrohttpd gets them, and a client's
 * certificate checked against --tls-client-ca.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <microhttpd.h>

#include "tls.h"

int
tls_opt(struct tls_opts *o, int ch, const char *arg)
{
	switch (ch) {
	case TLS_OPT_CERT:
		o->cert_file = arg;
		return 1;
	case TLS_OPT_KEY:
		o->key_file = arg;
		return 1;
	case TLS_OPT_CLIENT_CA:
		o->ca_file = arg;
		return 1;
	default:
		return 0;
	}
}

bool
tls_given(const struct tls_opts *o)
{
	return o->cert_file != NULL || o->key_file != NULL ||
	    o->ca_file != NULL;
}

/*
 * The whole of path, NUL-terminated, into *text; a key (secret) is
 * checked for its mode.  0, or -1 with the reason in why.
 */
static int
tls_read(const char *path, bool secret, char **text, struct why *why)
{
	struct stat st;
	size_t len = 0;
	ssize_t got;
	char *buf;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return why_set(why, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		return why_set(why, "%s: not a regular file", path);
	}
	if (st.st_size > TLS_FILE_MAX) {
		close(fd);
		return why_set(why, "%s: larger than %d bytes", path,
		    TLS_FILE_MAX);
	}
	if (secret && (st.st_mode & 077) != 0)
		warnx("%s: readable by others; chmod 600 it", path);
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		return why_set(why, "out of memory");
	}
	while (len < (size_t)st.st_size && (got = read(fd, buf + len,
	    (size_t)st.st_size - len)) != 0) {
		if (got == -1) {
			why_set(why, "%s: %s", path, strerror(errno));
			close(fd);
			free(buf);
			return -1;
		}
		len += (size_t)got;
	}
	close(fd);
	buf[len] = '\0';
	if (len == 0) {
		free(buf);
		return why_set(why, "%s: empty", path);
	}
	*text = buf;
	return 0;
}

static gnutls_datum_t
tls_datum(char *pem)
{
	return (gnutls_datum_t){ (unsigned char *)pem,
	    (unsigned)strlen(pem) };
}

/*
 * The certificates in pem parse (at least one); a warning when the first
 * (the server's own, in --tls-cert) has expired.  0, or -1 with why.
 */
static int
tls_check_certs(const char *path, char *pem, bool own, struct why *why)
{
	gnutls_datum_t d = tls_datum(pem);
	gnutls_x509_crt_t *list = NULL;
	unsigned n = 0, i;
	int rc;

	if ((rc = gnutls_x509_crt_list_import2(&list, &n, &d,
	    GNUTLS_X509_FMT_PEM, 0)) < 0 || n == 0)
		return why_set(why, "%s: not a PEM certificate: %s", path,
		    rc < 0 ? gnutls_strerror(rc) : "none found");
	if (own && gnutls_x509_crt_get_expiration_time(list[0]) <
	    time(NULL))
		warnx("%s: the certificate has expired", path);
	for (i = 0; i < n; i++)
		gnutls_x509_crt_deinit(list[i]);
	gnutls_free(list);
	return 0;
}

/* The key parses, and is the certificate's.  0, or -1 with why. */
static int
tls_check_key(const struct tls_opts *o, struct why *why)
{
	gnutls_datum_t c = tls_datum(o->cert), k = tls_datum(o->key);
	gnutls_certificate_credentials_t cred;
	gnutls_x509_privkey_t key;
	int rc;

	if (gnutls_x509_privkey_init(&key) < 0)
		return why_set(why, "out of memory");
	rc = gnutls_x509_privkey_import2(key, &k, GNUTLS_X509_FMT_PEM, NULL,
	    0);
	gnutls_x509_privkey_deinit(key);
	if (rc < 0)
		return why_set(why, "%s: not a PEM private key (or one with "
		    "a passphrase): %s", o->key_file, gnutls_strerror(rc));
	if (gnutls_certificate_allocate_credentials(&cred) < 0)
		return why_set(why, "out of memory");
	rc = gnutls_certificate_set_x509_key_mem2(cred, &c, &k,
	    GNUTLS_X509_FMT_PEM, NULL, 0);
	gnutls_certificate_free_credentials(cred);
	if (rc == GNUTLS_E_CERTIFICATE_KEY_MISMATCH)
		return why_set(why, "%s: not the key of the certificate in %s",
		    o->key_file, o->cert_file);
	if (rc < 0)
		return why_set(why, "%s, %s: %s", o->cert_file, o->key_file,
		    gnutls_strerror(rc));
	return 0;
}

int
tls_load(struct tls_opts *o, struct why *why)
{
	if (!tls_given(o))
		return 0;
	if (o->cert_file == NULL || o->key_file == NULL)
		return why_set(why, "--tls-cert and --tls-key go together");
	if (tls_read(o->cert_file, false, &o->cert, why) == -1 ||
	    tls_check_certs(o->cert_file, o->cert, true, why) == -1 ||
	    tls_read(o->key_file, true, &o->key, why) == -1 ||
	    tls_check_key(o, why) == -1)
		goto out_free;
	if (o->ca_file != NULL && (tls_read(o->ca_file, false, &o->ca,
	    why) == -1 || tls_check_certs(o->ca_file, o->ca, false,
	    why) == -1))
		goto out_free;
	return 0;
out_free:
	tls_free(o);
	return -1;
}

void
tls_free(struct tls_opts *o)
{
	if (o->key != NULL)
		explicit_bzero(o->key, strlen(o->key));
	free(o->key);
	free(o->cert);
	free(o->ca);
	o->key = o->cert = o->ca = NULL;
}

size_t
tls_mhd_options(const struct tls_opts *o, struct MHD_OptionItem *opts)
{
	size_t n = 0;

	if (o->cert == NULL)
		return 0;
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_CERT, 0,
	    o->cert };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_KEY, 0,
	    o->key };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_PRIORITIES, 0,
	    (void *)TLS_PRIORITIES };
	if (o->ca != NULL)
		opts[n++] = (struct MHD_OptionItem){
		    MHD_OPTION_HTTPS_MEM_TRUST, 0, o->ca };
	return n;
}

int
tls_peer_check(const struct tls_opts *o, struct MHD_Connection *conn,
    struct why *why)
{
	const union MHD_ConnectionInfo *ci;
	gnutls_datum_t out;
	unsigned status;
	int rc;

	if (o == NULL || o->ca == NULL)
		return 0;
	if ((ci = MHD_get_connection_info(conn,
	    MHD_CONNECTION_INFO_GNUTLS_SESSION)) == NULL ||
	    ci->tls_session == NULL)
		return why_set(why, "no TLS session");
	/* the CAs are MHD's credentials' trust (MHD_OPTION_HTTPS_MEM_TRUST) */
	rc = gnutls_certificate_verify_peers2(ci->tls_session, &status);
	if (rc == GNUTLS_E_NO_CERTIFICATE_FOUND)
		return why_set(why, "a client certificate is required");
	if (rc < 0)
		return why_set(why, "client certificate: %s",
		    gnutls_strerror(rc));
	if (status == 0)
		return 0;
	if (gnutls_certificate_verification_status_print(status,
	    GNUTLS_CRT_X509, &out, 0) < 0)
		return why_set(why, "client certificate not trusted");
	why_set(why, "client certificate: %s", (char *)out.data);
	gnutls_free(out.data);
	/* GnuTLS ends its sentences with a space */
	for (rc = (int)strlen(why->msg); rc > 0 && why->msg[rc - 1] == ' ';)
		why->msg[--rc] = '\0';
	return -1;
}
