/*
 * Unit tests for lib/deliver.c: options, answers, and whole
 * runs of the engine over loopback HTTP against a small scripted receiver
 * (libmicrohttpd, in this process) that answers as sm-store(1), "HTTP
 * receiver", says and can be told to fail.  The integration tests
 * (tests/it/post-*.sh, split-*.sh) run the commands against the real
 * sm-store instead.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <json-c/json.h>
#include <microhttpd.h>

#include "cli.h"
#include "deliver_impl.h"
#include "exitcode.h"

#define ID1 "018f3e5c-1b2a-7c3d-8e4f-5a6b7c8d9e0f"

/* Answers */

static void
test_classify(void **state)
{
	(void)state;
	assert_int_equal(deliver_classify(false, 0), DELIVER_RETRY);
	assert_int_equal(deliver_classify(true, 200), DELIVER_OK);
	assert_int_equal(deliver_classify(true, 204), DELIVER_OK);
	assert_int_equal(deliver_classify(true, 408), DELIVER_RETRY);
	assert_int_equal(deliver_classify(true, 429), DELIVER_RETRY);
	assert_int_equal(deliver_classify(true, 500), DELIVER_RETRY);
	assert_int_equal(deliver_classify(true, 503), DELIVER_RETRY);
	assert_int_equal(deliver_classify(true, 599), DELIVER_RETRY);
	assert_int_equal(deliver_classify(true, 400), DELIVER_REJECT);
	assert_int_equal(deliver_classify(true, 401), DELIVER_REJECT);
	assert_int_equal(deliver_classify(true, 404), DELIVER_REJECT);
	assert_int_equal(deliver_classify(true, 413), DELIVER_REJECT);
	assert_int_equal(deliver_classify(true, 301), DELIVER_REJECT);
}

static void
test_parse_refusal(void **state)
{
	const char *body = "{\"error\":\"invalid records\",\"api\":\"a\","
	    "\"errors\":[{\"index\":2,\"reason\":\"cpu_usage: 150 is not a "
	    "percentage\"},{\"index\":0,\"reason\":\"ts: missing\"},"
	    "{\"index\":9,\"reason\":\"out of range\"},{\"index\":0,"
	    "\"reason\":\"twice\"},{\"reason\":\"no index\"}]}";
	char *reasons[4] = { NULL, NULL, NULL, NULL };
	char general[128];
	size_t i;

	(void)state;
	assert_int_equal(deliver_parse_refusal(body, strlen(body), 4, reasons,
	    general, sizeof(general)), 2);
	assert_string_equal(reasons[0], "ts: missing");
	assert_null(reasons[1]);
	assert_string_equal(reasons[2], "cpu_usage: 150 is not a percentage");
	assert_null(reasons[3]);
	/* an index past the request names the request as a whole */
	assert_string_equal(general, "out of range");
	for (i = 0; i < 4; i++)
		free(reasons[i]);

	body = "{\"error\":\"invalid records\",\"errors\":[{\"index\":-1,"
	    "\"reason\":\"invalid JSON at column 3\"}]}";
	assert_int_equal(deliver_parse_refusal(body, strlen(body), 4, reasons,
	    general, sizeof(general)), 0);
	assert_string_equal(general, "invalid JSON at column 3");

	body = "{\"error\":\"unauthorized\"}";
	assert_int_equal(deliver_parse_refusal(body, strlen(body), 4, reasons,
	    general, sizeof(general)), 0);
	assert_string_equal(general, "unauthorized");

	body = "<html>Payload Too Large</html>\r\nmore";
	assert_int_equal(deliver_parse_refusal(body, strlen(body), 4, reasons,
	    general, sizeof(general)), 0);
	assert_string_equal(general, "<html>Payload Too Large</html>");

	assert_int_equal(deliver_parse_refusal("", 0, 4, reasons, general,
	    sizeof(general)), 0);
	assert_string_equal(general, "");
	/* only len bytes count: a reused buffer's old text is no reason */
	assert_int_equal(deliver_parse_refusal("old answer\n", 0, 4, reasons,
	    general, sizeof(general)), 0);
	assert_string_equal(general, "");
	assert_int_equal(deliver_parse_refusal("old answer", 3, 4, reasons,
	    general, sizeof(general)), 0);
	assert_string_equal(general, "old");
}

static void
test_health_url(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "http://127.0.0.1:8081/metrics",
		    "http://127.0.0.1:8081/health" },
		{ "http://h/a/b/metrics?x=1#f", "http://h/health" },
		{ "https://user@example.com:443/metrics",
		    "https://user@example.com:443/health" },
		{ "http://[::1]:9/metrics", "http://[::1]:9/health" },
		{ "ftp://h/metrics", NULL },
		{ "127.0.0.1:8081/metrics", NULL },
		{ "http://", NULL },
		{ "", NULL },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = deliver_health_url(cases[i].in);

		if (cases[i].out == NULL) {
			if (got != NULL)
				fail_msg("%s: got %s", cases[i].in, got);
			continue;
		}
		if (got == NULL || strcmp(got, cases[i].out) != 0)
			fail_msg("%s: got %s, want %s", cases[i].in,
			    got ? got : "NULL", cases[i].out);
		free(got);
	}
}

