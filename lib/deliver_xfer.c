/*
 * Transfers: libcurl easy handles for the request slots and the
 * endpoints' health probes, started, finished and read, and the headers
 * and endpoints they are set up with.
 */
#include <ctype.h>
#include <err.h>
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deliver_impl.h"
#include "token.h"

/* Transfers */

static size_t
xfer_write(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	size_t n = size * nmemb;

	/* an answer is a few lines of JSON: keep a sane prefix of a flood */
	if (x->resp.len + n > DELIVER_RESP_MAX)
		return n;
	if (batch_buf_add(&x->resp, ptr, n) == -1)
		return 0;
	return n;
}

int
xfer_init(struct xfer *x, struct curl_slist *hdr, const struct deliver_opts *o)
{
	if ((x->h = curl_easy_init()) == NULL)
		return -1;
	/* options kept across the transfers of this handle */
	if (curl_easy_setopt(x->h, CURLOPT_PRIVATE, x) != CURLE_OK ||
	    curl_easy_setopt(x->h, CURLOPT_WRITEFUNCTION, xfer_write) !=
	    CURLE_OK ||
	    curl_easy_setopt(x->h, CURLOPT_WRITEDATA, x) != CURLE_OK ||
	    curl_easy_setopt(x->h, CURLOPT_ERRORBUFFER, x->err) != CURLE_OK ||
	    curl_easy_setopt(x->h, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(x->h, CURLOPT_HTTPHEADER, hdr) != CURLE_OK ||
	    curl_easy_setopt(x->h, CURLOPT_HTTP_VERSION,
	    (long)CURL_HTTP_VERSION_1_1) != CURLE_OK ||
	    curl_easy_setopt(x->h, CURLOPT_TCP_NODELAY, 1L) != CURLE_OK)
		return -1;
	/* HTTPS: TLS 1.2 or later; our CAs, certificate and key if given */
	if (curl_easy_setopt(x->h, CURLOPT_SSLVERSION,
	    (long)CURL_SSLVERSION_TLSv1_2) != CURLE_OK ||
	    (o->cacert != NULL && curl_easy_setopt(x->h, CURLOPT_CAINFO,
	    o->cacert) != CURLE_OK) ||
	    (o->cert != NULL && (curl_easy_setopt(x->h, CURLOPT_SSLCERT,
	    o->cert) != CURLE_OK || curl_easy_setopt(x->h, CURLOPT_SSLKEY,
	    o->key) != CURLE_OK)))
		return -1;
	return 0;
}

/*
 * A failure that trying again cannot mend: a host name that does not
 * resolve, or TLS: the certificate of the endpoint (unknown CA, expired,
 * another name) or our own files.
 */
static bool
xfer_config_error(CURLcode res)
{
	switch (res) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
		return true;
	default:
		return false;
	}
}

/*
 * After a failure of xfer_config_error's: a configuration error, not an
 * outage.  Said once, in one line; the endpoint is out for good (the
 * hold of balance_failure), and once every endpoint is, the command
 * stops as on a signal (deliver_check_signals) and exits 2.
 */
static int64_t
xfer_tls_bad(struct deliver *d, struct xfer *x, CURLcode res)
{
	struct endpoint *e = &d->ep[x->ep];
	const char *err = x->err[0] != '\0' ? x->err :
	    curl_easy_strerror(res);

	if (e->tls_bad)
		return DELIVER_TLS_HOLD_MS;
	e->tls_bad = true;
	d->tls_bad++;
	if (res == CURLE_COULDNT_RESOLVE_HOST)
		warnx("%s: %s: the host name does not resolve: a "
		    "configuration error (the URL), not retried", e->url,
		    err);
	else
		warnx("%s: TLS: %s: a configuration error (--cacert, --cert, "
		    "--key), not retried", e->url, err);
	return DELIVER_TLS_HOLD_MS;
}

void
xfer_free(struct xfer *x)
{
	if (x->h != NULL)
		curl_easy_cleanup(x->h);
	x->h = NULL;
	batch_buf_free(&x->resp);
}

static int
xfer_add(struct deliver *d, struct xfer *x)
{
	x->resp.len = 0;
	if (x->resp.p != NULL)
		x->resp.p[0] = '\0';
	x->err[0] = '\0';
	if (curl_multi_add_handle(d->multi, x->h) != CURLM_OK)
		return -1;
	x->busy = true;
	return 0;
}

