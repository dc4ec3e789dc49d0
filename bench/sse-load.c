/*
 * A load client for sm-tail --listen's /events: holds many Server-Sent
 * Events streams from one thread (epoll), writes rows into the table at a
 * steady rate from another, and reports what each stream received and
 * how long after its COMMIT.
 *
 *   sse-load [-c clients] [-i connects] [-r rows] [-t rows/s] [-s slow]
 *       [-p pid] [-w seconds] port
 *
 * Connects -c clients (1000) to 127.0.0.1:port, GET /events?n=0, -i
 * connects in flight at a time (64), and waits for every response header.  Then a writer thread inserts -r rows (300) one by one, each its
 * own autocommit transaction, -t per second (100), into system_metrics of
 * $SM_DB (as every sm command), noting each row's id (LAST_INSERT_ID) and
 * the moment its COMMIT returned (CLOCK_MONOTONIC); each stream's events
 * carry the row id ("id: N"), so a receipt is timed from that COMMIT.
 * -s slow more clients connect with a small receive buffer and never read:
 * sm-tail must cut them off (they fall a ring behind) without holding up
 * the others; at the end each is drained and counted cut when its stream
 * had ended.  -p: sm-tail's pid, for its RSS (idle, then with the
 * clients: the difference per client) and its CPU while the rows flow.
 * -w: how long to wait for the last rows after the last insert (10 s).
 *
 * Prints one line per figure; exits 0 when every reading client got every
 * row (and every slow one was cut), 1 otherwise, 2 on bad usage, 3 when
 * the database or the server cannot be reached.  Not part of `make check`
 * itself: tests/it/tail-fanout.sh runs it small.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <mysql.h>

#include "db.h"

/*
 * Connects in progress at once.  With 256, sm-tail (libmicrohttpd 0.9.75,
 * epoll) sometimes accepted the whole first window and then read none of
 * the requests (each socket 72 bytes unread, its thread in epoll_wait)
 * for 30 s and more; never seen with 64 (bench/RESULTS.md).
 */
#define LOAD_INFLIGHT 64
#define LOAD_CARRY 32		/* bytes of a line kept across reads */
#define LOAD_SLOW_RCVBUF 4096	/* a slow client's receive buffer */

enum load_state { LOAD_CONNECTING, LOAD_HEADER, LOAD_STREAM, LOAD_DONE };

/* Where a stream is in HTTP/1.1's chunked framing. */
enum load_chunk { LOAD_CHUNK_SIZE, LOAD_CHUNK_DATA, LOAD_CHUNK_END };

struct load_client {
	int fd;
	enum load_state state;
	unsigned got;		/* rows of this run received */
	unsigned dup;		/* ... of them more than once */
	size_t carry_len;
	char carry[LOAD_CARRY];
	enum load_chunk chunk;	/* the body is chunked (MHD, HTTP/1.1) */
	size_t chunk_left;	/* LOAD_CHUNK_SIZE: the size so far */
};

static struct load_client *clients;
static uint32_t *recv_us;	/* [client][row]: µs after t0; 0: not yet */
static int64_t *commit_us;	/* [row]: µs after t0 of its COMMIT */
static long nclients, nrows, rate, nslow;
static _Atomic unsigned long long base_id;	/* rows above it are ours */
static _Atomic long inserted;	/* rows committed so far */
static _Atomic int writer_done;
static int64_t t0_ns;
static struct sockaddr_in server;

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static uint32_t
now_us(void)
{
	uint32_t us = (uint32_t)((now_ns() - t0_ns) / 1000);

	return us == 0 ? 1 : us;
}

/* VmRSS of pid in KiB; -1 when unknown. */
static long
rss_kib(long pid)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/status", pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %ld", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/* user + system clock ticks of pid; -1 when unknown. */
static long long
cpu_ticks(long pid)
{
	char path[64], buf[1024], *p;
	unsigned long long ut, st;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if ((fd = open(path, O_RDONLY)) == -1)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* after the command's name, which may hold spaces */
	if ((p = strrchr(buf, ')')) == NULL || sscanf(p + 2,
	    "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
	    &ut, &st) != 2)
		return -1;
	return (long long)(ut + st);
}