static void
test_stats_format(void **state)
{
	struct deliver_counts c;
	char buf[256];

	(void)state;
	memset(&c, 0, sizeof(c));
	c.nep = 2;
	c.records_in = 2000;
	c.delivered = 1000;
	c.per_ep[0] = 500;
	c.per_ep[1] = 500;
	c.retried = 3;
	c.failed_over = 2;
	deliver_stats_format(&c, buf, sizeof(buf));
	assert_string_equal(buf, "sent 1000/2000 | a: 500 (50.0%) | "
	    "b: 500 (50.0%) | retried 3 | failed over 2");
	c.rejected = 1;
	c.spooled = 4;
	c.per_ep[0] = 750;
	c.per_ep[1] = 250;
	deliver_stats_format(&c, buf, sizeof(buf));
	assert_string_equal(buf, "sent 1000/2000 | a: 750 (75.0%) | "
	    "b: 250 (25.0%) | retried 3 | failed over 2 | rejected 1 | "
	    "spooled 4");
	memset(&c, 0, sizeof(c));
	c.nep = 1;
	deliver_stats_format(&c, buf, sizeof(buf));
	assert_string_equal(buf, "sent 0/0 | retried 0");
	c.kept = 2;
	deliver_stats_format(&c, buf, sizeof(buf));
	assert_string_equal(buf, "sent 0/0 | retried 0 | kept 2");
	c.dropped = 5;
	deliver_stats_format(&c, buf, sizeof(buf));
	assert_string_equal(buf, "sent 0/0 | retried 0 | kept 2 | dropped 5");
	/* a short buffer truncates, never overflows */
	deliver_stats_format(&c, buf, 8);
	assert_string_equal(buf, "sent 0/");
}

static void
test_options(void **state)
{
	struct deliver_opts o;
	struct why why;
	char *urls[] = { "http://a/metrics", "http://b/metrics", "x" };

	(void)state;
	deliver_opts_init(&o);
	assert_int_equal(o.batch, 1);
	assert_int_equal(deliver_opt(&o, DELIVER_OPT_BATCH, "100", &why), 0);
	assert_int_equal(o.batch, 100);
	assert_int_equal(deliver_opt(&o, DELIVER_OPT_BATCH, "0", &why), -1);
	assert_string_equal(why.msg,
	    "--batch: \"0\": want an integer from 1 to "
	    "100000");
	assert_int_equal(deliver_opt(&o, DELIVER_OPT_TIMEOUT, "2.5", &why), 0);
	assert_int_equal(o.timeout_ms, 2500);
	assert_int_equal(deliver_opt(&o, DELIVER_OPT_TIMEOUT, "0", &why), -1);
	assert_int_equal(deliver_opt(&o, DELIVER_OPT_LINGER, "250", &why), 0);
	assert_int_equal(o.linger_ms, 250);
	assert_int_equal(deliver_opt(&o, DELIVER_OPT_LINGER, "1.5", &why), -1);
	assert_int_equal(deliver_opt(&o, DELIVER_OPT_HEADER, "X-A: b", &why),
	    0);
	assert_int_equal(deliver_opt(&o, DELIVER_OPT_HEADER, "no colon",
	    &why), -1);
	assert_int_equal(deliver_opt(&o, DELIVER_OPT_WEIGHTS, "3,x", &why),
	    -1);
	assert_string_equal(why.msg, "--weights: \"3,x\": weight 2: want an "
	    "integer from 1 to 1000");
	assert_int_equal(deliver_opt(&o, DELIVER_OPT_WEIGHTS, "3,1", &why), 0);
	o.urls = urls;
	o.nurls = 2;
	assert_int_equal(deliver_opts_check(&o, &why), 0);
	o.nurls = 3;
	assert_int_equal(deliver_opts_check(&o, &why), -1);
	assert_string_equal(why.msg, "--weights: 2 weights for 3 URLs");
	o.nweights = 0;
	assert_int_equal(deliver_opts_check(&o, &why), -1);
	assert_string_equal(why.msg, "\"x\": want an http:// or https:// URL");
	o.nurls = 2;
	o.reject_path = o.spool_path = "f";
	assert_int_equal(deliver_opts_check(&o, &why), -1);
	assert_string_equal(why.msg, "--reject and --spool name the same file");
	o.reject_path = o.spool_path = NULL;
	/* --journal-full: wait or drop, and only with --journal */
	assert_int_equal(o.journal_full, DELIVER_FULL_UNSET);
	assert_int_equal(deliver_opt(&o, DELIVER_OPT_JOURNAL_FULL, "drop",
	    &why), 0);
	assert_int_equal(o.journal_full, DELIVER_FULL_DROP);
	assert_int_equal(deliver_opt(&o, DELIVER_OPT_JOURNAL_FULL, "Drop",
	    &why), -1);
	assert_string_equal(why.msg, "--journal-full: \"Drop\": want wait or "
	    "drop");
	assert_int_equal(deliver_opt(&o, DELIVER_OPT_JOURNAL_FULL, "wait",
	    &why), 0);
	assert_int_equal(o.journal_full, DELIVER_FULL_WAIT);
	assert_int_equal(deliver_opts_check(&o, &why), -1);
	assert_string_equal(why.msg, "--journal-max, --journal-full and --sync "
	    "want --journal");
	o.journal_dir = "j";
	assert_int_equal(deliver_opts_check(&o, &why), 0);
}

/* A scripted receiver */

#define SRV_MAX_IDS 10000

struct srv {
	struct MHD_Daemon *mhd;
	unsigned port;
	char url[64];
	const char *api;
	pthread_mutex_t mu;
	/* what to do */
	int fail_first;		/* answer 503 to this many POSTs */
	int retry_after;	/* with that Retry-After (0: none) */
	int status_all;		/* answer every POST with this status */
	/* what happened */
	int posts;
	int batch_sizes[64];
	char *ids[SRV_MAX_IDS];
	int nids;
	int dups;
	char content_type[64];
	char auth[128];
	char custom[64];
	int64_t post_ms[64];	/* when each POST arrived */
};

