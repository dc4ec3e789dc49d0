/*
 * post-sink: a receiver that stores nothing, for measuring what sm-post
 * and sm-split can send when the receiver is not the bottleneck.  Answers
 * POST /metrics with 200 and {"stored":N,"duplicates":0,"api":NAME}, N
 * counting the records that sm-post gave an id ({"id":" openings), and
 * GET /health with 200.  Benchmark tool only: never used by the tests.
 *
 *   post-sink PORT-FILE NAME      (listens on 127.0.0.1, a free port)
 *
 * On SIGTERM it prints the requests and records it saw, and exits.
 */
#include <arpa/inet.h>
#include <err.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>

static volatile sig_atomic_t done;
static unsigned long requests, records;
static const char *name;

struct upload {
	unsigned long records;
	char tail[8];		/* the end of the last chunk: a split opening */
	size_t tail_len;
};

static void
on_term(int sig)
{
	(void)sig;
	done = 1;
}

static unsigned long
count_ids(struct upload *u, const char *data, size_t len)
{
	static const char pat[] = "{\"id\":\"";
	char joint[16];
	const char *p = data, *end = data + len;
	unsigned long n = 0;
	size_t take = len < 6 ? len : 6;

	/* an opening across two chunks (7 bytes: never inside 6 of them) */
	memcpy(joint, u->tail, u->tail_len);
	memcpy(joint + u->tail_len, data, take);
	if (memmem(joint, u->tail_len + take, pat, 7) != NULL)
		n++;
	while ((p = memmem(p, (size_t)(end - p), pat, 7)) != NULL) {
		n++;
		p += 7;
	}
	u->tail_len = len < 6 ? len : 6;
	memcpy(u->tail, end - u->tail_len, u->tail_len);
	return n;
}

static enum MHD_Result
reply(struct MHD_Connection *c, unsigned status, const char *body)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body),
	    (void *)body, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result rc;

	MHD_add_response_header(r, "Content-Type", "application/json");
	rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result
handle(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *data,
    size_t *size, void **con_cls)
{
	struct upload *u = *con_cls;
	char answer[256];

	(void)cls;
	(void)version;
	if (strcmp(method, "GET") == 0 && strcmp(url, "/health") == 0)
		return reply(c, 200, "{\"status\":\"ok\"}");
	if (strcmp(method, "POST") != 0 || strcmp(url, "/metrics") != 0)
		return reply(c, 404, "{\"error\":\"not found\"}");
	if (u == NULL) {
		*con_cls = calloc(1, sizeof(*u));
		return *con_cls != NULL ? MHD_YES : MHD_NO;
	}
	if (*size > 0) {
		u->records += count_ids(u, data, *size);
		*size = 0;
		return MHD_YES;
	}
	requests++;
	records += u->records;
	snprintf(answer, sizeof(answer), "{\"stored\":%lu,\"duplicates\":0,"
	    "\"api\":\"%s\"}", u->records, name);
	free(u);
	*con_cls = NULL;
	return reply(c, 200, answer);
}

int
main(int argc, char *argv[])
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	const union MHD_DaemonInfo *info;
	struct MHD_Daemon *d;
	FILE *f;

	if (argc != 3)
		errx(2, "usage: post-sink port-file name");
	name = argv[2];
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	/* one thread: the counters need no lock */
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL,
	    0, NULL, NULL, handle, NULL, MHD_OPTION_SOCK_ADDR, &sa,
	    MHD_OPTION_CONNECTION_LIMIT, 1024U, MHD_OPTION_END);
	if (d == NULL)
		errx(1, "cannot start the daemon");
	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	if ((f = fopen(argv[1], "w")) == NULL)
		err(1, "%s", argv[1]);
	fprintf(f, "%u\n", info->port);
	fclose(f);
	while (!done)
		pause();
	MHD_stop_daemon(d);
	printf("%lu %lu\n", requests, records);
	return 0;
}
