/*
 * The listeners' whole-request deadline (httpd_deadline.h): a list of
 * open connections swept every second.
 */
#include <err.h>
#include <stddef.h>
#include <sys/socket.h>

#include "clock.h"
#include "httpd_deadline.h"

void
httpd_deadline_add(struct httpd_deadlines *l, struct httpd_deadline *d,
    int fd)
{
	d->fd = fd;
	d->since_ms = clock_mono_ms();
	d->busy = false;
	d->cut = false;
	d->prev = NULL;
	d->next = l->head;
	if (l->head != NULL)
		l->head->prev = d;
	l->head = d;
}

void
httpd_deadline_remove(struct httpd_deadlines *l, struct httpd_deadline *d)
{
	if (d->prev != NULL)
		d->prev->next = d->next;
	else
		l->head = d->next;
	if (d->next != NULL)
		d->next->prev = d->prev;
	d->prev = d->next = NULL;
}

void
httpd_deadline_mark(struct httpd_deadline *d, bool busy)
{
	if (d == NULL)
		return;
	if (!busy)
		__atomic_store_n(&d->since_ms, clock_mono_ms(),
		    __ATOMIC_RELAXED);
	__atomic_store_n(&d->busy, busy, __ATOMIC_RELEASE);
}

unsigned long
httpd_deadline_sweep(struct httpd_deadlines *l, int64_t limit_ms)
{
	struct httpd_deadline *d;
	int64_t now = clock_mono_ms();
	unsigned long n = 0;

	for (d = l->head; d != NULL; d = d->next) {
		if (__atomic_load_n(&d->busy, __ATOMIC_ACQUIRE) || d->cut ||
		    now - __atomic_load_n(&d->since_ms, __ATOMIC_RELAXED) <
		    limit_ms)
			continue;
		shutdown(d->fd, SHUT_RDWR);
		d->cut = true;
		n++;
	}
	l->cut += n;
	return n;
}

void
httpd_deadline_say(const char *what, unsigned long n, bool stop,
    unsigned limit_s)
{
	if (n == 0)
		return;
	if (stop)
		warnx("%s: closed %lu connection%s at the stop", what, n,
		    n == 1 ? "" : "s");
	else
		warnx("%s: closed %lu connection%s whose request took more "
		    "than %u s", what, n, n == 1 ? "" : "s", limit_s);
}