struct upload {
	char *buf;
	size_t len;
};

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static enum MHD_Result
srv_reply(struct MHD_Connection *c, unsigned status, const char *body,
    int retry_after)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body),
	    (void *)body, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result rc;
	char ra[16];

	MHD_add_response_header(r, "Content-Type", "application/json");
	if (retry_after > 0) {
		snprintf(ra, sizeof(ra), "%d", retry_after);
		MHD_add_response_header(r, "Retry-After", ra);
	}
	rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

/* The records of a body: an object, an array, or NDJSON lines. */
static int
srv_records(const char *body, bool ndjson, struct json_object **recs,
    int max)
{
	struct json_object *v;
	int n = 0;

	if (ndjson) {
		const char *p = body;

		while (*p != '\0' && n < max) {
			size_t len = strcspn(p, "\n");
			char *line = strndup(p, len);

			recs[n++] = json_tokener_parse(line);
			free(line);
			p += len + (p[len] == '\n');
		}
		return n;
	}
	if ((v = json_tokener_parse(body)) == NULL)
		return -1;
	if (json_object_is_type(v, json_type_object)) {
		recs[0] = v;
		return 1;
	}
	for (n = 0; n < (int)json_object_array_length(v) && n < max; n++)
		recs[n] = json_object_get(json_object_array_get_idx(v,
		    (size_t)n));
	json_object_put(v);
	return n;
}

static enum MHD_Result
srv_post(struct srv *s, struct MHD_Connection *c, const char *body)
{
	struct json_object *recs[1024], *id, *bad;
	char answer[8192];
	const char *ct, *h;
	int n, i, stored = 0, dups = 0, post, nbad = 0;
	size_t used;

	ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    "Content-Type");
	pthread_mutex_lock(&s->mu);
	post = s->posts++;
	if (post < 64)
		s->post_ms[post] = now_ms();
	snprintf(s->content_type, sizeof(s->content_type), "%s",
	    ct ? ct : "");
	h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
	snprintf(s->auth, sizeof(s->auth), "%s", h ? h : "");
	h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Test");
	snprintf(s->custom, sizeof(s->custom), "%s", h ? h : "");
	pthread_mutex_unlock(&s->mu);
	if (post < s->fail_first)
		return srv_reply(c, 503, "{\"error\":\"database unavailable\"}",
		    s->retry_after);
	if (s->status_all != 0)
		return srv_reply(c, (unsigned)s->status_all,
		    "{\"error\":\"not today\"}", 0);
	n = srv_records(body, ct != NULL && strstr(ct, "ndjson") != NULL,
	    recs, 1024);
	if (n < 0)
		return srv_reply(c, 400, "{\"error\":\"invalid records\","
		    "\"errors\":[{\"index\":-1,\"reason\":\"bad body\"}]}", 0);
	used = (size_t)snprintf(answer, sizeof(answer), "{\"error\":\"invalid "
	    "records\",\"api\":\"%s\",\"errors\":[", s->api);
	for (i = 0; i < n; i++) {
		if (json_object_object_get_ex(recs[i], "bad", &bad)) {
			used += (size_t)snprintf(answer + used,
			    sizeof(answer) - used, "%s{\"index\":%d,\"reason\":"
			    "\"bad: %s\"}", nbad ? "," : "", i,
			    json_object_get_string(bad));
			nbad++;
		}
	}
	snprintf(answer + used, sizeof(answer) - used, "]}");
	if (nbad > 0) {
		for (i = 0; i < n; i++)
			json_object_put(recs[i]);
		return srv_reply(c, 400, answer, 0);
	}
	pthread_mutex_lock(&s->mu);
	if (post < 64)
		s->batch_sizes[post] = n;
	for (i = 0; i < n; i++) {
		const char *sid;
		int j;

		if (!json_object_object_get_ex(recs[i], "id", &id))
			fail_msg("a record without id reached the receiver");
		sid = json_object_get_string(id);
		for (j = 0; j < s->nids; j++)
			if (strcmp(s->ids[j], sid) == 0)
				break;
		if (j < s->nids) {
			dups++;
		} else if (s->nids < SRV_MAX_IDS) {
			s->ids[s->nids++] = strdup(sid);
			stored++;
		}
		json_object_put(recs[i]);
	}
	s->dups += dups;
	pthread_mutex_unlock(&s->mu);
	snprintf(answer, sizeof(answer), "{\"stored\":%d,\"duplicates\":%d,"
	    "\"api\":\"%s\"}", stored, dups, s->api);
	return srv_reply(c, 200, answer, 0);
}

static enum MHD_Result
srv_handle(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *data,
    size_t *data_size, void **con_cls)
{
	struct srv *s = cls;
	struct upload *u = *con_cls;
	enum MHD_Result rc;

	(void)version;
	if (strcmp(method, "GET") == 0 && strcmp(url, "/health") == 0)
		return srv_reply(c, 200, "{\"status\":\"ok\"}", 0);
	if (strcmp(method, "POST") != 0 || strcmp(url, "/metrics") != 0)
		return srv_reply(c, 404, "{\"error\":\"not found\"}", 0);
	if (u == NULL) {
		*con_cls = calloc(1, sizeof(struct upload));
		return *con_cls ? MHD_YES : MHD_NO;
	}
	if (*data_size > 0) {
		u->buf = realloc(u->buf, u->len + *data_size + 1);
		memcpy(u->buf + u->len, data, *data_size);
		u->len += *data_size;
		u->buf[u->len] = '\0';
		*data_size = 0;
		return MHD_YES;
	}
	rc = srv_post(s, c, u->buf ? u->buf : "");
	free(u->buf);
	free(u);
	*con_cls = NULL;
	return rc;
}

