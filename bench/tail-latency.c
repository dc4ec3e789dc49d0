/*
 * Latency from a row's COMMIT to its line on `sm-tail -f` stdout.
 *
 *   tail-latency ROWS MAX_GAP_MS SM-TAIL-ARGV...
 *
 * Starts the given sm-tail command (which must print ndjson), inserts ROWS
 * rows one by one, each in its own transaction (autocommit), waiting a
 * random 0..MAX_GAP_MS between them so that commits fall anywhere within
 * a poll interval, and times each from the return of its COMMIT to the
 * moment its line is read from sm-tail's stdout (CLOCK_MONOTONIC).  The
 * database comes from $SM_DB as for every sm command.  Prints p50, p90,
 * p99 and max in milliseconds; exits 1 when a row never shows up.
 */
#include <err.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <mysql.h>

#include "db.h"

#define TAG "0000beef"

static int64_t *commit_ns, *seen_ns;
static long nrows;
static volatile long seen_count;
static int out_fd;

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Read sm-tail's lines; note when the line of row i arrives. */
static void *
reader(void *arg)
{
	static char buf[1 << 16];
	size_t len = 0;
	ssize_t n;

	(void)arg;
	while ((n = read(out_fd, buf + len, sizeof(buf) - len - 1)) > 0) {
		int64_t t = now_ns();
		char *line = buf, *nl;

		len += (size_t)n;
		buf[len] = '\0';
		while ((nl = strchr(line, '\n')) != NULL) {
			static const char key[] = "\"id\":\"" TAG
			    "-0000-7000-8000-";
			char *p = strstr(line, key);
			long i;

			*nl = '\0';
			/* ids TAG-0000-7000-8000-%012ld */
			if (p != NULL) {
				i = strtol(p + sizeof(key) - 1, NULL, 10);
				if (i >= 0 && i < nrows && seen_ns[i] == 0) {
					seen_ns[i] = t;
					seen_count++;
				}
			}
			line = nl + 1;
		}
		len -= (size_t)(line - buf);
		memmove(buf, line, len);
	}
	return NULL;
}

static int
cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char *argv[])
{
	char sql[1024];
	struct why why;
	struct db_config dbc;
	enum db_fault fault;
	pthread_t thr;
	int64_t *lat, deadline;
	long max_gap, i, missing = 0;
	int pfd[2];
	pid_t pid;
	MYSQL *m;

	if (argc < 4)
		errx(2, "usage: tail-latency rows max-gap-ms sm-tail-argv...");
	nrows = atol(argv[1]);
	max_gap = atol(argv[2]);
	if (nrows <= 0 || max_gap < 0)
		errx(2, "bad rows or gap");
	commit_ns = calloc((size_t)nrows, sizeof(*commit_ns));
	seen_ns = calloc((size_t)nrows, sizeof(*seen_ns));
	lat = calloc((size_t)nrows, sizeof(*lat));
	if (commit_ns == NULL || seen_ns == NULL || lat == NULL)
		err(1, "calloc");
	if (mysql_library_init(0, NULL, NULL) != 0)
		errx(1, "mysql_library_init");
	if (db_config_init(&dbc, NULL, getenv("SM_DB_DEFAULTS_FILE"), NULL,
	    NULL, &why) == -1)
		errx(2, "%s", why.msg);
	if ((m = db_connect(&dbc, &why, &fault)) == NULL)
		errx(3, "%s", why.msg);

	if (pipe(pfd) == -1)
		err(1, "pipe");
	if ((pid = fork()) == -1)
		err(1, "fork");
	if (pid == 0) {
		dup2(pfd[1], STDOUT_FILENO);
		close(pfd[0]);
		close(pfd[1]);
		execvp(argv[3], argv + 3);
		err(127, "%s", argv[3]);
	}
	close(pfd[1]);
	out_fd = pfd[0];
	if (pthread_create(&thr, NULL, reader, NULL) != 0)
		errx(1, "pthread_create");
	/* let sm-tail connect and take its snapshot */
	sleep(2);

	for (i = 0; i < nrows; i++) {
		unsigned r = 0;

		snprintf(sql, sizeof(sql), "INSERT INTO system_metrics "
		    "(ram_total, ram_free, ram_used, ram_percentage, "
		    "cpu_usage, cpu_free, running_processes, total_processes, "
		    "sleeping_processes, zombie_processes, stopped_processes, "
		    "data_source, "
		    "sample_id, host, collector, sampled_at, ram_available) "
		    "VALUES (4000, 1000, 2000, 50, 10, 90, 1, 100, 99, 0, 0, "
		    "'bench', '" TAG "-0000-7000-8000-%012ld', 'bench', "
		    "'procfs', NOW(3), 2000)", i);
		if (mysql_query(m, sql) != 0)
			errx(1, "insert: %s", mysql_error(m));
		commit_ns[i] = now_ns();
		if (max_gap > 0) {
			struct timespec ts;

			if (getrandom(&r, sizeof(r), 0) != sizeof(r))
				r = (unsigned)i * 2654435761u;
			ts.tv_sec = 0;
			ts.tv_nsec = (long)(r % (unsigned)(max_gap * 1000)) *
			    1000;
			nanosleep(&ts, NULL);
		}
	}
	/* the last ones: at most a few seconds more */
	deadline = now_ns() + 5000000000LL;
	while (seen_count < nrows && now_ns() < deadline)
		usleep(10000);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	pthread_join(thr, NULL);

	for (i = 0; i < nrows; i++) {
		if (seen_ns[i] == 0) {
			missing++;
			continue;
		}
		lat[i - missing] = seen_ns[i] - commit_ns[i];
	}
	if (missing > 0)
		warnx("%ld rows never shown", missing);
	if (nrows - missing > 0) {
		long n = nrows - missing;

		qsort(lat, (size_t)n, sizeof(*lat), cmp64);
		printf("rows %ld  p50 %.1f ms  p90 %.1f ms  p99 %.1f ms  "
		    "max %.1f ms\n", n, lat[n / 2] / 1e6,
		    lat[(n * 90) / 100] / 1e6, lat[(n * 99) / 100] / 1e6,
		    lat[n - 1] / 1e6);
	}
	mysql_close(m);
	db_config_free(&dbc);
	mysql_library_end();
	free(commit_ns);
	free(seen_ns);
	free(lat);
	return missing > 0;
}