void
deliver_start(struct deliver *d, struct batch *b, int64_t now)
{
	struct xfer *x = d->idle[--d->nidle];
	int64_t timeout;
	int ep = balance_pick(&d->bal, b->tried, now);

	if (b->attempts == 0 || b->resend) {
		/* a re-send after a refusal is a new request to the receiver */
		b->deadline = now + d->o.max_time_ms;
		/*
		 * A lone endpoint down: --max-time bounds the outage, not
		 * each request again (so N requests wait --max-time, not N
		 * times it); past it, one attempt each (deliver_report).
		 */
		if (d->o.nurls == 1 && d->ep[0].failing &&
		    d->ep[0].failing_since + d->o.max_time_ms < b->deadline)
			b->deadline = d->ep[0].failing_since +
			    d->o.max_time_ms;
	} else {
		d->c.retried++;
		if (ep != b->ep)
			d->c.failed_over++;
	}
	b->resend = false;
	b->ep = ep;
	b->attempts++;
	d->c.sent++;
	timeout = b->deadline - now;
	/* past the outage's --max-time: one whole attempt, to see it end */
	if (timeout > d->o.timeout_ms || (timeout < 1 && b->attempts == 1))
		timeout = d->o.timeout_ms;
	if (timeout < 1)
		timeout = 1;
	if (curl_easy_setopt(x->h, CURLOPT_URL, d->o.urls[ep]) != CURLE_OK ||
	    curl_easy_setopt(x->h, CURLOPT_POSTFIELDSIZE_LARGE,
	    (curl_off_t)b->body.len) != CURLE_OK ||
	    curl_easy_setopt(x->h, CURLOPT_POSTFIELDS, b->body.p) !=
	    CURLE_OK ||
	    curl_easy_setopt(x->h, CURLOPT_TIMEOUT_MS, (long)timeout) !=
	    CURLE_OK || xfer_add(d, x) == -1) {
		/* only out of memory gets here: keep the records at least */
		d->idle[d->nidle++] = x;
		why_set(&b->why, "cannot start a request "
		    "(out of memory?)");
		deliver_spool(d, b, true);
		return;
	}
	x->b = b;
	x->ep = ep;
	d->busy++;
}

void
probe_start(struct deliver *d, struct endpoint *e)
{
	long timeout = (long)(d->o.timeout_ms < DELIVER_PROBE_TIMEOUT_MS ?
	    d->o.timeout_ms : DELIVER_PROBE_TIMEOUT_MS);

	/* a probe that cannot start is tried again an interval later */
	if (curl_easy_setopt(e->probe.h, CURLOPT_TIMEOUT_MS, timeout) !=
	    CURLE_OK || xfer_add(d, &e->probe) == -1)
		e->next_probe = clock_mono_ms() + d->o.health_interval_ms;
}

static void
probe_done(struct deliver *d, struct xfer *x, CURLcode res, long status,
    int64_t now)
{
	struct endpoint *e = &d->ep[x->ep];
	struct why why;
	/*
	 * Any answer short of a 5xx shows the receiver alive: one without a
	 * /health (404) is then judged by its requests alone.
	 */
	bool ok = res == CURLE_OK && status > 0 && status < 500;

	e->next_probe = now + d->o.health_interval_ms;
	if (xfer_config_error(res)) {
		balance_failure(&d->bal, x->ep, now, xfer_tls_bad(d, x, res));
		return;
	}
	if (res != CURLE_OK)
		why_set(&why, "GET /health: %s", x->err[0] !=
		    '\0' ? x->err : curl_easy_strerror(res));
	else
		why_set(&why, "GET /health: HTTP %ld", status);
	deliver_report(d, x->ep, balance_probe(&d->bal, x->ep, ok, now),
	    why.msg);
}

/* Why an attempt failed, for stderr and the spool report. */
static void
xfer_failure(const struct xfer *x, CURLcode res, long status,
    struct why *why)
{
	struct json_object *answer;
	const char *e;

	long os_errno = 0;

