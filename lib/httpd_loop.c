/*
 * The receiver's polling thread (httpd_loop.h): MHD in external mode,
 * its fd_sets turned into one epoll set of our own, and a doorbell.
 *
 * Why not MHD's own thread: MHD 0.9.75's MHD_resume_connection writes to
 * its wake-up channel on every call, one system call a request, where
 * this loop is rung once for all the answers of a group commit (a resume
 * is then a mutex and a flag).  In external mode MHD drops that channel
 * itself (HTTPD_LOOP_FLAGS only says so), so something of ours must wake
 * the loop in any case.
 *
 * Why not MHD's supported external epoll mode (MHD_USE_EPOLL without a
 * thread, MHD_DAEMON_INFO_EPOLL_FD nested in our epoll set with the
 * doorbell, then MHD_run, as its suspend_resume_epoll.c example does):
 * tried for issue 27, it cost 25% more CPU per request side by side
 * (bench/store-http.sh --nginx, sm-store / nginx CPU per request, median
 * of per-round ratios of five alternating rounds: 2.43 against 1.73 for
 * this loop, p99 47 ms against 11 ms; bench/RESULTS.md), past the 5%
 * allowed.  MHD takes every suspended connection out of its epoll set and
 * adds it back once resumed (each request here is suspended while it is
 * committed), and its set is edge-triggered, so it reads until EAGAIN:
 * strace counted 6.0 system calls a request (2.0 epoll_ctl, 2.0
 * recvfrom) against this loop's 2.5.  So the loop stays, with the
 * guesses below, which follow MHD 0.9.75's behaviour: a later MHD
 * wanting more passes only costs an epoll_ctl.
 *
 * MHD hands out the sockets it wants as fd_sets, every time; select()
 * would have the kernel look at each of them on every wake-up.  Here each
 * socket is added to the epoll set once, when MHD first wants it, with
 * EPOLLIN (EPOLLOUT too while MHD wants to write), and stays: a request
 * suspended while it is committed leaves MHD's sets but not ours, as its
 * client is silent until answered.  A socket reported that MHD does not
 * want at the moment (one suspended whose client went away, the listener
 * at the connection limit, EPOLLOUT no longer wanted) loses the event
 * then, or level-triggered it would wake the loop for ever; MHD wanting
 * it again adds it again.
 *
 * A socket MHD wants to write to is said writable without asking, for
 * HTTPD_GUESSES passes: MHD wants a resumed request's socket writable for
 * two (it sends the answer, then ends the request), and a send buffer
 * all but always has room for an answer of a few hundred bytes (were it
 * full, MHD's send would just say so).  Only a socket MHD still wants to
 * write to after that (a large answer, a client that does not read) is
 * added for EPOLLOUT.  So a keep-alive request costs no epoll_ctl, and no
 * more waits than select() did.
 *
 * While the committer has a transaction out, the loop waits for the
 * doorbell alone (httpd_loop_wait): what clients send meanwhile would
 * only queue behind that transaction, and reading it as it comes woke
 * the loop two or three times a transaction.  Once answered, it reads
 * the lot in one pass and the committer is woken once for it (the pass
 * hook: store_plug).  Context switches per request 0.25 -> 0.17 under
 * bench/store-http.sh (bench/RESULTS.md, issue 28).
 *
 * MHD's exception set is not asked of epoll: on Linux select() reports
 * there urgent data only; errors make the socket readable and writable,
 * which is how MHD is told of them.
 */
#include <err.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "httpd_loop.h"
#include "thread.h"

/* the loop's events at once: more only take another epoll_wait */
#define HTTPD_EVENTS 256
/* passes a socket is said to be writable without asking (see above) */
#define HTTPD_GUESSES 3
/* the longest a lazy loop leaves the clients' sockets unread, ms */
#define HTTPD_LAZY_MS 10

MHD_socket
httpd_quiesce(struct MHD_Daemon *d)
{
	MHD_socket lfd = MHD_quiesce_daemon(d);

	if (lfd != MHD_INVALID_SOCKET)
		shutdown(lfd, SHUT_RDWR);
	return lfd;
}

