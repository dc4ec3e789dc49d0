/*
 * Choosing an endpoint for each request: smooth weighted round-robin as
 * nginx's upstream module does it (weights 1,1 alternate strictly; 3,1
 * gives a a b a, a a b a, ...), with passive health (an endpoint that
 * failed max_fails times in a row is out for fail_timeout, then gets a
 * trial request) and active health (probe results take an endpoint out or
 * bring it back at once).  Time is passed in, in milliseconds of any
 * monotonic clock, so the logic is testable without waiting.
 *
 * With a single endpoint health is ignored, as nginx ignores max_fails for
 * a single server: there is nowhere else to send.
 */
#ifndef SM_BALANCE_H
#define SM_BALANCE_H

#include <stdbool.h>
#include <stdint.h>

#include "why.h"

#define BALANCE_MAX 26		/* endpoints, named a to z */
#define BALANCE_WEIGHT_MAX 1000

struct balance_ep {
	int weight;
	int current;		/* smooth round-robin state */
	int fails;		/* consecutive failures */
	bool down;
	int64_t down_until;	/* a down endpoint gets a trial after this */
};

struct balance {
	struct balance_ep ep[BALANCE_MAX];
	int n;
	int max_fails;
	int64_t fail_timeout_ms;
};

/* What a result did to an endpoint, for the caller to report. */
enum balance_change {
	BALANCE_SAME,
	BALANCE_DOWN,		/* just taken out */
	BALANCE_UP		/* just brought back */
};

/*
 * n endpoints with the given weights (NULL: all 1).  Returns 0, or -1 when
 * n or a weight is out of range.
 */
int balance_init(struct balance *b, int n, const int *weights,
    int max_fails, int64_t fail_timeout_ms);

/*
 * Parse "3,1" into w (room for max), the count into *n.  Returns 0, or -1
 * with the reason in why.
 */
int balance_parse_weights(const char *s, int *w, int max, int *n,
    struct why *why);

/* True when some endpoint not in exclude (bit i = endpoint i) is usable. */
bool balance_has_candidate(const struct balance *b, uint32_t exclude,
    int64_t now);

/*
 * The endpoint for the next request: by smooth weighted round-robin among
 * the usable endpoints not in exclude; failing that among all usable ones;
 * failing that among all (when every endpoint is out, traffic itself is
 * the probe).  Always a valid index.
 */
int balance_pick(struct balance *b, uint32_t exclude, int64_t now);

/* A request to endpoint i got an answer (2xx, or a 4xx rejection). */
enum balance_change balance_success(struct balance *b, int i, int64_t now);

/*
 * A request to endpoint i failed (no answer, 408, 429, 5xx).  hold_ms > 0
 * (a Retry-After) keeps it out at least that long once it is out.
 */
enum balance_change balance_failure(struct balance *b, int i, int64_t now,
    int64_t hold_ms);

/* An active health probe of endpoint i answered healthy (ok) or not. */
enum balance_change balance_probe(struct balance *b, int i, bool ok,
    int64_t now);

#endif
