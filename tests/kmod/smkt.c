/*
 * smkt: the small tools the sm_metrics guest tests and benchmark need
 * inside a busybox initramfs, linked statically.
 *
 *   smkt init                 PID 1: mount /dev, /proc, /sys, run
 *                             /bin/sh /guest.sh, reap orphans, power off
 *   smkt json FILE|-          parse one line of strict JSON holding an
 *                             object; print its members as key=value
 *   smkt churn N              fork and reap N children, each of which
 *                             starts a thread and exits while it runs
 *   smkt read FILE            read FILE again and again until SIGTERM;
 *                             print how many reads, fail on a bad one
 *   smkt hold N               fork N children that sleep; print "held N"
 *                             and wait for SIGTERM, then kill and reap them
 *   smkt threads N            run N threads in all; print "threads N"
 *                             and wait for SIGTERM
 *   smkt zombie               fork a child that exits, do not reap it;
 *                             print its pid and sleep until killed
 *   smkt time REPS CMD [ARG...]
 *                             run CMD REPS times (stdout to /dev/null);
 *                             print the median and minimum wall time and
 *                             the mean CPU time (user + system) in us
 *
 * Exit status 0 on success, 1 on a failed check, 2 on bad usage.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#define SMKT_BUF (64 * 1024)

static volatile sig_atomic_t smkt_stop;

static void
smkt_on_term(int sig)
{
	(void)sig;
	smkt_stop = 1;
}

/* SIGTERM sets smkt_stop and interrupts blocking calls. */
static void
smkt_catch_term(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = smkt_on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
}

static long
smkt_count(const char *s, long max)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || n < 1 || n > max)
		errx(2, "\"%s\": want a count from 1 to %ld", s, max);
	return n;
}