int
httpd_loop_open(struct httpd_loop *l, struct why *why)
{
	struct epoll_event e;

	memset(l, 0, sizeof(*l));
	l->lfd = MHD_INVALID_SOCKET;
	if ((l->bell = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1)
		return why_set(why, "eventfd: %s", strerror(errno));
	if ((l->ep = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		why_set(why, "epoll_create1: %s", strerror(errno));
		goto out_close_bell;
	}
	if ((l->ep_bell = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		why_set(why, "epoll_create1: %s", strerror(errno));
		goto out_close_ep;
	}
	/* the doorbell, in both sets for good */
	memset(&e, 0, sizeof(e));
	e.events = EPOLLIN;
	e.data.fd = l->bell;
	if (epoll_ctl(l->ep, EPOLL_CTL_ADD, l->bell, &e) == -1 ||
	    epoll_ctl(l->ep_bell, EPOLL_CTL_ADD, l->bell, &e) == -1) {
		why_set(why, "epoll_ctl: %s", strerror(errno));
		goto out_close_ep_bell;
	}
	return 0;
out_close_ep_bell:
	close(l->ep_bell);
out_close_ep:
	close(l->ep);
out_close_bell:
	close(l->bell);
	return -1;
}

void
httpd_loop_close(struct httpd_loop *l)
{
	if (l->lfd != MHD_INVALID_SOCKET)
		close(l->lfd);
	close(l->ep_bell);
	close(l->ep);
	close(l->bell);
}

/*
 * Unless it was rung since it last looked: one system call for the many
 * connections the committer resumes at once.  After MHD_resume_connection:
 * the loop clears rung before it lets MHD run, so either that run sees
 * the connection, or this rings again.
 */
void
httpd_loop_ring(struct httpd_loop *l)
{
	uint64_t one = 1;

	if (__atomic_exchange_n(&l->rung, true, __ATOMIC_SEQ_CST))
		return;
	/* a full counter still wakes the loop */
	if (write(l->bell, &one, sizeof(one)) == -1 && errno != EAGAIN)
		warn("http: eventfd");
}

void
httpd_loop_quiesce(struct httpd_loop *l)
{
	__atomic_store_n(&l->quiesce, true, __ATOMIC_RELEASE);
	httpd_loop_ring(l);
}

void
httpd_loop_stop(struct httpd_loop *l)
{
	__atomic_store_n(&l->quit, true, __ATOMIC_RELEASE);
	__atomic_store_n(&l->rung, false, __ATOMIC_SEQ_CST);
	httpd_loop_ring(l);
	pthread_join(l->thread, NULL);
}

/*
 * MHD is about to close a connection's socket, which leaves the epoll set
 * with it (nothing else holds it: no fork, close-on-exec); the next socket
 * accepted may get its number, and is to be added afresh.  Called where
 * MHD closes connections: the loop's thread, or MHD_stop_daemon's once
 * the loop is over.
 */
void
httpd_loop_forget(struct httpd_loop *l, struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci;

	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (ci != NULL && ci->connect_fd >= 0 &&
	    ci->connect_fd < FD_SETSIZE) {
		l->polled[ci->connect_fd] = 0;
		l->guessed[ci->connect_fd] = 0;
	}
}

/*
 * Make the epoll set hold events ev (EPOLLIN, EPOLLOUT, 0: none) for fd.
 * Should polled[] be wrong (it should not), epoll_ctl says so and the
 * other operation makes it right; a socket already closed is no longer in
 * the set.
 */
static void
httpd_poll_set(struct httpd_loop *l, int fd, uint32_t ev)
{
	struct epoll_event e;
	int op;

	if (ev == l->polled[fd])
		return;
	memset(&e, 0, sizeof(e));
	e.events = ev;
	e.data.fd = fd;
	op = ev == 0 ? EPOLL_CTL_DEL : l->polled[fd] == 0 ? EPOLL_CTL_ADD :
	    EPOLL_CTL_MOD;
	if (epoll_ctl(l->ep, op, fd, &e) == -1) {
		if (errno == EEXIST)
			op = EPOLL_CTL_MOD;
		else if (errno == ENOENT && op == EPOLL_CTL_MOD)
			op = EPOLL_CTL_ADD;
		else
			op = -1;
		if (errno == EBADF || (errno == ENOENT && ev == 0))
			ev = 0;
		else if (op == -1 || epoll_ctl(l->ep, op, fd, &e) == -1) {
			warn("http: epoll_ctl");
			ev = 0;
		}
	}
	l->polled[fd] = (uint8_t)ev;
}

/*
 * Put in the epoll set what MHD wants (want_r, want_w, up to max), and
 * into ws the sockets said writable unasked; the time to wait, in ms (0
 * when some are).
 */
static int
httpd_loop_want(struct httpd_loop *l, const fd_set *want_r,
    const fd_set *want_w, MHD_socket max, fd_set *ws, int timeout)
{
	uint32_t e;
	bool r, w;
	int fd;

	for (fd = 0; fd <= max; fd++) {
		r = FD_ISSET(fd, want_r);
		w = FD_ISSET(fd, want_w);
		e = r ? EPOLLIN : 0;
		if (!w) {
			l->guessed[fd] = 0;
		} else if (l->guessed[fd] >= HTTPD_GUESSES) {
			e |= EPOLLOUT;	/* still to write: ask */
		} else if ((l->polled[fd] & EPOLLOUT) == 0) {
			l->guessed[fd]++;
			FD_SET(fd, ws);
			timeout = 0;
		}
		if ((e & ~(uint32_t)l->polled[fd]) != 0)
			httpd_poll_set(l, fd, l->polled[fd] | e);
	}
	return timeout;
}

/*
 * Into rs and ws, the sockets of the events ev[0..n) that MHD wants
 * (want_r, want_w); the doorbell is answered, and what fired unwanted
 * leaves the epoll set.
 */
static void
httpd_loop_got(struct httpd_loop *l, const struct epoll_event *ev, int n,
    const fd_set *want_r, const fd_set *want_w, fd_set *rs, fd_set *ws)
{
	uint32_t e, keep;
	uint64_t v;
	bool r, w;
	int fd, i;

	for (i = 0; i < n; i++) {
		fd = ev[i].data.fd;
		e = ev[i].events;
		if (fd == l->bell) {
			if (read(l->bell, &v, sizeof(v)) == -1 &&
			    errno != EAGAIN)
				warn("http: eventfd");
			/* before MHD runs: see httpd_loop_ring */
			__atomic_store_n(&l->rung, false, __ATOMIC_SEQ_CST);
			continue;
		}
		if (fd < 0 || fd >= FD_SETSIZE)
			continue;
		r = FD_ISSET(fd, want_r);
		w = FD_ISSET(fd, want_w);
		if (r && (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP |
		    EPOLLERR)) != 0)
			FD_SET(fd, rs);
		if (w && (e & (EPOLLOUT | EPOLLHUP | EPOLLERR)) != 0)
			FD_SET(fd, ws);
		/*
		 * What fired unwanted goes, errors with the rest; but not the
		 * next request come while MHD still writes: it does not spin
		 * the loop while MHD can write.
		 */
		keep = l->polled[fd];
		if (!r && !FD_ISSET(fd, ws) &&
		    (e & (EPOLLIN | EPOLLRDHUP)) != 0)
			keep &= ~(uint32_t)EPOLLIN;
		if (!w && (e & EPOLLOUT) != 0)
			keep &= ~(uint32_t)EPOLLOUT;
		if (!r && !w)
			keep = 0;
		httpd_poll_set(l, fd, keep);
	}
}

/*
 * At MHD's connection limit, the listening socket, to be left out of the
 * sockets MHD wants read (else MHD_INVALID_SOCKET): MHD polling it by
 * itself (as MHD's own threads do not) would accept a connection only to
 * close it at once.  Left out, it leaves the epoll set when it fires
 * (httpd_loop_got), and clients wait in the kernel's queue until a
 * connection closes.  Before MHD_get_fdset2: asking for the count has MHD
 * clean up the connections it has closed.
 */
static MHD_socket
httpd_loop_full(struct httpd_loop *l)
{
	const union MHD_DaemonInfo *info;
	MHD_socket lfd;

	if (l->limit == 0 || (info = MHD_get_daemon_info(l->d,
	    MHD_DAEMON_INFO_LISTEN_FD)) == NULL)
		return MHD_INVALID_SOCKET;
	lfd = info->listen_fd;
	if (lfd == MHD_INVALID_SOCKET || lfd >= FD_SETSIZE ||
	    (info = MHD_get_daemon_info(l->d,
	    MHD_DAEMON_INFO_CURRENT_CONNECTIONS)) == NULL ||
	    info->num_connections < l->limit)
		return MHD_INVALID_SOCKET;
	return lfd;
}

/*
 * Wait up to timeout ms for events into ev: epoll_wait's answer.  While
 * lazy (the committer has a transaction in flight, httpd.c), for the
 * doorbell alone: a request read now would only wait in the queue until
 * that transaction ends, and the loop would wake for every few of them;
 * left in the kernel, they are read at once after the doorbell, in one
 * pass, and go to the committer together.  At most HTTPD_LAZY_MS, then
 * all are looked at (a transaction the database holds up must not hold
 * up GET /health or new connections).
 */
static int
httpd_loop_wait(struct httpd_loop *l, struct epoll_event *ev, int timeout)
{
	int64_t now, left;
	int n;

	if (l->lazy == NULL || !l->lazy(l->arg)) {
		l->looked = 0;
		return epoll_wait(l->ep, ev, HTTPD_EVENTS, timeout);
	}
	now = clock_mono_ms();
	if (l->looked == 0)
		l->looked = now;	/* lazy from now on */
	left = l->looked + HTTPD_LAZY_MS - now;
	if (left > 0) {
		n = epoll_wait(l->ep_bell, ev, 1,
		    timeout < left ? timeout : (int)left);
		if (n == -1 || (n == 0 && timeout < left))
			return n;
		if (n == 0)
			now += left;
	}
	/*
	 * Rung (the transaction is over: the requests that came are read
	 * and go to the committer in this pass, the answers in the next,
	 * while it commits them) or lazy long enough: look at them all,
	 * without waiting; the doorbell is among them, not yet read.
	 */
	l->looked = now;
	return epoll_wait(l->ep, ev, HTTPD_EVENTS, 0);
}

/* The thread: wait for MHD's sockets and the doorbell, then run MHD. */
static void *
httpd_loop_run(void *arg)
{
	struct httpd_loop *l = arg;
	struct epoll_event ev[HTTPD_EVENTS];
	MHD_UNSIGNED_LONG_LONG ms;
	bool quiesced = false;

	while (!__atomic_load_n(&l->quit, __ATOMIC_ACQUIRE)) {
		fd_set want_r, want_w, rs, ws, es;
		MHD_socket max = 0, full;
		int n, timeout = 1000;

		if (!quiesced && __atomic_load_n(&l->quiesce,
		    __ATOMIC_ACQUIRE)) {
			l->lfd = httpd_quiesce(l->d);
			quiesced = true;
			/* shut down: it would be readable for ever */
			if (l->lfd != MHD_INVALID_SOCKET && l->lfd < FD_SETSIZE)
				httpd_poll_set(l, l->lfd, 0);
		}
		full = httpd_loop_full(l);
		FD_ZERO(&want_r);
		FD_ZERO(&want_w);
		FD_ZERO(&es);
		if (MHD_get_fdset2(l->d, &want_r, &want_w, &es, &max,
		    FD_SETSIZE) != MHD_YES) {
			/* not expected: MHD refuses sockets past FD_SETSIZE */
			warnx("http: cannot poll the connections");
			FD_ZERO(&want_r);
			FD_ZERO(&want_w);
			max = 0;
		}
		if (full != MHD_INVALID_SOCKET)
			FD_CLR(full, &want_r);
		if (MHD_get_timeout(l->d, &ms) == MHD_YES && ms < 1000)
			timeout = (int)ms;
		FD_ZERO(&rs);
		FD_ZERO(&ws);
		timeout = httpd_loop_want(l, &want_r, &want_w, max, &ws,
		    timeout);
		if ((n = httpd_loop_wait(l, ev, timeout)) == -1) {
			if (errno != EINTR)
				warn("http: epoll_wait");
			continue;
		}
		httpd_loop_got(l, ev, n, &want_r, &want_w, &rs, &ws);
		FD_ZERO(&es);
		if (l->pass != NULL)
			l->pass(l->arg, true);
		MHD_run_from_select(l->d, &rs, &ws, &es);
		if (l->pass != NULL)
			l->pass(l->arg, false);
	}
	return NULL;
}

int
httpd_loop_start(struct httpd_loop *l, struct MHD_Daemon *d,
    struct why *why)
{
	int rc;

	l->d = d;
	/* signals are for the main thread */
	if ((rc = thread_start(&l->thread, httpd_loop_run, l)) != 0)
		return why_set(why, "pthread_create: %s", strerror(rc));
	return 0;
}