	if (res != CURLE_OK) {
		why_set(why, "%s: %s", "no answer", x->err[0] != '\0' ?
		    x->err : curl_easy_strerror(res));
		/* curl says "Couldn't connect to server": say why */
		if (res == CURLE_COULDNT_CONNECT &&
		    curl_easy_getinfo(x->h, CURLINFO_OS_ERRNO, &os_errno) ==
		    CURLE_OK && os_errno != 0)
			why_append(why, " (%s)", strerror((int)os_errno));
		return;
	}
	answer = deliver_parse_body(x->resp.p, x->resp.len);
	if ((e = deliver_get_string(answer, "error")) != NULL)
		why_set(why, "HTTP %ld: %s", status, e);
	else
		why_set(why, "HTTP %ld", status);
	json_object_put(answer);
}

static void
xfer_done(struct deliver *d, CURLMsg *m, int64_t now)
{
	struct json_object *answer;
	struct xfer *x = NULL;
	struct batch *b;
	CURLcode res = m->data.result;
	curl_off_t total_us = 0, retry_after = 0;
	long status = 0;
	double ms;
	bool answered;

	curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
	curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(x->h, CURLINFO_TOTAL_TIME_T, &total_us);
	if (curl_easy_getinfo(x->h, CURLINFO_RETRY_AFTER, &retry_after) !=
	    CURLE_OK)
		retry_after = 0;
	curl_multi_remove_handle(d->multi, x->h);
	x->busy = false;
	if (x->probe) {
		probe_done(d, x, res, status, now);
		return;
	}
	b = x->b;
	x->b = NULL;
	d->idle[d->nidle++] = x;
	d->busy--;
	ms = (double)total_us / 1000.0;
	answered = res == CURLE_OK && status > 0;
	if (answered)
		d->answered = true;
	switch (deliver_classify(answered, status)) {
	case DELIVER_OK:
		deliver_report(d, b->ep, balance_success(&d->bal, b->ep, now),
		    "");
		answer = deliver_parse_body(x->resp.p, x->resp.len);
		d->c.delivered += b->n;
		d->c.per_ep[b->ep] += b->n;
		deliver_ack(d, b, status, ms, answer);
		json_object_put(answer);
		deliver_finish(d, b);
		break;
	case DELIVER_REJECT:
		deliver_report(d, b->ep, balance_success(&d->bal, b->ep, now),
		    "");
		answer = deliver_parse_body(x->resp.p, x->resp.len);
		deliver_refused(d, b, status, x, ms, answer);
		json_object_put(answer);
		break;
	case DELIVER_RETRY:
		xfer_failure(x, res, status, &b->why);
		if (!answered)
			retry_after = 0;
		if (xfer_config_error(res)) {
			balance_failure(&d->bal, b->ep, now,
			    xfer_tls_bad(d, x, res));
			if (d->tls_bad == d->o.nurls) {
				why_prefix(&b->why, "configuration error");
				deliver_spool(d, b, true);
				break;
			}
		} else {
			deliver_report(d, b->ep, balance_failure(&d->bal,
			    b->ep, now, (int64_t)retry_after * 1000),
			    b->why.msg);
		}
		deliver_retry(d, b, now, (int64_t)retry_after);
		break;
	}
}

void
deliver_reap(struct deliver *d)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(d->multi, &left)) != NULL)
		if (m->msg == CURLMSG_DONE)
			xfer_done(d, m, clock_mono_ms());
}

char *
deliver_health_url(const char *url)
{
	CURLU *u;
	char *scheme = NULL, *out = NULL;

	if ((u = curl_url()) == NULL)
		return NULL;
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0))
		goto out_cleanup;
	if (curl_url_set(u, CURLUPART_PATH, "/health", 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_QUERY, NULL, 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0) != CURLUE_OK)
		goto out_cleanup;
	if (curl_url_get(u, CURLUPART_URL, &out, 0) != CURLUE_OK)
		out = NULL;
out_cleanup:
	curl_free(scheme);
	curl_url_cleanup(u);
	/* the caller frees with free(): hand out a copy of curl's string */
	if (out != NULL) {
		char *copy = strdup(out);

		curl_free(out);
		out = copy;
	}
	return out;
}

/* Set-up and teardown */

/*
 * Whether url's host name resolves: -1 with why when the resolver says
 * it is no name at all (a temporary failure is left to the requests).
 * Through a proxy the proxy resolves it: not checked then.
 */