/* A receiver on 127.0.0.1:port (0: any free port). */
static void
srv_start_at(struct srv *s, const char *api, unsigned port)
{
	const union MHD_DaemonInfo *info;

	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->mu, NULL);
	s->api = api;
	s->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_ERROR_LOG, 0, NULL, NULL, srv_handle, s,
	    MHD_OPTION_SOCK_ADDR, &(struct sockaddr_in){ .sin_family = AF_INET,
	    .sin_port = htons((uint16_t)port),
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) }, MHD_OPTION_END);
	assert_non_null(s->mhd);
	info = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_BIND_PORT);
	assert_non_null(info);
	s->port = info->port;
	snprintf(s->url, sizeof(s->url), "http://127.0.0.1:%u/metrics",
	    s->port);
}

static void
srv_start(struct srv *s, const char *api)
{
	srv_start_at(s, api, 0);
}

static void
srv_stop(struct srv *s)
{
	int i;

	MHD_stop_daemon(s->mhd);
	for (i = 0; i < s->nids; i++)
		free(s->ids[i]);
	pthread_mutex_destroy(&s->mu);
}

/* A URL where nothing listens: a port bound, then let go. */
static void
dead_url(char *url, size_t size)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	close(fd);
	snprintf(url, size, "http://127.0.0.1:%u/metrics",
	    (unsigned)ntohs(sa.sin_port));
}

/* A descriptor reading back text. */
static int
input_fd(const char *text)
{
	int fd = memfd_create("records", 0);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

/* n records {"n":i}, the ones in bad (a -1 ended list) with "bad":i. */
static char *
records(int n, const int *bad)
{
	char *s = malloc((size_t)n * 32 + 1), *p = s;
	int i, j;

	for (i = 0; i < n; i++) {
		bool is_bad = false;

		for (j = 0; bad != NULL && bad[j] >= 0; j++)
			is_bad |= bad[j] == i;
		p += sprintf(p, is_bad ? "{\"n\":%d,\"bad\":%d}\n" :
		    "{\"n\":%d}\n", i, i);
	}
	*p = '\0';
	return s;
}

struct run {
	struct deliver_opts o;
	char *urls[4];
	char dir[64];
	char spool[96], reject[96];
	FILE *acks;
	int status;
	struct deliver_counts c;
};

static void
run_init(struct run *r, const char *url, int in_fd)
{
	memset(r, 0, sizeof(*r));
	deliver_opts_init(&r->o);
	snprintf(r->dir, sizeof(r->dir), "/tmp/test_deliver.XXXXXX");
	assert_non_null(mkdtemp(r->dir));
	snprintf(r->spool, sizeof(r->spool), "%s/spool", r->dir);
	snprintf(r->reject, sizeof(r->reject), "%s/reject", r->dir);
	r->urls[0] = (char *)url;
	r->o.urls = r->urls;
	r->o.nurls = 1;
	r->o.in_fd = in_fd;
	r->o.spool_path = r->spool;
	r->o.reject_path = r->reject;
	assert_non_null(r->acks = tmpfile());
	r->o.acks = r->acks;
}

static void
run_go(struct run *r)
{
	struct deliver *d;
	struct why why;

	if (deliver_new(&d, &r->o, &why) == -1)
		fail_msg("deliver_new: %s", why.msg);
	cli_catch_stop(deliver_wake_fd(d));
	r->status = deliver_run(d);
	cli_catch_stop(-1);
	r->c = *deliver_counts(d);
	deliver_free(d);
	close(r->o.in_fd);
}

/* The lines of a file, NULL when it is missing. */
static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *s = NULL;
	size_t cap = 0;
	ssize_t n;

	if (f == NULL)
		return NULL;
	n = getdelim(&s, &cap, '\0', f);
	fclose(f);
	if (n < 0) {
		free(s);
		return strdup("");
	}
	return s;
}

static int
count_lines(const char *s)
{
	int n = 0;

	for (; s != NULL && *s != '\0'; s++)
		n += *s == '\n';
	return n;
}

/* The lines in a file; -1 when it is missing. */
static int
file_lines(const char *path)
{
	char *s = slurp(path);
	int n = s != NULL ? count_lines(s) : -1;

	free(s);
	return n;
}

static char *
acks_text(struct run *r)
{
	char *s;
	long len;

	fflush(r->acks);
	len = ftell(r->acks);
	s = calloc(1, (size_t)len + 1);
	rewind(r->acks);
	assert_int_equal(fread(s, 1, (size_t)len, r->acks), (size_t)len);
	return s;
}

static void
run_done(struct run *r)
{
	char cmd[128];

	fclose(r->acks);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", r->dir);
	assert_int_equal(system(cmd), 0);
}

