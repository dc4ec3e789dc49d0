/*
 * Endpoint choice for the senders: smooth weighted round-robin with passive
 * and active health (balance.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "balance.h"
#include "balance_impl.h"

int
balance_init(struct balance *b, int n, const int *weights, int max_fails,
    int64_t fail_timeout_ms)
{
	int i;

	if (n < 1 || n > BALANCE_MAX || max_fails < 1 || fail_timeout_ms < 0)
		return -1;
	memset(b, 0, sizeof(*b));
	b->n = n;
	b->max_fails = max_fails;
	b->fail_timeout_ms = fail_timeout_ms;
	for (i = 0; i < n; i++) {
		int w = weights != NULL ? weights[i] : 1;

		if (w < 1 || w > BALANCE_WEIGHT_MAX)
			return -1;
		b->ep[i].weight = w;
	}
	return 0;
}

int
balance_parse_weights(const char *s, int *w, int max, int *n, struct why *why)
{
	const char *p = s;

	*n = 0;
	for (;;) {
		char *end;
		long v;

		if (*n == max) {
			why_set(why, "more than %d weights",
			    max);
			return -1;
		}
		errno = 0;
		v = strtol(p, &end, 10);
		if (end == p || errno != 0 || v < 1 ||
		    v > BALANCE_WEIGHT_MAX || (*end != ',' && *end != '\0')) {
			why_set(why, "weight %d: want an "
			    "integer from 1 to %d", *n + 1,
			    BALANCE_WEIGHT_MAX);
			return -1;
		}
		w[(*n)++] = (int)v;
		if (*end == '\0')
			return 0;
		p = end + 1;
	}
}

bool
balance_usable(const struct balance *b, int i, int64_t now)
{
	return b->n == 1 || !b->ep[i].down || now >= b->ep[i].down_until;
}

bool
balance_has_candidate(const struct balance *b, uint32_t exclude, int64_t now)
{
	int i;

	for (i = 0; i < b->n; i++)
		if (!(exclude & (1U << i)) && balance_usable(b, i, now))
			return true;
	return false;
}

/* nginx's ngx_http_upstream_get_peer() over the endpoints in mask. */
static int
balance_swrr(struct balance *b, uint32_t mask)
{
	int i, best = -1, total = 0;

	for (i = 0; i < b->n; i++) {
		if (!(mask & (1U << i)))
			continue;
		b->ep[i].current += b->ep[i].weight;
		total += b->ep[i].weight;
		if (best == -1 || b->ep[i].current > b->ep[best].current)
			best = i;
	}
	if (best != -1)
		b->ep[best].current -= total;
	return best;
}

int
balance_pick(struct balance *b, uint32_t exclude, int64_t now)
{
	uint32_t usable = 0, all = (1U << b->n) - 1;
	int i;

	for (i = 0; i < b->n; i++)
		if (balance_usable(b, i, now))
			usable |= 1U << i;
	if ((usable & ~exclude) != 0)
		return balance_swrr(b, usable & ~exclude);
	if (usable != 0)
		return balance_swrr(b, usable);
	return balance_swrr(b, all);
}

static enum balance_change
balance_up(struct balance *b, int i)
{
	struct balance_ep *e = &b->ep[i];

	e->fails = 0;
	if (!e->down)
		return BALANCE_SAME;
	e->down = false;
	return BALANCE_UP;
}

static enum balance_change
balance_out(struct balance *b, int i, int64_t until)
{
	struct balance_ep *e = &b->ep[i];
	bool was = e->down;

	/* a failed trial or probe starts the timeout over */
	e->down = true;
	if (!was || until > e->down_until)
		e->down_until = until;
	return was ? BALANCE_SAME : BALANCE_DOWN;
}

enum balance_change
balance_success(struct balance *b, int i, int64_t now)
{
	(void)now;
	return balance_up(b, i);
}

enum balance_change
balance_failure(struct balance *b, int i, int64_t now, int64_t hold_ms)
{
	struct balance_ep *e = &b->ep[i];
	int64_t until = now + (hold_ms > b->fail_timeout_ms ? hold_ms :
	    b->fail_timeout_ms);

	if (b->n == 1)
		return BALANCE_SAME;
	e->fails++;
	if (e->down || e->fails >= b->max_fails)
		return balance_out(b, i, until);
	return BALANCE_SAME;
}

enum balance_change
balance_probe(struct balance *b, int i, bool ok, int64_t now)
{
	if (ok)
		return balance_up(b, i);
	if (b->n == 1)
		return BALANCE_SAME;
	return balance_out(b, i, now + b->fail_timeout_ms);
}