static int
deliver_resolve(const char *url, struct why *why)
{
	static const char *const proxies[] = { "http_proxy", "https_proxy",
	    "HTTPS_PROXY", "all_proxy", "ALL_PROXY" };
	struct addrinfo hints, *res;
	char *host = NULL;
	size_t i, len;
	CURLU *u;
	int rc = 0, e;

	for (i = 0; i < sizeof(proxies) / sizeof(proxies[0]); i++)
		if (getenv(proxies[i]) != NULL)
			return 0;
	if ((u = curl_url()) == NULL)
		return 0;
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		goto out_cleanup;
	/* "[::1]": the address without its brackets */
	len = strlen(host);
	if (len > 2 && host[0] == '[' && host[len - 1] == ']') {
		memmove(host, host + 1, len - 2);
		host[len - 2] = '\0';
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if ((e = getaddrinfo(host, NULL, &hints, &res)) == 0)
		freeaddrinfo(res);
	else if (e == EAI_NONAME || e == EAI_NODATA)
		rc = why_set(why, "%s: the host name \"%s\" does not resolve "
		    "(%s): check the URL", url, host, gai_strerror(e));
out_cleanup:
	curl_free(host);
	curl_url_cleanup(u);
	return rc;
}

static bool
deliver_has_header(const struct deliver_opts *o, const char *name)
{
	size_t len = strlen(name);
	int i;

	for (i = 0; i < o->nheaders; i++)
		if (strncasecmp(o->headers[i], name, len) == 0 &&
		    o->headers[i][len] == ':')
			return true;
	return false;
}

int
deliver_headers(struct deliver *d, struct why *why)
{
	char auth[TOKEN_MAX + 32];
	struct why twhy;
	struct curl_slist *l;
	char *token;
	int i;

#define HDR_ADD(list, s) do { \
	if ((l = curl_slist_append(list, s)) == NULL) \
		return why_set(why, "out of memory"); \
	list = l; \
} while (0)
	if (!deliver_has_header(&d->o, "Content-Type"))
		HDR_ADD(d->post_hdr, d->o.ndjson ?
		    "Content-Type: application/x-ndjson" :
		    "Content-Type: application/json");
	/* no 100-continue round trip before every body over 1 KiB */
	HDR_ADD(d->post_hdr, "Expect:");
	if (d->o.token_file != NULL) {
		if (token_read(d->o.token_file, &token, &twhy) == -1)
			return why_set(why, "--token-file: %s", twhy.msg);
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s",
		    token);
		explicit_bzero(token, strlen(token));
		free(token);
		HDR_ADD(d->post_hdr, auth);
		HDR_ADD(d->probe_hdr, auth);
		explicit_bzero(auth, sizeof(auth));
	}
	for (i = 0; i < d->o.nheaders; i++) {
		HDR_ADD(d->post_hdr, d->o.headers[i]);
		HDR_ADD(d->probe_hdr, d->o.headers[i]);
	}
#undef HDR_ADD
	return 0;
}

int
deliver_endpoints(struct deliver *d, struct why *why)
{
	int i;

	for (i = 0; i < d->o.nurls; i++) {
		struct endpoint *e = &d->ep[i];
		struct json_object *s;

		e->url = d->o.urls[i];
		e->label[0] = (char)('a' + i);
		if ((s = json_object_new_string(e->url)) == NULL)
			return why_set(why, "out of memory");
		e->url_json = strdup(json_object_to_json_string_ext(s,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(s);
		if (e->url_json == NULL ||
		    (e->health_url = deliver_health_url(e->url)) == NULL)
			return why_set(why, "\"%s\": want an http:// "
			    "or https:// URL", e->url);
		if (deliver_resolve(e->url, why) == -1)
			return -1;
		if (d->o.health_interval_ms == 0 || d->o.nurls < 2)
			continue;
		e->probe.probe = true;
		e->probe.ep = i;
		if (xfer_init(&e->probe, d->probe_hdr, &d->o) == -1 ||
		    curl_easy_setopt(e->probe.h, CURLOPT_URL,
		    e->health_url) != CURLE_OK ||
		    curl_easy_setopt(e->probe.h, CURLOPT_HTTPGET, 1L) !=
		    CURLE_OK)
			return why_set(why, "cannot set up libcurl");
	}
	return 0;
}