static void
test_run_single_records(void **state)
{
	struct srv s;
	struct run r;
	char *in = records(20, NULL), *acks, *first;

	(void)state;
	srv_start(&s, "route-a");
	run_init(&r, s.url, input_fd(in));
	r.o.parallel = 4;
	run_go(&r);
	assert_int_equal(r.status, SM_EXIT_OK);
	assert_int_equal(s.posts, 20);
	assert_int_equal(s.nids, 20);
	assert_int_equal(s.dups, 0);
	assert_string_equal(s.content_type, "application/json");
	assert_int_equal(r.c.delivered, 20);
	assert_int_equal(r.c.records_in, 20);
	assert_int_equal(r.c.requests, 20);
	acks = acks_text(&r);
	assert_int_equal(count_lines(acks), 20);
	first = strstr(acks, "\"request\":1,");
	assert_non_null(first);
	assert_non_null(strstr(acks, "\"records\":1,\"status\":200,"
	    "\"latency_ms\":"));
	assert_non_null(strstr(acks, "\"endpoint\":\"http://127.0.0.1:"));
	assert_non_null(strstr(acks, "\"api\":\"route-a\",\"attempts\":1,"
	    "\"stored\":1,\"duplicates\":0}\n"));
	/* nothing failed: the spool and the reject file stay empty */
	assert_int_equal(file_lines(r.spool), 0);
	assert_int_equal(file_lines(r.reject), 0);
	free(acks);
	free(in);
	run_done(&r);
	srv_stop(&s);
}

static void
test_run_batches(void **state)
{
	static const int want[] = { 3, 3, 3, 1 };
	struct srv s;
	struct run r;
	char *in = records(10, NULL);
	int i;

	(void)state;
	srv_start(&s, "route-a");
	run_init(&r, s.url, input_fd(in));
	r.o.batch = 3;
	run_go(&r);
	assert_int_equal(r.status, SM_EXIT_OK);
	assert_int_equal(s.posts, 4);
	assert_int_equal(s.nids, 10);
	for (i = 0; i < 4; i++)
		assert_int_equal(s.batch_sizes[i], want[i]);
	assert_string_equal(s.content_type, "application/json");
	assert_int_equal(r.c.requests, 4);
	free(in);
	run_done(&r);
	srv_stop(&s);
}

static void
test_run_ndjson_headers(void **state)
{
	struct srv s;
	struct run r;
	char *in = records(10, NULL), *acks;
	char tok[128];
	FILE *f;

	(void)state;
	srv_start(&s, "route-a");
	run_init(&r, s.url, input_fd(in));
	r.o.batch = 4;
	r.o.ndjson = true;
	r.o.parallel = 2;
	r.o.headers[r.o.nheaders++] = "X-Test: yes";
	snprintf(tok, sizeof(tok), "%s/token", r.dir);
	assert_non_null(f = fopen(tok, "w"));
	fputs("s3cret \n", f);
	fclose(f);
	r.o.token_file = tok;
	run_go(&r);
	assert_int_equal(r.status, SM_EXIT_OK);
	assert_int_equal(s.posts, 3);
	assert_int_equal(s.nids, 10);
	assert_string_equal(s.content_type, "application/x-ndjson");
	assert_string_equal(s.auth, "Bearer s3cret");
	assert_string_equal(s.custom, "yes");
	acks = acks_text(&r);
	assert_non_null(strstr(acks, "\"records\":4,"));
	assert_non_null(strstr(acks, "\"records\":2,"));
	free(acks);
	free(in);
	run_done(&r);
	srv_stop(&s);
}

static void
test_run_keeps_ids(void **state)
{
	struct srv s;
	struct run r;

	(void)state;
	srv_start(&s, "route-a");
	run_init(&r, s.url, input_fd("{\"id\":\"" ID1 "\",\"n\":1}\n"
	    "{\"id\":\"" ID1 "\",\"n\":1}\n"));
	run_go(&r);
	assert_int_equal(r.status, SM_EXIT_OK);
	assert_int_equal(s.nids, 1);
	assert_string_equal(s.ids[0], ID1);
	/* the receiver counts the second as a duplicate: still delivered */
	assert_int_equal(s.dups, 1);
	assert_int_equal(r.c.delivered, 2);
	run_done(&r);
	srv_stop(&s);
}

static void
test_run_retries_5xx(void **state)
{
	struct srv s;
	struct run r;
	char *in = records(3, NULL), *acks;

	(void)state;
	srv_start(&s, "route-a");
	s.fail_first = 2;
	run_init(&r, s.url, input_fd(in));
	run_go(&r);
	assert_int_equal(r.status, SM_EXIT_OK);
	assert_int_equal(s.posts, 5);
	assert_int_equal(s.nids, 3);
	assert_int_equal(r.c.retried, 2);
	assert_int_equal(r.c.failed_over, 0);
	acks = acks_text(&r);
	assert_non_null(strstr(acks, "\"request\":1,\"records\":1,"
	    "\"status\":200,"));
	assert_non_null(strstr(acks, "\"attempts\":3,"));
	free(acks);
	free(in);
	run_done(&r);
	srv_stop(&s);
}

static void
test_run_retry_after(void **state)
{
	struct srv s;
	struct run r;
	char *in = records(1, NULL);

	(void)state;
	srv_start(&s, "route-a");
	s.fail_first = 1;
	s.retry_after = 1;
	run_init(&r, s.url, input_fd(in));
	run_go(&r);
	assert_int_equal(r.status, SM_EXIT_OK);
	assert_int_equal(s.posts, 2);
	assert_int_equal(s.nids, 1);
	/* the backoff alone would be 50-100 ms: Retry-After won */
	assert_true(s.post_ms[1] - s.post_ms[0] >= 990);
	free(in);
	run_done(&r);
	srv_stop(&s);
}

