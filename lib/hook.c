/*
 * Running a command per event (sm-alert --exec): bounded queue, process
 * groups, time-outs, reporting how each ended (hook.h).
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "hook.h"

extern char **environ;

/*
 * How often a running command is checked for its end.  Polling keeps the
 * caller free of SIGCHLD handling; a command's end is seen within this.
 */
#define HOOK_CHECK_MS 20
#define HOOK_GRACE_MS 2000	/* from SIGTERM to SIGKILL at a stop */

struct hook_job {
	char *line;
	size_t len;
	char label[HOOK_LABEL_MAX];
	char *env[HOOK_ENV_MAX + 1];	/* copies, NULL-terminated */
};

struct hook_child {
	pid_t pid;		/* 0: a free slot */
	int64_t deadline_ms;	/* monotonic */
	bool killed;		/* by us, for overrunning */
	bool stopped;		/* by us, stopping */
	char label[HOOK_LABEL_MAX];
};

struct hook {
	struct hook_config c;
	struct hook_child *kids;
	size_t running;
	struct hook_job queue[HOOK_QUEUE_MAX];	/* a ring */
	size_t qhead, qlen;
	unsigned long failures;
	unsigned long not_run;	/* events dropped by a stop */
};

struct hook *
hook_new(const struct hook_config *c)
{
	struct hook *h;

	if ((h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	h->c = *c;
	if ((h->kids = calloc(c->max_running, sizeof(*h->kids))) == NULL) {
		free(h);
		return NULL;
	}
	return h;
}

static bool
hook_stopping(const struct hook *h)
{
	return h->c.stop != NULL && *h->c.stop;
}

static void
hook_job_free(struct hook_job *j)
{
	size_t i;

	free(j->line);
	for (i = 0; j->env[i] != NULL; i++)
		free(j->env[i]);
	memset(j, 0, sizeof(*j));
}

void
hook_free(struct hook *h)
{
	if (h == NULL)
		return;
	while (h->qlen > 0) {
		hook_job_free(&h->queue[h->qhead]);
		h->qhead = (h->qhead + 1) % HOOK_QUEUE_MAX;
		h->qlen--;
	}
	free(h->kids);
	free(h);
}

static void
hook_fail(struct hook *h, const char *label, const char *what)
{
	h->failures++;
	warnx("--exec: event %s: %s", label, what);
}

/* environ with the job's variables after it (later ones win in getenv). */
static char **
hook_environ(const struct hook_job *j)
{
	size_t n = 0, extra = 0, i;
	char **envp;

	while (environ != NULL && environ[n] != NULL)
		n++;
	while (j->env[extra] != NULL)
		extra++;
	if ((envp = calloc(n + extra + 1, sizeof(*envp))) == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		envp[i] = environ[i];
	for (i = 0; i < extra; i++)
		envp[n + i] = j->env[i];
	return envp;
}

/* The supervisor's parent died: so do the command and its children. */
static void
hook_orphaned(int sig)
{
	(void)sig;
	kill(0, SIGKILL);
}

/*
 * In the child: a supervisor leading a process group of its own, which
 * runs the command as its child, its stdin and stdout in place, and exits
 * as it did.  The kernel signals it when sm-alert dies, even of SIGKILL
 * (PR_SET_PDEATHSIG): it then kills its group, the command and whatever
 * that started.  The group's SIGTERM, SIGINT and SIGHUP are for the
 * command; the supervisor follows it.
 */
static void
hook_supervise(const struct hook *h, char **envp, pid_t parent)
{
	char *argv[] = { "sh", "-c", (char *)h->c.cmd, NULL };
	/* the command's signals at their defaults; the first 3 ignored here */
	static const int deflt[] = { SIGINT, SIGTERM, SIGHUP, SIGPIPE,
	    SIGUSR1 };
	struct sigaction sa;
	sigset_t none;
	int status;
	size_t i;
	pid_t pid;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = SIG_IGN;
	for (i = 0; i < 3; i++)
		sigaction(deflt[i], &sa, NULL);
	sa.sa_handler = hook_orphaned;
	sigaction(SIGUSR1, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (prctl(PR_SET_PDEATHSIG, SIGUSR1) == -1 || getppid() != parent)
		kill(0, SIGKILL);
	if ((pid = fork()) == -1) {
		warn("--exec: fork");
		_exit(127);
	}
	if (pid == 0) {
		sa.sa_handler = SIG_DFL;
		for (i = 0; i < sizeof(deflt) / sizeof(deflt[0]); i++)
			sigaction(deflt[i], &sa, NULL);
		execve("/bin/sh", argv, envp);
		warn("--exec: cannot run /bin/sh");
		_exit(127);
	}
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			_exit(127);
	if (WIFSIGNALED(status)) {
		sa.sa_handler = SIG_DFL;
		sigaction(WTERMSIG(status), &sa, NULL);
		raise(WTERMSIG(status));
	}
	_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 127);
}

/* Start j in the free slot k; reports and counts a failure itself. */
static void
hook_start(struct hook *h, struct hook_job *j, struct hook_child *k)
{
	pid_t pid, parent = getpid();
	char **envp, why[128];
	int fds[2];

	if ((envp = hook_environ(j)) == NULL) {
		hook_fail(h, j->label, "out of memory");
		return;
	}
	if (pipe2(fds, O_CLOEXEC) == -1) {
		snprintf(why, sizeof(why), "pipe: %s", strerror(errno));
		hook_fail(h, j->label, why);
		goto free_envp;
	}
	if ((pid = fork()) == -1) {
		snprintf(why, sizeof(why), "cannot start: fork: %s",
		    strerror(errno));
		hook_fail(h, j->label, why);
		close(fds[0]);
		goto close_pipe;
	}
	if (pid == 0) {
		/* a group of its own, so a kill reaches what the shell ran */
		setpgid(0, 0);
		close(fds[1]);
		/* our stdout is the event stream: the command writes to 2 */
		if (dup2(fds[0], STDIN_FILENO) == -1 ||
		    dup2(STDERR_FILENO, STDOUT_FILENO) == -1)
			_exit(127);
		close(fds[0]);
		hook_supervise(h, envp, parent);
	}
	/* either side may run first: the group exists before any kill */
	setpgid(pid, pid);
	close(fds[0]);
	/*
	 * The pipe is empty and the line shorter than PIPE_BUF: one write,
	 * never blocking.  A command that exits unread gives EPIPE: its
	 * exit status tells the rest.
	 */
	if (write(fds[1], j->line, j->len) == -1 && errno != EPIPE)
		warn("--exec: event %s: writing to the command", j->label);
	k->pid = pid;
	k->killed = k->stopped = false;
	k->deadline_ms = clock_mono_ms() + h->c.timeout_ms;
	memcpy(k->label, j->label, sizeof(k->label));
	h->running++;

close_pipe:
	close(fds[1]);
free_envp:
	free(envp);
}

static struct hook_child *
hook_free_slot(struct hook *h)
{
	size_t i;

	for (i = 0; i < h->c.max_running; i++)
		if (h->kids[i].pid == 0)
			return &h->kids[i];
	return NULL;
}

int
hook_run(struct hook *h, const char *line, size_t len, const char *label,
    const char *const env[])
{
	struct hook_job job, *j;
	struct hook_child *k;
	size_t i;

	memset(&job, 0, sizeof(job));
	snprintf(job.label, sizeof(job.label), "%s", label);
	if (len >= PIPE_BUF) {
		hook_fail(h, job.label, "event too long for a pipe");
		return -1;
	}
	/* rather than drop an event, wait: each command has its time */
	while (h->qlen == HOOK_QUEUE_MAX) {
		if (hook_stopping(h)) {
			h->not_run++;
			h->failures++;
			return 0;
		}
		hook_poll(h);
		if (h->qlen == HOOK_QUEUE_MAX)
			poll(NULL, 0, HOOK_CHECK_MS);
	}
	if ((job.line = malloc(len > 0 ? len : 1)) == NULL)
		goto no_memory;
	memcpy(job.line, line, len);
	job.len = len;
	for (i = 0; env != NULL && env[i] != NULL && i < HOOK_ENV_MAX; i++)
		if ((job.env[i] = strdup(env[i])) == NULL)
			goto no_memory;
	if (h->qlen == 0 && (k = hook_free_slot(h)) != NULL) {
		hook_start(h, &job, k);
		hook_job_free(&job);
		return 0;
	}
	j = &h->queue[(h->qhead + h->qlen) % HOOK_QUEUE_MAX];
	*j = job;
	h->qlen++;
	return 0;

no_memory:
	hook_fail(h, job.label, "not run: out of memory");
	hook_job_free(&job);
	return -1;
}

/* Report how a child ended, when it did not end well. */
static void
hook_report(struct hook *h, const struct hook_child *k, int status)
{
	char why[128];

	if (k->stopped && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
		snprintf(why, sizeof(why), "stopped with sm-alert");
	else if (k->killed)
		snprintf(why, sizeof(why), "killed after %g s (--exec-timeout)",
		    (double)h->c.timeout_ms / 1000);
	else if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
		snprintf(why, sizeof(why), "command exited with status %d",
		    WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(why, sizeof(why), "command killed by signal %d (%s)",
		    WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		return;
	hook_fail(h, k->label, why);
}

/* Reap what ended; kill what overran its time. */
static void
hook_reap(struct hook *h)
{
	int64_t now = clock_mono_ms();
	size_t i;

	for (i = 0; i < h->c.max_running; i++) {
		struct hook_child *k = &h->kids[i];
		int status;
		pid_t got;

		if (k->pid == 0)
			continue;
		got = waitpid(k->pid, &status, WNOHANG);
		if (got == 0) {
			if (!k->killed && now >= k->deadline_ms) {
				kill(-k->pid, SIGKILL);
				k->killed = true;
			}
			continue;
		}
		if (got == -1 && errno == EINTR)
			continue;
		if (got == k->pid)
			hook_report(h, k, status);
		k->pid = 0;
		h->running--;
	}
}

void
hook_poll(struct hook *h)
{
	hook_reap(h);
	while (h->qlen > 0 && h->running < h->c.max_running) {
		struct hook_job *j = &h->queue[h->qhead];

		hook_start(h, j, hook_free_slot(h));
		hook_job_free(j);
		h->qhead = (h->qhead + 1) % HOOK_QUEUE_MAX;
		h->qlen--;
	}
}

int
hook_timeout_ms(const struct hook *h)
{
	return h->running > 0 || h->qlen > 0 ? HOOK_CHECK_MS : -1;
}

/* Signal sig to the groups of the commands running. */
static void
hook_signal(struct hook *h, int sig)
{
	size_t i;

	for (i = 0; i < h->c.max_running; i++)
		if (h->kids[i].pid != 0) {
			h->kids[i].stopped = true;
			kill(-h->kids[i].pid, sig);
		}
}

void
hook_stop(struct hook *h)
{
	int64_t end = clock_mono_ms() + HOOK_GRACE_MS;
	unsigned long queued = h->qlen;
	size_t running = h->running;

	while (h->qlen > 0) {
		hook_job_free(&h->queue[h->qhead]);
		h->qhead = (h->qhead + 1) % HOOK_QUEUE_MAX;
		h->qlen--;
	}
	h->not_run += queued;
	h->failures += queued;
	if (h->not_run > 0 || running > 0)
		warnx("--exec: stopping: %lu events not run, %zu commands "
		    "running told to stop", h->not_run, running);
	hook_signal(h, SIGTERM);
	for (;;) {
		hook_reap(h);
		if (h->running == 0 || clock_mono_ms() >= end)
			break;
		poll(NULL, 0, HOOK_CHECK_MS);
	}
	hook_signal(h, SIGKILL);
	while (h->running > 0) {
		hook_reap(h);
		if (h->running > 0)
			poll(NULL, 0, HOOK_CHECK_MS);
	}
}

void
hook_drain(struct hook *h)
{
	for (;;) {
		if (hook_stopping(h)) {
			hook_stop(h);
			return;
		}
		hook_poll(h);
		if (h->running == 0 && h->qlen == 0)
			return;
		poll(NULL, 0, HOOK_CHECK_MS);
	}
}

unsigned long
hook_failures(const struct hook *h)
{
	return h->failures;
}
