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
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
	char label[HOOK_LABEL_MAX];
};

struct hook {
	struct hook_config c;
	struct hook_child *kids;
	size_t running;
	struct hook_job queue[HOOK_QUEUE_MAX];	/* a ring */
	size_t qhead, qlen;
	unsigned long failures;
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

/* Start j in the free slot k; reports and counts a failure itself. */
static void
hook_start(struct hook *h, struct hook_job *j, struct hook_child *k)
{
	char *argv[] = { "sh", "-c", (char *)h->c.cmd, NULL };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t def, none;
	char **envp, why[128];
	int fds[2], rc;
	pid_t pid;

	if ((envp = hook_environ(j)) == NULL) {
		hook_fail(h, j->label, "out of memory");
		return;
	}
	if (pipe2(fds, O_CLOEXEC) == -1) {
		snprintf(why, sizeof(why), "pipe: %s", strerror(errno));
		hook_fail(h, j->label, why);
		goto free_envp;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[0], STDIN_FILENO);
	/* our stdout is the event stream: the command writes to stderr */
	posix_spawn_file_actions_adddup2(&fa, STDERR_FILENO, STDOUT_FILENO);
	posix_spawnattr_init(&attr);
	sigemptyset(&none);
	sigemptyset(&def);
	/* we ignore SIGPIPE; a shell pipeline in the command must not */
	sigaddset(&def, SIGPIPE);
	sigaddset(&def, SIGINT);
	sigaddset(&def, SIGTERM);
	sigaddset(&def, SIGHUP);
	posix_spawnattr_setsigdefault(&attr, &def);
	posix_spawnattr_setsigmask(&attr, &none);
	/* a group of its own, so a timeout kills what the shell started */
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP |
	    POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
	rc = posix_spawn(&pid, "/bin/sh", &fa, &attr, argv, envp);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[0]);
	if (rc != 0) {
		snprintf(why, sizeof(why), "cannot run /bin/sh: %s",
		    strerror(rc));
		hook_fail(h, j->label, why);
		goto close_pipe;
	}
	/*
	 * The pipe is empty and the line shorter than PIPE_BUF: one write,
	 * never blocking.  A command that exits unread gives EPIPE: its
	 * exit status tells the rest.
	 */
	if (write(fds[1], j->line, j->len) == -1 && errno != EPIPE)
		warn("--exec: event %s: writing to the command", j->label);
	k->pid = pid;
	k->killed = false;
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

	if (k->killed)
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

void
hook_poll(struct hook *h)
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

void
hook_drain(struct hook *h)
{
	for (;;) {
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