/* The writer: -r rows at -t a second, each timed at its COMMIT. */
static void *
writer(void *arg)
{
	MYSQL *m = arg;
	char sql[1024];
	int64_t start;
	long i;

	start = now_ns();
	for (i = 0; i < nrows; i++) {
		int64_t due = start + i * (1000000000LL / rate), t;
		unsigned long long id;

		while ((t = now_ns()) < due) {
			struct timespec ts = { 0, due - t };

			nanosleep(&ts, NULL);
		}
		snprintf(sql, sizeof(sql), "INSERT INTO system_metrics "
		    "(ram_total, ram_free, ram_used, ram_percentage, "
		    "cpu_usage, cpu_free, running_processes, total_processes, "
		    "sleeping_processes, zombie_processes, stopped_processes, "
		    "data_source, sample_id, host, collector, sampled_at, "
		    "ram_available) VALUES (4000, 1000, 2000, 50, 10, 90, 1, "
		    "100, 99, 0, 0, 'bench', UUID(), 'sse-load', 'procfs', "
		    "NOW(3), 2000)");
		if (mysql_query(m, sql) != 0)
			errx(3, "insert: %s", mysql_error(m));
		t = (now_ns() - t0_ns) / 1000;
		id = mysql_insert_id(m);
		if (id <= base_id || id - base_id > (unsigned long long)nrows)
			errx(1, "row id %llu: not in the run's range (another "
			    "writer?)", id);
		commit_us[id - base_id - 1] = t;
		inserted++;
	}
	writer_done = 1;
	return NULL;
}

/* Start client i's connect; 0, or -1 (counted failed). */
static int
start_connect(int ep, long i)
{
	struct load_client *c = &clients[i];
	struct epoll_event ev = { .events = EPOLLOUT, .data.u64 = (uint64_t)i };
	int fd, small = LOAD_SLOW_RCVBUF;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1) {
		warn("socket");
		return -1;
	}
	if (i >= nclients)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	if (connect(fd, (struct sockaddr *)&server, sizeof(server)) == -1 &&
	    errno != EINPROGRESS) {
		warn("connect");
		close(fd);
		return -1;
	}
	c->fd = fd;
	c->state = LOAD_CONNECTING;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == -1)
		err(1, "epoll_ctl");
	return 0;
}

/* A client that could not start: closed, not to be looked at again. */
static void
client_drop(struct load_client *c)
{
	close(c->fd);
	c->fd = -1;
	c->state = LOAD_DONE;
}

/* Note the rows whose "id: N" lines are in p[0..len). */
static void
scan(long i, char *p, size_t len)
{
	struct load_client *c = &clients[i];
	char *end = p + len, *q = p, *nl, *done = p;

	while ((q = memmem(q, (size_t)(end - q), "\nid: ", 5)) != NULL) {
		unsigned long long id;

		if ((nl = memchr(q + 5, '\n', (size_t)(end - q - 5))) == NULL)
			break;
		id = strtoull(q + 5, NULL, 10);
		if (id > base_id && id - base_id <= (unsigned long long)nrows) {
			uint32_t *slot = &recv_us[(size_t)i * (size_t)nrows +
			    (id - base_id - 1)];

			if (*slot == 0) {
				*slot = now_us();
				c->got++;
			} else {
				c->dup++;
			}
		}
		q = done = nl;
	}
	/*
	 * Keep the tail, for a line cut in two by the read, but not an id
	 * line counted already (it would count twice with the next read).
	 */
	len = (size_t)(end - done) < LOAD_CARRY ? (size_t)(end - done) :
	    LOAD_CARRY;
	memcpy(c->carry, end - len, len);
	c->carry_len = len;
}

/*
 * The chunked body's bytes in[0..n) without its framing, into out; how
 * many.  A chunk may end anywhere in an event, even inside an id line:
 * the framing must go before the lines are looked at.
 */
static size_t
dechunk(struct load_client *c, const char *in, size_t n, char *out)
{
	size_t k, got = 0;
	int d;

	while (n > 0) {
		switch (c->chunk) {
		case LOAD_CHUNK_SIZE:
			/* hex digits, extensions ignored, up to the LF */
			if (*in == '\n') {
				c->chunk = LOAD_CHUNK_DATA;
			} else if ((d = *in >= '0' && *in <= '9' ? *in - '0' :
			    *in >= 'a' && *in <= 'f' ? *in - 'a' + 10 :
			    *in >= 'A' && *in <= 'F' ? *in - 'A' + 10 : -1) >=
			    0 && c->chunk_left < ((size_t)1 << 28)) {
				c->chunk_left = c->chunk_left * 16 +
				    (size_t)d;
			}
			in++, n--;
			break;
		case LOAD_CHUNK_DATA:
			k = c->chunk_left < n ? c->chunk_left : n;
			memcpy(out + got, in, k);
			got += k, in += k, n -= k;
			if ((c->chunk_left -= k) == 0)
				c->chunk = LOAD_CHUNK_END;
			break;
		case LOAD_CHUNK_END:
			/* the CRLF after a chunk's data */
			if (*in == '\n') {
				c->chunk = LOAD_CHUNK_SIZE;
				c->chunk_left = 0;
			}
			in++, n--;
			break;
		}
	}
	return got;
}