static void
test_run_refused_record_in_batch(void **state)
{
	static const int bad[] = { 3, 7, -1 };
	struct srv s;
	struct run r;
	char *in = records(10, bad), *rej, *acks;

	(void)state;
	srv_start(&s, "route-a");
	run_init(&r, s.url, input_fd(in));
	r.o.batch = 5;
	run_go(&r);
	assert_int_equal(r.status, SM_EXIT_PARTIAL);
	/* both batches refused once, then re-sent without the bad record */
	assert_int_equal(s.posts, 4);
	assert_int_equal(s.nids, 8);
	assert_int_equal(r.c.delivered, 8);
	assert_int_equal(r.c.rejected, 2);
	assert_int_equal(r.c.retried, 0);
	rej = slurp(r.reject);
	assert_int_equal(count_lines(rej), 2);
	assert_non_null(strstr(rej, "{\"line\":4,\"request\":1,\"status\":400,"
	    "\"endpoint\":\"http://127.0.0.1:"));
	assert_non_null(strstr(rej, ",\"reason\":\"bad: 3\",\"record\":"
	    "{\"id\":\""));
	assert_non_null(strstr(rej, "\",\"n\":3,\"bad\":3}}\n"));
	assert_non_null(strstr(rej, "{\"line\":8,\"request\":2,"));
	acks = acks_text(&r);
	assert_int_equal(count_lines(acks), 2);
	assert_non_null(strstr(acks, "\"records\":4,\"status\":200,"));
	assert_non_null(strstr(acks, "\"attempts\":2,\"stored\":4,"
	    "\"duplicates\":0,\"rejected\":1}"));
	free(acks);
	free(rej);
	free(in);
	run_done(&r);
	srv_stop(&s);
}

static void
test_run_refused_all(void **state)
{
	struct srv s;
	struct run r;
	char *in = records(3, NULL), *rej;

	(void)state;
	srv_start(&s, "route-a");
	s.status_all = 401;
	run_init(&r, s.url, input_fd(in));
	run_go(&r);
	assert_int_equal(r.status, SM_EXIT_PARTIAL);
	/* a 4xx is never retried */
	assert_int_equal(s.posts, 3);
	assert_int_equal(r.c.rejected, 3);
	assert_int_equal(r.c.retried, 0);
	rej = slurp(r.reject);
	assert_int_equal(count_lines(rej), 3);
	assert_non_null(strstr(rej, "\"status\":401,"));
	assert_non_null(strstr(rej, "\"reason\":\"not today\""));
	free(rej);
	free(in);
	run_done(&r);
	srv_stop(&s);
}

static void
test_run_bad_lines(void **state)
{
	struct srv s;
	struct run r;
	char *rej;

	(void)state;
	srv_start(&s, "route-a");
	run_init(&r, s.url, input_fd("{\"n\":1}\nnot json\n\n[1]\n"
	    "{\"n\":2}\n"));
	r.o.batch = 10;
	run_go(&r);
	assert_int_equal(r.status, SM_EXIT_PARTIAL);
	assert_int_equal(s.nids, 2);
	assert_int_equal(r.c.bad_lines, 2);
	assert_int_equal(r.c.records_in, 2);
	rej = slurp(r.reject);
	assert_int_equal(count_lines(rej), 2);
	assert_non_null(strstr(rej, "{\"line\":2,\"reason\":\"invalid JSON at "
	    "column 2: "));
	assert_non_null(strstr(rej, "\"text\":\"not json\"}\n"));
	assert_non_null(strstr(rej, "{\"line\":4,\"reason\":\"not a JSON "
	    "object but an array\",\"text\":\"[1]\"}\n"));
	free(rej);
	run_done(&r);
	srv_stop(&s);
}

static void
test_run_unreachable_spools(void **state)
{
	struct srv s;
	struct run r, replay;
	char url[64];
	char *in = records(5, NULL), *spool;
	int i;

	(void)state;
	dead_url(url, sizeof(url));
	run_init(&r, url, input_fd(in));
	r.o.batch = 2;
	r.o.parallel = 3;
	r.o.max_time_ms = 300;
	run_go(&r);
	assert_int_equal(r.status, SM_EXIT_UNAVAILABLE);
	assert_int_equal(r.c.spooled, 5);
	assert_int_equal(r.c.delivered, 0);
	assert_true(r.c.retried > 0);
	spool = slurp(r.spool);
	assert_int_equal(count_lines(spool), 5);
	assert_int_equal(strncmp(spool, "{\"id\":\"", 7), 0);

	/* the spool replays through the same engine, ids unchanged */
	srv_start(&s, "route-a");
	run_init(&replay, s.url, input_fd(spool));
	run_go(&replay);
	assert_int_equal(replay.status, SM_EXIT_OK);
	assert_int_equal(s.nids, 5);
	for (i = 0; i < 5; i++)
		assert_non_null(strstr(spool, s.ids[i]));
	free(spool);
	free(in);
	run_done(&replay);
	run_done(&r);
	srv_stop(&s);
}

static void
test_run_gives_up(void **state)
{
	struct srv s;
	struct run r;
	char *in = records(2, NULL);

	(void)state;
	srv_start(&s, "route-a");
	s.fail_first = 1000;
	run_init(&r, s.url, input_fd(in));
	r.o.retries = 2;
	run_go(&r);
	/* the receiver answered, so it is not "unreachable" */
	assert_int_equal(r.status, SM_EXIT_PARTIAL);
	assert_int_equal(s.posts, 6);
	assert_int_equal(r.c.spooled, 2);
	assert_int_equal(file_lines(r.spool), 2);
	free(in);
	run_done(&r);
	srv_stop(&s);
}