static double
smkt_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Read all of fd into buf (NUL-terminated); bytes read, or -1. */
static ssize_t
smkt_slurp(int fd, char *buf, size_t size)
{
	size_t len = 0;
	ssize_t n;

	while (len < size - 1) {
		n = read(fd, buf + len, size - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	return (ssize_t)len;
}

static int
smkt_init(void)
{
	static char *const sh_argv[] = { "sh", "/guest.sh", NULL };
	pid_t script, pid;
	int fd, status, script_status = -1;

	/* the initramfs has no /dev/console node: devtmpfs brings one */
	if (mount("devtmpfs", "/dev", "devtmpfs", 0, NULL) == -1 &&
	    errno != EBUSY)
		return 1;
	if ((fd = open("/dev/console", O_RDWR | O_NOCTTY)) >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	if (mount("proc", "/proc", "proc", 0, NULL) == -1)
		warn("mount /proc");
	if (mount("sysfs", "/sys", "sysfs", 0, NULL) == -1)
		warn("mount /sys");
	setenv("PATH", "/bin", 1);
	setenv("HOME", "/", 1);

	if ((script = fork()) == -1)
		err(1, "fork");
	if (script == 0) {
		execv("/bin/sh", sh_argv);
		err(127, "/bin/sh");
	}
	/* as PID 1, every orphan (the zombie test's child) ends up here */
	for (;;) {
		pid = wait(&status);
		if (pid == -1 && errno == EINTR)
			continue;
		if (pid == -1)
			break;
		if (pid == script) {
			script_status = status;
			/* what the script left behind must not keep us */
			kill(-1, SIGKILL);
		}
	}
	printf("smkt-init: guest script %s %d\n",
	    WIFEXITED(script_status) ? "exited with" : "killed by signal",
	    WIFEXITED(script_status) ? WEXITSTATUS(script_status) :
	    WTERMSIG(script_status));
	fflush(stdout);
	sync();
	reboot(RB_POWER_OFF);
	return 1;
}

static int
smkt_json(const char *path)
{
	static char buf[SMKT_BUF];
	struct json_tokener *tok;
	struct json_object *obj;
	enum json_tokener_error jerr;
	ssize_t len;
	size_t end;
	int fd, rc = 1;

	fd = strcmp(path, "-") == 0 ? 0 : open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		err(1, "%s", path);
	if ((len = smkt_slurp(fd, buf, sizeof(buf))) == -1)
		err(1, "%s", path);
	if (fd != 0)
		close(fd);
	if ((tok = json_tokener_new()) == NULL)
		errx(1, "out of memory");
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	obj = json_tokener_parse_ex(tok, buf, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	if (obj == NULL || jerr != json_tokener_success) {
		warnx("%s: not JSON: %s", path, jerr == json_tokener_continue ?
		    "incomplete" : json_tokener_error_desc(jerr));
		goto out_free;
	}
	if (!json_object_is_type(obj, json_type_object)) {
		warnx("%s: not a JSON object", path);
		goto out_free;
	}
	/* one line: the object, then only the newline that ends it */
	if (buf[end + strspn(buf + end, " \t\r\n")] != '\0' ||
	    len == 0 || strchr(buf, '\n') != buf + len - 1) {
		warnx("%s: want one line: the object and a newline", path);
		goto out_free;
	}
	json_object_object_foreach(obj, key, val) {
		if (json_object_is_type(val, json_type_string))
			printf("%s=%s\n", key, json_object_get_string(val));
		else
			printf("%s=%s\n", key, json_object_to_json_string_ext(
			    val, JSON_C_TO_STRING_PLAIN));
	}
	rc = 0;
out_free:
	json_object_put(obj);
	json_tokener_free(tok);
	return rc;
}

static void *
smkt_spin(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

static int
smkt_churn(long n)
{
	long i, live = 0, bad = 0;
	int status;
	pid_t pid;

	for (i = 0; i < n; i++) {
		if (live >= 8) {
			if (wait(&status) > 0 && (!WIFEXITED(status) ||
			    WEXITSTATUS(status) != 0))
				bad++;
			live--;
		}
		if ((pid = fork()) == -1)
			err(1, "fork %ld", i);
		if (pid == 0) {
			pthread_t t;

			/* exit_group() while a second thread is alive */
			if (pthread_create(&t, NULL, smkt_spin, NULL) != 0)
				_exit(1);
			_exit(0);
		}
		live++;
	}
	while (live > 0) {
		if (wait(&status) > 0 && (!WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0))
			bad++;
		live--;
	}
	printf("churn: %ld children, %ld failed\n", n, bad);
	return bad == 0 ? 0 : 1;
}

static int
smkt_read(const char *path)
{
	static char buf[SMKT_BUF];
	unsigned long reads = 0, bad = 0;
	ssize_t len;
	int fd;

	smkt_catch_term();
	while (!smkt_stop) {
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
			err(1, "%s", path);
		len = smkt_slurp(fd, buf, sizeof(buf));
		close(fd);
		if (len < 2 || buf[0] != '{' || buf[len - 2] != '}' ||
		    buf[len - 1] != '\n') {
			if (bad++ == 0)
				warnx("%s: bad read: \"%s\"", path, buf);
		}
		reads++;
	}
	printf("read: %lu reads of %s, %lu bad\n", reads, path, bad);
	return bad == 0 && reads > 0 ? 0 : 1;
}

static int
smkt_hold(long n)
{
	pid_t *kids;
	long i, got = 0;
	int rc = 0;

	if ((kids = calloc((size_t)n, sizeof(*kids))) == NULL)
		err(1, "calloc");
	smkt_catch_term();
	for (i = 0; i < n && !smkt_stop; i++) {
		if ((kids[i] = fork()) == -1) {
			warn("fork %ld of %ld", i + 1, n);
			rc = 1;
			break;
		}
		if (kids[i] == 0) {
			signal(SIGTERM, SIG_DFL);
			for (;;)
				pause();
		}
		got++;
	}
	printf("held %ld\n", got);
	fflush(stdout);
	while (!smkt_stop && rc == 0)
		pause();
	for (i = 0; i < got; i++)
		kill(kids[i], SIGKILL);
	for (i = 0; i < got; i++)
		while (waitpid(kids[i], NULL, 0) == -1 && errno == EINTR)
			;
	free(kids);
	return rc;
}

static int
smkt_threads(long n)
{
	pthread_t t;
	long i;

	smkt_catch_term();
	for (i = 1; i < n; i++)
		if (pthread_create(&t, NULL, smkt_spin, NULL) != 0)
			errx(1, "pthread_create %ld of %ld", i + 1, n);
	printf("threads %ld\n", n);
	fflush(stdout);
	while (!smkt_stop)
		pause();
	return 0;
}

static int
smkt_zombie(void)
{
	siginfo_t si;
	pid_t pid;

	if ((pid = fork()) == -1)
		err(1, "fork");
	if (pid == 0)
		_exit(0);
	/* wait until it has exited, but leave it unreaped */
	memset(&si, 0, sizeof(si));
	while (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) == -1)
		if (errno != EINTR)
			err(1, "waitid");
	printf("%ld\n", (long)pid);
	fflush(stdout);
	for (;;)
		pause();
}

static int
smkt_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int
smkt_time(long reps, char **cmd)
{
	double *wall, cpu = 0;
	struct rusage ru;
	long i;
	int status, fd;
	pid_t pid;

	if ((wall = calloc((size_t)reps, sizeof(*wall))) == NULL)
		err(1, "calloc");
	for (i = 0; i < reps; i++) {
		double t0 = smkt_now();

		if ((pid = fork()) == -1)
			err(1, "fork");
		if (pid == 0) {
			if ((fd = open("/dev/null", O_WRONLY)) != -1)
				dup2(fd, 1);
			execvp(cmd[0], cmd);
			err(127, "%s", cmd[0]);
		}
		if (wait4(pid, &status, 0, &ru) == -1)
			err(1, "wait4");
		wall[i] = smkt_now() - t0;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			errx(1, "%s: failed (status %d)", cmd[0], status);
		cpu += (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
		    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
	}
	qsort(wall, (size_t)reps, sizeof(*wall), smkt_cmp_double);
	printf("median_us=%.0f min_us=%.0f cpu_mean_us=%.0f reps=%ld\n",
	    wall[reps / 2] * 1e6, wall[0] * 1e6, cpu / (double)reps * 1e6,
	    reps);
	free(wall);
	return 0;
}

static void __attribute__((noreturn))
smkt_usage(void)
{
	fprintf(stderr, "usage: smkt init | json FILE | churn N | read FILE |"
	    " hold N |\n"
	    "            threads N | zombie | time REPS CMD [ARG...]\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	const char *base = strrchr(argv[0], '/');

	base = base == NULL ? argv[0] : base + 1;
	if (strcmp(base, "init") == 0 || getpid() == 1)
		return smkt_init();
	if (argc < 2)
		smkt_usage();
	if (strcmp(argv[1], "json") == 0 && argc == 3)
		return smkt_json(argv[2]);
	if (strcmp(argv[1], "churn") == 0 && argc == 3)
		return smkt_churn(smkt_count(argv[2], 1000000));
	if (strcmp(argv[1], "read") == 0 && argc == 3)
		return smkt_read(argv[2]);
	if (strcmp(argv[1], "hold") == 0 && argc == 3)
		return smkt_hold(smkt_count(argv[2], 1000000));
	if (strcmp(argv[1], "threads") == 0 && argc == 3)
		return smkt_threads(smkt_count(argv[2], 10000));
	if (strcmp(argv[1], "zombie") == 0 && argc == 2)
		return smkt_zombie();
	if (strcmp(argv[1], "time") == 0 && argc >= 4)
		return smkt_time(smkt_count(argv[2], 100000), argv + 3);
	smkt_usage();
}