/* Read what client i has; -1 once its stream ended. */
static int
drain(long i)
{
	static char raw[65536], buf[LOAD_CARRY + sizeof(raw)];
	struct load_client *c = &clients[i];
	const char *body;
	ssize_t n;
	size_t len;

	for (;;) {
		n = read(c->fd, raw, sizeof(raw));
		if (n == 0 || (n == -1 && errno != EAGAIN &&
		    errno != EINTR))
			return -1;
		if (n == -1)
			return 0;
		body = raw;
		len = (size_t)n;
		if (c->state == LOAD_HEADER) {
			char *h;

			if (n < 12 || memcmp(raw, "HTTP/1.1 200", 12) != 0) {
				warnx("client %ld: not a 200: %.40s", i, raw);
				return -1;
			}
			if ((h = memmem(raw, len, "\r\n\r\n", 4)) == NULL)
				errx(1, "client %ld: header in pieces", i);
			if (memmem(raw, (size_t)(h - raw), "chunked", 7) ==
			    NULL)
				errx(1, "client %ld: not chunked", i);
			c->state = LOAD_STREAM;
			c->chunk = LOAD_CHUNK_SIZE;
			c->chunk_left = 0;
			/* the body from a line start */
			c->carry[0] = '\n';
			c->carry_len = 1;
			body = h + 4;
			len = (size_t)(raw + n - body);
		}
		memcpy(buf, c->carry, c->carry_len);
		scan(i, buf, c->carry_len + dechunk(c, body, len,
		    buf + c->carry_len));
	}
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static void
usage(void)
{
	fprintf(stderr, "usage: sse-load [-c clients] [-i connects] "
	    "[-r rows] [-t rows/s] [-s slow] [-p pid] [-w seconds] port\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	struct epoll_event evs[512];
	struct db_config dbc;
	enum db_fault fault;
	struct why why;
	struct rlimit rl;
	pthread_t thr;
	MYSQL *m = NULL;
	MYSQL_RES *res;
	MYSQL_ROW row;
	long pid = 0, wait_s = 10, i, next = 0, inflight = 0, up = 0;
	long window = LOAD_INFLIGHT;
	long failed = 0, total, ended = 0, complete = 0, slow_cut = 0;
	long long cpu0 = 0, cpu1 = 0, self0, self1;
	long rss_idle = -1, rss_conn = -1, rss_end = -1;
	int64_t t_conn, t_rows0 = 0, t_rows1, deadline = 0;
	uint32_t *lat, *per;
	size_t nlat = 0;
	int ep, ch, port, stalls = 0;

	nclients = 1000;
	nrows = 300;
	rate = 100;
	while ((ch = getopt(argc, argv, "c:i:r:t:s:p:w:")) != -1) {
		switch (ch) {
		case 'c': nclients = atol(optarg); break;
		case 'i': window = atol(optarg); break;
		case 'r': nrows = atol(optarg); break;
		case 't': rate = atol(optarg); break;
		case 's': nslow = atol(optarg); break;
		case 'p': pid = atol(optarg); break;
		case 'w': wait_s = atol(optarg); break;
		default: usage();
		}
	}
	if (argc - optind != 1 || nclients < 1 || nrows < 1 || rate < 1 ||
	    rate > 1000000 || nslow < 0 || wait_s < 1 || window < 1)
		usage();
	port = atoi(argv[optind]);
	total = nclients + nslow;
	/* our descriptors: one a client, and a few */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur <
	    (rlim_t)total + 64) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		if (rl.rlim_cur < (rlim_t)total + 64)
			errx(2, "%ld clients: only %llu descriptors allowed",
			    total, (unsigned long long)rl.rlim_cur);
	}
	clients = calloc((size_t)total, sizeof(*clients));
	recv_us = calloc((size_t)total * (size_t)nrows, sizeof(*recv_us));
	commit_us = calloc((size_t)nrows, sizeof(*commit_us));
	if (clients == NULL || recv_us == NULL || commit_us == NULL)
		err(1, "calloc");
	for (i = 0; i < total; i++)
		clients[i].fd = -1;
	server.sin_family = AF_INET;
	server.sin_port = htons((uint16_t)port);
	server.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

	if (mysql_library_init(0, NULL, NULL) != 0)
		errx(1, "mysql_library_init");
	if (db_config_init(&dbc, NULL, getenv("SM_DB_DEFAULTS_FILE"), NULL,
	    NULL, &why) == -1)
		errx(2, "%s", why.msg);
	if ((m = db_connect(&dbc, &why, &fault)) == NULL)
		errx(3, "%s", why.msg);
	if (mysql_query(m, "SELECT COALESCE(MAX(id), 0) FROM system_metrics")
	    != 0 || (res = mysql_store_result(m)) == NULL ||
	    (row = mysql_fetch_row(res)) == NULL)
		errx(3, "the last row id: %s", mysql_error(m));
	base_id = strtoull(row[0], NULL, 10);
	mysql_free_result(res);

	if (pid > 0)
		rss_idle = rss_kib(pid);
	t0_ns = now_ns();
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		err(1, "epoll_create1");
	/* connect them all, a window at a time; each sends its request */
	while (up + failed < total) {
		int n, k;

		while (next < total && inflight < window) {
			if (start_connect(ep, next++) == -1)
				failed++;
			else
				inflight++;
		}
		if ((n = epoll_wait(ep, evs, 512, 5000)) == -1) {
			if (errno == EINTR)
				continue;
			err(1, "epoll_wait");
		}
		if (n == 0 && ++stalls < 6) {
			warnx("%ld of %ld clients not answered for %d s",
			    total - up - failed, total, 5 * stalls);
			continue;
		}
		if (n == 0)
			errx(3, "%ld of %ld clients not answered for 30 s",
			    total - up - failed, total);
		for (k = 0; k < n; k++) {
			long j = (long)evs[k].data.u64;
			struct load_client *c = &clients[j];
			static const char req[] = "GET /events?n=0 HTTP/1.1\r\n"
			    "Host: 127.0.0.1\r\nAccept: text/event-stream\r\n"
			    "\r\n";
			struct epoll_event ev = { .events = EPOLLIN,
			    .data.u64 = (uint64_t)j };
			int e = 0;
			socklen_t el = sizeof(e);

			if (c->state == LOAD_CONNECTING) {
				getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e,
				    &el);
				if (e != 0 || write(c->fd, req,
				    sizeof(req) - 1) != sizeof(req) - 1) {
					warnx("client %ld: %s", j,
					    strerror(e != 0 ? e : errno));
					client_drop(c);
					failed++;
					inflight--;
					continue;
				}
				c->state = LOAD_HEADER;
				if (j >= nclients) {
					/* slow: never read again */
					epoll_ctl(ep, EPOLL_CTL_DEL, c->fd,
					    NULL);
					up++;
					inflight--;
					continue;
				}
				epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
				continue;
			}
			if (c->state == LOAD_STREAM)
				continue;	/* up already: read later */
			if (drain(j) == -1) {
				warnx("client %ld: closed while starting", j);
				client_drop(c);
				failed++;
				inflight--;
				continue;
			}
			if (c->state == LOAD_STREAM) {
				up++;
				inflight--;
			}
		}
	}
	t_conn = now_ns();
	printf("clients: %ld streams up in %.2f s, %ld failed; %ld slow "
	    "(never read)\n", up, (double)(t_conn - t0_ns) / 1e9, failed,
	    nslow);
	if (pid > 0) {
		/* the pools and buffers touched by the first bytes */
		sleep(1);
		rss_conn = rss_kib(pid);
		printf("server RSS: idle %.1f MiB, with %ld clients %.1f MiB: "
		    "%.2f KiB per client\n", rss_idle / 1024.0, total,
		    rss_conn / 1024.0, (double)(rss_conn - rss_idle) /
		    (double)total);
		cpu0 = cpu_ticks(pid);
	}
	self0 = cpu_ticks(getpid());
	t_rows0 = now_ns();
	if (pthread_create(&thr, NULL, writer, m) != 0)
		errx(1, "pthread_create");

	/* read until every reading client has every row, or -w after */
	for (;;) {
		int n, k;

		if (writer_done && deadline == 0) {
			deadline = now_ns() + wait_s * 1000000000LL;
			/* those complete before the writer finished */
			for (i = 0; i < nclients; i++) {
				struct load_client *c = &clients[i];

				if (c->state == LOAD_STREAM &&
				    c->got == (unsigned)nrows) {
					epoll_ctl(ep, EPOLL_CTL_DEL, c->fd,
					    NULL);
					c->state = LOAD_DONE;
					complete++;
				}
			}
		}
		if (deadline != 0 && now_ns() >= deadline)
			break;
		if (writer_done && complete + ended >= nclients)
			break;
		if ((n = epoll_wait(ep, evs, 512, 100)) == -1) {
			if (errno == EINTR)
				continue;
			err(1, "epoll_wait");
		}
		for (k = 0; k < n; k++) {
			long j = (long)evs[k].data.u64;
			struct load_client *c = &clients[j];

			if (c->state == LOAD_DONE)
				continue;
			if (drain(j) == -1) {
				epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
				c->state = LOAD_DONE;
				ended++;
			}
			if (c->got == (unsigned)nrows && writer_done &&
			    c->state != LOAD_DONE) {
				/* counted once: no more events wanted */
				epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
				c->state = LOAD_DONE;
				complete++;
			}
		}
	}
	t_rows1 = now_ns();
	pthread_join(thr, NULL);
	self1 = cpu_ticks(getpid());
	if (pid > 0) {
		cpu1 = cpu_ticks(pid);
		rss_end = rss_kib(pid);
	}

	/* the slow ones: each cut off by now, its stream ended */
	for (i = nclients; i < total; i++) {
		struct load_client *c = &clients[i];
		int64_t until = now_ns() + 2000000000LL;

		if (c->state == LOAD_DONE)
			continue;
		c->state = LOAD_STREAM;
		for (;;) {
			int r = drain(i);

			if (r == -1) {
				slow_cut++;
				break;
			}
			if (now_ns() >= until)
				break;
			usleep(1000);
		}
	}

	/* receipts, and their latencies from the COMMIT */
	per = calloc((size_t)nclients, sizeof(*per));
	lat = malloc((size_t)nclients * (size_t)nrows * sizeof(*lat));
	if (per == NULL || lat == NULL)
		err(1, "malloc");
	for (i = 0; i < nclients; i++) {
		long r;

		per[i] = clients[i].got;
		for (r = 0; r < nrows; r++) {
			uint32_t t = recv_us[(size_t)i * (size_t)nrows + r];

			if (t != 0 && commit_us[r] != 0)
				lat[nlat++] = t > commit_us[r] ?
				    (uint32_t)(t - commit_us[r]) : 0;
		}
	}
	qsort(per, (size_t)nclients, sizeof(*per), cmp_u32);
	qsort(lat, nlat, sizeof(*lat), cmp_u32);
	{
		long all = 0, dups = 0;

		for (i = 0; i < nclients; i++) {
			all += clients[i].got == (unsigned)nrows;
			dups += clients[i].dup;
		}
		printf("rows: %ld inserted in %.2f s (%.1f/s asked)\n",
		    (long)inserted, (double)(t_rows1 - t_rows0) / 1e9,
		    (double)rate);
		printf("received: %ld of %ld clients got all %ld rows; per "
		    "client min %u median %u max %u; %ld duplicates; %ld "
		    "streams ended early\n", all, nclients, nrows, per[0],
		    per[nclients / 2], per[nclients - 1], dups, ended);
		if (nlat > 0)
			printf("latency, COMMIT to event, %zu receipts: p50 "
			    "%.1f p90 %.1f p99 %.1f p99.9 %.1f max %.1f ms\n",
			    nlat, lat[nlat / 2] / 1e3,
			    lat[nlat * 90 / 100] / 1e3,
			    lat[nlat * 99 / 100] / 1e3,
			    lat[nlat * 999 / 1000] / 1e3,
			    lat[nlat - 1] / 1e3);
		if (nslow > 0)
			printf("slow clients: %ld of %ld cut off\n", slow_cut,
			    nslow);
		if (pid > 0)
			printf("server: %.1f%% of a core over %.2f s of rows; "
			    "RSS at the end %.1f MiB, %.2f KiB per client "
			    "above idle\n", 100.0 *
			    (double)(cpu1 - cpu0) / (double)sysconf(
			    _SC_CLK_TCK) / ((double)(t_rows1 - t_rows0) /
			    1e9), (double)(t_rows1 - t_rows0) / 1e9,
			    rss_end / 1024.0, (double)(rss_end - rss_idle) /
			    (double)total);
		printf("load client: %.1f%% of a core\n", 100.0 *
		    (double)(self1 - self0) / (double)sysconf(_SC_CLK_TCK) /
		    ((double)(t_rows1 - t_rows0) / 1e9));
		fflush(stdout);
		mysql_close(m);
		db_config_free(&dbc);
		mysql_library_end();
		for (i = 0; i < total; i++)
			if (clients[i].fd >= 0)
				close(clients[i].fd);
		close(ep);
		free(per);
		free(lat);
		free(clients);
		free(recv_us);
		free(commit_us);
		return all == nclients && failed == 0 && slow_cut == nslow ?
		    0 : 1;
	}
}
