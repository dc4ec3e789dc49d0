/*
 * A thread that polls a libmicrohttpd daemon's epoll set and its own
 * bell, and runs the daemon without letting it block (httpd_epoll.h says
 * why).
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "httpd_epoll.h"

/*
 * The longest wait when MHD names no deadline: only a bound, since the
 * epoll set wakes the thread for every socket and the bell for each
 * batch of resumed connections.
 */
#define HTTPD_EPOLL_WAIT_MAX_MS 1000

static void *
httpd_epoll_run(void *arg)
{
	struct httpd_epoll *p = arg;
	struct pollfd fds[2] = {
		{ .fd = p->epoll_fd, .events = POLLIN },
		{ .fd = p->bell, .events = POLLIN },
	};
	MHD_UNSIGNED_LONG_LONG ms;
	uint64_t rung;
	int wait_ms;

	for (;;) {
		wait_ms = HTTPD_EPOLL_WAIT_MAX_MS;
		/* 0 while a connection has work MHD already knows of */
		if (MHD_get_timeout(p->d, &ms) == MHD_YES &&
		    ms < HTTPD_EPOLL_WAIT_MAX_MS)
			wait_ms = (int)ms;
		if (poll(fds, 2, wait_ms) == -1)
			fds[1].revents = 0;	/* EINTR: run, as for a wake */
		/* taken before the pass: a ring during it wakes the next */
		if (fds[1].revents != 0 &&
		    read(p->bell, &rung, sizeof(rung)) == -1)
			rung = 0;	/* EAGAIN: another read took it */
		if (__atomic_load_n(&p->quit, __ATOMIC_ACQUIRE))
			break;
		MHD_run(p->d);
	}
	return NULL;
}

int
httpd_epoll_open(struct httpd_epoll *p, struct why *why)
{
	memset(p, 0, sizeof(*p));
	p->bell = -1;
	if ((p->bell = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1)
		return why_set(why, "eventfd: %s", strerror(errno));
	return 0;
}

int
httpd_epoll_start(struct httpd_epoll *p, struct MHD_Daemon *d,
    struct why *why)
{
	const union MHD_DaemonInfo *info;
	int e;

	p->d = d;
	if ((info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_EPOLL_FD)) ==
	    NULL)
		return why_set(why, "libmicrohttpd has no epoll set");
	p->epoll_fd = info->epoll_fd;
	if ((e = pthread_create(&p->thread, NULL, httpd_epoll_run, p)) != 0)
		return why_set(why, "cannot start the polling thread: %s",
		    strerror(e));
	p->running = true;
	return 0;
}

void
httpd_epoll_ring(struct httpd_epoll *p)
{
	uint64_t one = 1;

	/* fails only with EAGAIN, the counter near 2^64: rung already */
	while (write(p->bell, &one, sizeof(one)) == -1 && errno == EINTR)
		continue;
}

void
httpd_epoll_stop(struct httpd_epoll *p)
{
	if (!p->running)
		return;
	__atomic_store_n(&p->quit, true, __ATOMIC_RELEASE);
	httpd_epoll_ring(p);
	pthread_join(p->thread, NULL);
	p->running = false;
}

void
httpd_epoll_close(struct httpd_epoll *p)
{
	if (p->bell >= 0)
		close(p->bell);
	p->bell = -1;
}