static void
test_run_split_alternates(void **state)
{
	struct srv a, b;
	struct run r;
	char *in = records(10, NULL), *acks;

	(void)state;
	srv_start(&a, "route-a");
	srv_start(&b, "route-b");
	run_init(&r, a.url, input_fd(in));
	r.urls[1] = b.url;
	r.o.nurls = 2;
	r.o.parallel = 3;
	r.o.health_interval_ms = 1000;
	run_go(&r);
	assert_int_equal(r.status, SM_EXIT_OK);
	assert_int_equal(a.nids, 5);
	assert_int_equal(b.nids, 5);
	assert_int_equal(r.c.per_ep[0], 5);
	assert_int_equal(r.c.per_ep[1], 5);
	acks = acks_text(&r);
	assert_non_null(strstr(acks, "\"request\":1,\"records\":1,"
	    "\"status\":200"));
	assert_non_null(strstr(acks, "\"api\":\"route-b\""));
	free(acks);
	free(in);
	run_done(&r);
	srv_stop(&a);
	srv_stop(&b);
}

static void
test_run_split_fails_over(void **state)
{
	struct srv b;
	struct run r;
	char url[64];
	char *in = records(10, NULL);

	(void)state;
	dead_url(url, sizeof(url));
	srv_start(&b, "route-b");
	run_init(&r, url, input_fd(in));
	r.urls[1] = b.url;
	r.o.nurls = 2;
	run_go(&r);
	assert_int_equal(r.status, SM_EXIT_OK);
	assert_int_equal(b.nids, 10);
	assert_int_equal(r.c.per_ep[1], 10);
	/* one request found a out; it stayed out for the rest */
	assert_int_equal(r.c.failed_over, 1);
	assert_int_equal(r.c.retried, 1);
	free(in);
	run_done(&r);
	srv_stop(&b);
}

/*
 * --metrics-file: the counts of a split with one endpoint dead, in the
 * textfile format, left with running 0 and no temporary file behind.
 */
