/*
 * A command run for each of a stream of events (sm-alert --exec): through
 * /bin/sh -c, the event line on its standard input, its standard output
 * sent to standard error (standard output carries data only).  At most
 * max_running run at once, each in a process group of its own, killed
 * (the whole group) after timeout_ms; events wait in a bounded queue
 * while every slot is busy.  Nothing here blocks but hook_drain, and
 * hook_run when the queue is full; the caller's poll loop calls
 * hook_poll.  A command that fails, is killed or cannot start is
 * reported on stderr with the event's label and never stops the caller.
 * The caller ignores SIGPIPE (cli_catch_stop): a command may exit before
 * reading its line.
 *
 * Each command runs under a supervisor process leading its group, which
 * kills the group when the caller dies, even of SIGKILL.  Once the stop
 * flag is set, a full queue no longer waits (the event is not run), and
 * hook_drain stops at once (hook_stop).
 */
#ifndef SM_HOOK_H
#define SM_HOOK_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#define HOOK_QUEUE_MAX 1024	/* events waiting for a slot */
#define HOOK_RUNNING_MAX 256	/* --exec-max */
#define HOOK_ENV_MAX 8		/* extra environment variables per event */
#define HOOK_LABEL_MAX 64

struct hook_config {
	const char *cmd;	/* shell command line */
	int64_t timeout_ms;	/* how long each may run */
	size_t max_running;	/* 1 to HOOK_RUNNING_MAX */
	volatile sig_atomic_t *stop;	/* set: stop soon (or NULL) */
};

struct hook;

/* NULL when out of memory. */
struct hook *hook_new(const struct hook_config *c);

/* Frees h; call hook_drain first, or children are left running. */
void hook_free(struct hook *h);

/*
 * Run the command for one event: line (len bytes, under PIPE_BUF, so one
 * write delivers it whole) on its stdin, env (NULL-terminated "NAME=value"
 * strings, up to HOOK_ENV_MAX) added to the environment, label naming the
 * event in reports.  Starts it now, or queues it while every slot is
 * busy; waits for room when HOOK_QUEUE_MAX wait already (each runs at
 * most timeout), so no event is dropped.  0, or -1 when out of memory
 * (reported).
 */
int hook_run(struct hook *h, const char *line, size_t len, const char *label,
    const char *const env[]);

/* Reap what ended, kill what overran its time, start what is queued. */
void hook_poll(struct hook *h);

/*
 * How long (ms) the caller's poll may sleep before hook_poll has work;
 * -1 when nothing runs or waits.
 */
int hook_timeout_ms(const struct hook *h);

/*
 * Wait until everything queued has run and ended (each within timeout),
 * or, once the stop flag is set, hook_stop.
 */
void hook_drain(struct hook *h);

/*
 * Stop now: drop the events queued (reported, counted as failed), send
 * SIGTERM to the running commands' groups, SIGKILL to those still there
 * after HOOK_GRACE_MS (hook.c), and reap them.
 */
void hook_stop(struct hook *h);

/* Events whose command failed, was killed, could not start or not run. */
unsigned long hook_failures(const struct hook *h);

#endif