static void
test_run_metrics_file(void **state)
{
	struct srv b;
	struct run r;
	struct why why;
	char url[64], path[128], tmp[136], *in = records(10, NULL), *text;

	(void)state;
	dead_url(url, sizeof(url));
	srv_start(&b, "route-b");
	run_init(&r, url, input_fd(in));
	r.urls[1] = b.url;
	r.o.nurls = 2;
	snprintf(path, sizeof(path), "%s/s1.prom", r.dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	r.o.metrics_path = path;
	run_go(&r);
	assert_int_equal(r.status, SM_EXIT_OK);
	assert_non_null(text = slurp(path));
	assert_non_null(strstr(text, "# TYPE sm_sender_running gauge\n"
	    "sm_sender_running{program=\"test_deliver\",sender=\"s1\"} 0\n"));
	assert_non_null(strstr(text, "\nsm_sender_records_read_total{program="
	    "\"test_deliver\",sender=\"s1\"} 10\n"));
	assert_non_null(strstr(text, "\nsm_sender_records_acknowledged_total{"
	    "program=\"test_deliver\",sender=\"s1\"} 10\n"));
	assert_non_null(strstr(text, "\nsm_sender_requests_sent_total{"
	    "program=\"test_deliver\",sender=\"s1\"} 11\n"));
	assert_non_null(strstr(text, "\nsm_sender_requests_failed_over_total{"
	    "program=\"test_deliver\",sender=\"s1\"} 1\n"));
	assert_non_null(strstr(text, ",endpoint=\"a\",url=\""));
	assert_non_null(strstr(text, "\nsm_sender_endpoint_up{program="
	    "\"test_deliver\",sender=\"s1\",endpoint=\"a\",url=\"http://"));
	assert_non_null(strstr(text, "/metrics\"} 0\nsm_sender_endpoint_up{"));
	assert_non_null(strstr(text, "endpoint=\"b\",url=\"http://"));
	assert_int_equal(access(tmp, F_OK), -1);
	free(text);
	/* an interval alone is refused; a file that cannot be is too */
	r.o.metrics_path = NULL;
	r.o.metrics_interval_ms = 1000;
	assert_int_equal(deliver_opts_check(&r.o, &why), -1);
	assert_string_equal(why.msg, "--metrics-interval wants --metrics-file");
	free(in);
	run_done(&r);
	srv_stop(&b);
}

/* Input arriving over time, through a pipe. */
struct feeder {
	int fd;
	const char *parts[4];
	int pause_ms;
	bool signal_at_end;	/* SIGINT instead of closing */
	void (*between)(void *);	/* called before each later part */
	void *arg;
	pthread_t main;		/* where the SIGINT goes */
};

static void *
feed(void *arg)
{
	struct feeder *f = arg;
	int i;

	for (i = 0; i < 4 && f->parts[i] != NULL; i++) {
		if (i > 0) {
			usleep((useconds_t)f->pause_ms * 1000);
			if (f->between != NULL)
				f->between(f->arg);
		}
		assert_true(write(f->fd, f->parts[i], strlen(f->parts[i])) > 0);
	}
	if (f->signal_at_end) {
		usleep((useconds_t)f->pause_ms * 1000);
		/* to the thread that set the handler up, as a real one */
		pthread_kill(f->main, SIGINT);
		usleep(200 * 1000);
	}
	close(f->fd);
	return NULL;
}

static void
run_fed(struct run *r, struct feeder *f)
{
	pthread_t t;
	int p[2];

	assert_int_equal(pipe(p), 0);
	f->fd = p[1];
	f->main = pthread_self();
	r->o.in_fd = p[0];
	assert_int_equal(pthread_create(&t, NULL, feed, f), 0);
	run_go(r);
	pthread_join(t, NULL);
}

static void
test_run_linger(void **state)
{
	struct feeder f = { .parts = { "{\"n\":1}\n{\"n\":2}\n",
	    "{\"n\":3}\n{\"n\":4}\n" }, .pause_ms = 400 };
	struct srv s;
	struct run r;

	(void)state;
	srv_start(&s, "route-a");
	/* a pause longer than --linger: the partial batch goes alone */
	run_init(&r, s.url, -1);
	r.o.batch = 10;
	r.o.linger_ms = 50;
	run_fed(&r, &f);
	assert_int_equal(r.status, SM_EXIT_OK);
	assert_int_equal(s.posts, 2);
	assert_int_equal(s.batch_sizes[0], 2);
	assert_int_equal(s.batch_sizes[1], 2);
	run_done(&r);
	srv_stop(&s);

	/* a pause shorter than --linger: one batch */
	srv_start(&s, "route-a");
	run_init(&r, s.url, -1);
	r.o.batch = 10;
	r.o.linger_ms = 5000;
	run_fed(&r, &f);
	assert_int_equal(r.status, SM_EXIT_OK);
	assert_int_equal(s.posts, 1);
	assert_int_equal(s.batch_sizes[0], 4);
	run_done(&r);
	srv_stop(&s);
}

static void
test_run_interrupted(void **state)
{
	struct feeder f = { .parts = { "{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n" },
	    .pause_ms = 300, .signal_at_end = true };
	struct srv s;
	struct run r;
	char *spool;

	(void)state;
	srv_start(&s, "route-a");
	run_init(&r, s.url, -1);
	r.o.batch = 2;
	r.o.linger_ms = 60000;
	run_fed(&r, &f);
	/* the full batch went; the one still lingering was spooled */
	assert_int_equal(r.status, SM_EXIT_PARTIAL);
	assert_int_equal(s.nids, 2);
	assert_int_equal(r.c.spooled, 1);
	spool = slurp(r.spool);
	assert_int_equal(count_lines(spool), 1);
	assert_non_null(strstr(spool, "\"n\":3}\n"));
	free(spool);
	run_done(&r);
	srv_stop(&s);
}

struct revive {
	struct srv srv;
	unsigned port;
};

static void
revive(void *arg)
{
	struct revive *r = arg;

	srv_start_at(&r->srv, "route-a", r->port);
}

static void
test_run_split_passive_recovery(void **state)
{
	struct feeder f = { .parts = { "{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n",
	    "{\"n\":4}\n{\"n\":5}\n{\"n\":6}\n{\"n\":7}\n" },
	    .pause_ms = 600, .between = revive };
	struct revive a;
	struct srv b;
	struct run r;
	char url[64];

	(void)state;
	/* a is down at first, and comes up on its port after a while */
	dead_url(url, sizeof(url));
	a.port = (unsigned)atoi(strrchr(url, ':') + 1);
	f.arg = &a;
	srv_start(&b, "route-b");
	run_init(&r, url, -1);
	r.urls[1] = b.url;
	r.o.nurls = 2;
	r.o.health_interval_ms = 0;	/* passive only: trials bring it back */
	r.o.fail_timeout_ms = 300;
	run_fed(&r, &f);
	assert_int_equal(r.status, SM_EXIT_OK);
	assert_int_equal(a.srv.nids + b.nids, 7);
	/* the first went to a, failed over; a was out, then taken back */
	assert_true(r.c.failed_over >= 1);
	assert_true(a.srv.nids >= 1);
	assert_int_equal(r.c.per_ep[0], (unsigned long)a.srv.nids);
	run_done(&r);
	srv_stop(&a.srv);
	srv_stop(&b);
}

static void
test_new_rejects_setup(void **state)
{
	struct deliver_opts o;
	struct deliver *d;
	struct why why;
	char *urls[] = { "http://127.0.0.1:1/metrics" };

	(void)state;
	deliver_opts_init(&o);
	o.urls = urls;
	o.nurls = 1;
	o.in_fd = input_fd("");
	o.token_file = "/nonexistent/token";
	assert_int_equal(deliver_new(&d, &o, &why), -1);
	assert_string_equal(why.msg,
	    "--token-file: /nonexistent/token: No such "
	    "file or directory");
	deliver_free(d);
	o.token_file = NULL;
	o.spool_path = "/nonexistent/spool";
	assert_int_equal(deliver_new(&d, &o, &why), -1);
	assert_string_equal(why.msg,
	    "--spool: /nonexistent/spool: No such file "
	    "or directory");
	deliver_free(d);
	close(o.in_fd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_parse_refusal),
		cmocka_unit_test(test_health_url),
		cmocka_unit_test(test_stats_format),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_run_single_records),
		cmocka_unit_test(test_run_batches),
		cmocka_unit_test(test_run_ndjson_headers),
		cmocka_unit_test(test_run_keeps_ids),
		cmocka_unit_test(test_run_retries_5xx),
		cmocka_unit_test(test_run_retry_after),
		cmocka_unit_test(test_run_refused_record_in_batch),
		cmocka_unit_test(test_run_refused_all),
		cmocka_unit_test(test_run_bad_lines),
		cmocka_unit_test(test_run_unreachable_spools),
		cmocka_unit_test(test_run_gives_up),
		cmocka_unit_test(test_run_split_alternates),
		cmocka_unit_test(test_run_split_fails_over),
		cmocka_unit_test(test_run_metrics_file),
		cmocka_unit_test(test_run_split_passive_recovery),
		cmocka_unit_test(test_run_linger),
		cmocka_unit_test(test_run_interrupted),
		cmocka_unit_test(test_new_rejects_setup),
	};
	int rc;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
