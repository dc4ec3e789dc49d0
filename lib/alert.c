/*
 * The alert rules' parser and normal form, the per-host engine (a hash of
 * hosts, a silence list for stale rules) and the event line (alert.h).
 */
#include <ctype.h>
#include <err.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert.h"
#include "clock.h"
#include "hash.h"
#include "timefmt.h"
#include "utf8.h"

/* ---- rules ---- */

/* The shortest %g form of v that reads back as v: 90, not 90.000000. */
static void
alert_number(double v, char *buf, size_t size)
{
	int prec;

	/* %g would write 90 as 9e+01 at the precision that reads back */
	if (v == floor(v) && fabs(v) < 1e15) {
		snprintf(buf, size, "%.0f", v == 0 ? 0 : v);
		return;
	}
	for (prec = 1; prec < 17; prec++) {
		snprintf(buf, size, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			return;
	}
	snprintf(buf, size, "%.17g", v);
}

/* A duration in the largest unit that holds it whole: 300000 ms is 5m. */
static void
alert_duration(int64_t ms, char *buf, size_t size)
{
	if (ms % 3600000 == 0)
		snprintf(buf, size, "%lldh", (long long)(ms / 3600000));
	else if (ms % 60000 == 0)
		snprintf(buf, size, "%lldm", (long long)(ms / 60000));
	else if (ms % 1000 == 0)
		snprintf(buf, size, "%llds", (long long)(ms / 1000));
	else
		snprintf(buf, size, "%lldms", (long long)ms);
}

static const char *
alert_skip(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

#define ALERT_SHOWN_LEN 96	/* a part of a rule in a reason, escaped */

/* s for a reason: control bytes escaped, cut to fit (utf8_escape). */
static const char *
alert_shown(const char *s, char buf[ALERT_SHOWN_LEN])
{
	return utf8_escape(s, buf, ALERT_SHOWN_LEN);
}

/*
 * A plain decimal number at *p (no hex, inf or nan, which strtod also
 * takes); advances *p past it.
 */
static int
alert_parse_number(const char **p, double *v)
{
	const char *s = *p, *q = s;
	char *end;

	if (*q == '+' || *q == '-')
		q++;
	if (!isdigit((unsigned char)*q) && !(*q == '.' &&
	    isdigit((unsigned char)q[1])))
		return -1;
	if (q[0] == '0' && (q[1] == 'x' || q[1] == 'X'))
		return -1;
	errno = 0;
	*v = strtod(s, &end);
	if (errno != 0 || !isfinite(*v))
		return -1;
	*p = end;
	return 0;
}

static int
alert_parse_duration(const char **p, int64_t *ms)
{
	static const struct { const char *unit; double ms; } units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 },
	};
	const char *q = *p, *u;
	double v, scale = 1000;
	size_t i;

	if (*q == '+' || *q == '-' || alert_parse_number(&q, &v) == -1)
		return -1;
	/* the unit, a blank before it or not: "2s", "2 s" */
	u = alert_skip(q);
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		size_t n = strlen(units[i].unit);

		if (strncmp(u, units[i].unit, n) == 0 &&
		    !isalnum((unsigned char)u[n])) {
			scale = units[i].ms;
			q = u + n;
			break;
		}
	}
	if (i == sizeof(units) / sizeof(units[0]) &&
	    isalpha((unsigned char)*u))
		return -1;	/* 5d, 5 days: not a unit */
	v *= scale;
	if (v > (double)ALERT_DURATION_MAX || v != floor(v))
		return -1;
	*ms = (int64_t)v;
	*p = q;
	return 0;
}

static int
alert_parse_op(const char **p, enum alert_op *op, const char **text)
{
	static const struct { const char *s; enum alert_op op; } ops[] = {
		{ ">=", ALERT_GE }, { "<=", ALERT_LE }, { "==", ALERT_EQ },
		{ "!=", ALERT_NE }, { ">", ALERT_GT }, { "<", ALERT_LT },
	};
	size_t i;

	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		size_t n = strlen(ops[i].s);

		if (strncmp(*p, ops[i].s, n) == 0) {
			*op = ops[i].op;
			*text = ops[i].s;
			*p += n;
			return 0;
		}
	}
	return -1;
}

/* "for DURATION" at p, if any, then the end of the rule. */
static int
alert_parse_for(const char *p, int64_t *ms, bool need, struct why *why)
{
	char shown[ALERT_SHOWN_LEN];

	p = alert_skip(p);
	*ms = 0;
	if (*p == '\0' && !need)
		return 0;
	/* "for 2s", "for2s", not "fort" */
	if (strncmp(p, "for", 3) != 0 || (p[3] != ' ' && p[3] != '\t' &&
	    !isdigit((unsigned char)p[3]) && p[3] != '.'))
		return why_set(why, "want %s\"for DURATION\" at "
		    "\"%s\"", need ? "" : "the end or ", alert_shown(p, shown));
	p = alert_skip(p + 3);
	if (alert_parse_duration(&p, ms) == -1)
		return why_set(why, "want a duration (30s, 5m, "
		    "1h, 500ms; up to 30 days, whole ms) at \"%s\"",
		    alert_shown(p, shown));
	p = alert_skip(p);
	if (*p != '\0')
		return why_set(why, "unexpected \"%s\" after the "
		    "duration", alert_shown(p, shown));
	if (need && *ms == 0)
		return why_set(why, "a stale rule needs a "
		    "duration above 0");
	return 0;
}

static void
alert_field_list(char *buf, size_t size)
{
	struct record_metric m;
	size_t i, used = 0;

	buf[0] = '\0';
	for (i = 0; record_metric_at(i, &m) == 0 && used < size; i++)
		used += (size_t)snprintf(buf + used, size - used, "%s%s",
		    i > 0 ? ", " : "", m.name);
}

int
alert_rule_parse(const char *text, struct alert_rule *rule, struct why *why)
{
	char name[64], num[32], dur[32], fields[512];
	char shown[ALERT_SHOWN_LEN];
	const char *p = alert_skip(text), *optext;
	size_t n;

	memset(rule, 0, sizeof(*rule));
	/*
	 * The word up to a blank or an operator, whatever it holds, so that
	 * "cpú_usage" is named whole, not as "cp"
	 */
	n = strcspn(p, " \t<>=!");
	if (n == 0)
		return why_set(why, "want a field name at \"%s\"",
		    alert_shown(p, shown));
	snprintf(name, sizeof(name), "%.*s", (int)(n < sizeof(name) ? n :
	    sizeof(name) - 1), p);
	if (n >= sizeof(name) || isdigit((unsigned char)p[0]))
		return why_set(why, "\"%s%s\": not a field name",
		    alert_shown(name, shown), n >= sizeof(name) ? "..." : "");
	p += n;
	if (strcmp(name, "stale") == 0) {
		rule->kind = ALERT_STALE;
		if (alert_parse_for(p, &rule->for_ms, true, why) == -1)
			return -1;
		alert_duration(rule->for_ms, dur, sizeof(dur));
		snprintf(rule->text, sizeof(rule->text), "stale for %s", dur);
		return 0;
	}
	if (record_metric_find(name, &rule->field) == -1) {
		alert_field_list(fields, sizeof(fields));
		return why_set(why, "unknown field \"%s\" (want "
		    "one of %s, or stale)", alert_shown(name, shown), fields);
	}
	p = alert_skip(p);
	if (alert_parse_op(&p, &rule->op, &optext) == -1)
		return why_set(why, "want >, >=, <, <=, == or != "
		    "at \"%s\"", alert_shown(p, shown));
	p = alert_skip(p);
	if (alert_parse_number(&p, &rule->threshold) == -1)
		return why_set(why, "want a number at \"%s\"",
		    alert_shown(p, shown));
	if (alert_parse_for(p, &rule->for_ms, false, why) == -1)
		return -1;
	rule->kind = ALERT_THRESHOLD;
	alert_number(rule->threshold, num, sizeof(num));
	if (rule->for_ms == 0)
		snprintf(rule->text, sizeof(rule->text), "%s %s %s",
		    rule->field.name, optext, num);
	else {
		alert_duration(rule->for_ms, dur, sizeof(dur));
		snprintf(rule->text, sizeof(rule->text), "%s %s %s for %s",
		    rule->field.name, optext, num, dur);
	}
	return 0;
}

int
alert_rule_check(const struct alert_rule *r, struct why *why)
{
	double lo = 0, hi = r->field.percent ? 100 : INFINITY;
	double t = r->threshold;
	bool never = false, always = false;

	if (r->kind != ALERT_THRESHOLD)
		return 0;
	switch (r->op) {
	case ALERT_GT:
		never = t >= hi;
		always = t < lo;
		break;
	case ALERT_GE:
		never = t > hi;
		always = t <= lo;
		break;
	case ALERT_LT:
		never = t <= lo;
		always = t > hi;
		break;
	case ALERT_LE:
		never = t < lo;
		always = t >= hi;
		break;
	case ALERT_EQ:
		never = t < lo || t > hi;
		break;
	case ALERT_NE:
		always = t < lo || t > hi;
		break;
	}
	if (!never && !always)
		return 0;
	if (r->field.percent)
		return why_set(why, "%s: %s is a percentage, 0 to 100",
		    never ? "never fires" : "fires for every record",
		    r->field.name);
	return why_set(why, "%s: %s is never below 0", never ?
	    "never fires" : "fires for every record", r->field.name);
}

int
alert_ruleset_add(struct alert_ruleset *set, const char *text, struct why *why)
{
	struct alert_rule *r;
	struct why warning;
	size_t i;

	if (set->n == ALERT_RULES_MAX)
		return why_set(why, "more than %d rules",
		    ALERT_RULES_MAX);
	r = &set->rules[set->n];
	if (alert_rule_parse(text, r, why) == -1)
		return -1;
	for (i = 0; i < set->n; i++) {
		/* the same alert twice would print every event twice */
		if (strcmp(set->rules[i].text, r->text) == 0)
			return why_set(why, "given twice (as "
			    "\"%s\")", r->text);
		if (r->kind == ALERT_STALE &&
		    set->rules[i].kind == ALERT_STALE)
			return why_set(why, "a second stale rule "
			    "(the first is \"%s\")", set->rules[i].text);
	}
	/* taken, as asked; a warning for a threshold out of the range */
	if (alert_rule_check(r, &warning) == -1)
		warnx("rule \"%s\": %s", r->text, warning.msg);
	set->n++;
	return 0;
}

int
alert_ruleset_add_stale(struct alert_ruleset *set, int64_t ms,
    struct why *why)
{
	char text[64];

	snprintf(text, sizeof(text), "stale for %lldms", (long long)ms);
	return alert_ruleset_add(set, text, why);
}

int
alert_ruleset_load(struct alert_ruleset *set, const char *path, struct why *why)
{
	char *line = NULL, *p, *end, shown[ALERT_SHOWN_LEN];
	struct why reason;
	unsigned long lineno = 0;
	size_t cap = 0;
	ssize_t len;
	int rc = 0;
	FILE *f;

	if ((f = fopen(path, "re")) == NULL)
		return why_set(why, "%s", strerror(errno));
	while ((len = getline(&line, &cap, f)) != -1) {
		lineno++;
		if ((p = strchr(line, '#')) != NULL)
			*p = '\0';
		p = line + strspn(line, " \t\r\n");
		end = p + strlen(p);
		while (end > p && strchr(" \t\r\n", end[-1]) != NULL)
			*--end = '\0';
		if (*p == '\0')
			continue;
		if (alert_ruleset_add(set, p, &reason) == -1) {
			rc = why_set(why, "line %lu: \"%s\": %s",
			    lineno, alert_shown(p, shown), reason.msg);
			goto close_file;
		}
	}
	if (ferror(f))
		rc = why_set(why, "%s", strerror(errno));

close_file:
	free(line);
	fclose(f);
	return rc;
}

/* ---- the engine ---- */

enum alert_phase { PHASE_IDLE, PHASE_PENDING, PHASE_FIRING };

/* One threshold rule of one host. */
struct alert_state {
	int64_t since_ms;	/* first record of the run that holds (mono) */
	int64_t since_wall_ms;	/* the same, on the wall clock */
	int64_t fired_wall_ms;	/* when it started firing (wall) */
	double value;		/* what made it fire */
	enum alert_phase phase;
};

struct alert_host {
	/*
	 * The hosts not stale, least recently heard from first: the stale
	 * check looks at the head only.  Their last_ms are times of the
	 * engine clock, which never runs backwards, so the list is sorted.
	 * A stale host is on the list of the stale instead, in the order
	 * they went stale, which is the same order: every stale host was
	 * heard from before every host not stale.
	 */
	struct alert_host *prev, *next;
	int64_t last_ms;	/* engine clock at its last record */
	int64_t last_wall_ms;	/* the same, on the wall clock */
	uint64_t hash;
	bool stale;		/* its stale alert is firing */
	bool linked;		/* on the silence list (else the stale one) */
	char *name;		/* in the same allocation, after st */
	struct alert_state st[];	/* one per threshold rule */
};

/* A list of hosts, least recently heard from first. */
struct alert_list {
	struct alert_host *head, *tail;
};

struct alert_engine {
	struct alert_rule *rules;	/* the threshold rules */
	size_t nrules;
	int64_t stale_ms;	/* 0: no stale rule */
	char stale_text[ALERT_RULE_TEXT_MAX];
	alert_emit_fn *emit;
	void *arg;
	int64_t clock_ms;	/* the newest mono_ms given */
	struct alert_host **slots;	/* open addressing, linear probing */
	size_t cap, nhosts;	/* cap a power of two */
	struct alert_list quiet;	/* the silence list */
	struct alert_list gone;		/* the stale hosts' list */
	size_t max_hosts;	/* 0: no limit */
	int64_t forget_ms;	/* 0: never forget */
	unsigned long long dropped;	/* hosts dropped: max_hosts, forget */
};

#define ALERT_SLOTS_MIN 64

struct alert_time
alert_now(void)
{
	struct alert_time t = { clock_mono_ms(), timefmt_now_ms() };

	return t;
}

struct alert_time
alert_at(int64_t ms)
{
	struct alert_time t = { ms, ms };

	return t;
}

struct alert_engine *
alert_new(const struct alert_rule *rules, size_t n, alert_emit_fn *emit,
    void *arg)
{
	struct alert_engine *e;
	size_t i;

	if (n > ALERT_RULES_MAX || (e = calloc(1, sizeof(*e))) == NULL)
		return NULL;
	e->emit = emit;
	e->arg = arg;
	e->clock_ms = INT64_MIN;
	e->cap = ALERT_SLOTS_MIN;
	if ((e->rules = calloc(n > 0 ? n : 1, sizeof(*e->rules))) == NULL ||
	    (e->slots = calloc(e->cap, sizeof(*e->slots))) == NULL)
		goto free_engine;
	for (i = 0; i < n; i++) {
		if (rules[i].kind == ALERT_THRESHOLD) {
			e->rules[e->nrules++] = rules[i];
			continue;
		}
		if (e->stale_ms != 0)
			goto free_engine;
		e->stale_ms = rules[i].for_ms;
		memcpy(e->stale_text, rules[i].text, sizeof(e->stale_text));
	}
	return e;

free_engine:
	free(e->slots);
	free(e->rules);
	free(e);
	return NULL;
}

void
alert_free(struct alert_engine *e)
{
	size_t i;

	if (e == NULL)
		return;
	for (i = 0; i < e->cap; i++)
		free(e->slots[i]);
	free(e->slots);
	free(e->rules);
	free(e);
}

static struct alert_host **
alert_slot(struct alert_host **slots, size_t cap, const char *name,
    uint64_t hash)
{
	size_t i = (size_t)hash & (cap - 1);

	while (slots[i] != NULL && (slots[i]->hash != hash ||
	    strcmp(slots[i]->name, name) != 0))
		i = (i + 1) & (cap - 1);
	return &slots[i];
}

/* Double the table; -1 when out of memory (the old one stays). */
static int
alert_grow(struct alert_engine *e)
{
	struct alert_host **slots;
	size_t i, cap = e->cap * 2;

	if ((slots = calloc(cap, sizeof(*slots))) == NULL)
		return -1;
	for (i = 0; i < e->cap; i++)
		if (e->slots[i] != NULL)
			*alert_slot(slots, cap, e->slots[i]->name,
			    e->slots[i]->hash) = e->slots[i];
	free(e->slots);
	e->slots = slots;
	e->cap = cap;
	return 0;
}

/* Take h off its list: the silence list when linked, else the stale. */
static void
alert_unlink(struct alert_engine *e, struct alert_host *h)
{
	struct alert_list *l = h->linked ? &e->quiet : &e->gone;

	if (h->prev != NULL)
		h->prev->next = h->next;
	else if (l->head == h)
		l->head = h->next;
	if (h->next != NULL)
		h->next->prev = h->prev;
	else if (l->tail == h)
		l->tail = h->prev;
	h->prev = h->next = NULL;
	h->linked = false;
}

/* Put h at the end of the silence list (quiet), else the stale one. */
static void
alert_append(struct alert_engine *e, struct alert_host *h, bool quiet)
{
	struct alert_list *l = quiet ? &e->quiet : &e->gone;

	h->prev = l->tail;
	h->next = NULL;
	if (l->tail != NULL)
		l->tail->next = h;
	else
		l->head = h;
	l->tail = h;
	h->linked = quiet;
}

/*
 * Drop h, whatever fires for it (no event: it is not resolved, only no
 * longer watched); the table stays without holes in its probe runs.
 */
static void
alert_drop(struct alert_engine *e, struct alert_host *h)
{
	size_t i = (size_t)(alert_slot(e->slots, e->cap, h->name, h->hash) -
	    e->slots), j, home;

	alert_unlink(e, h);
	e->slots[i] = NULL;
	/* backward shift: what probed past i moves up */
	for (j = (i + 1) & (e->cap - 1); e->slots[j] != NULL;
	    j = (j + 1) & (e->cap - 1)) {
		home = (size_t)e->slots[j]->hash & (e->cap - 1);
		if (((j - home) & (e->cap - 1)) >= ((j - i) & (e->cap - 1))) {
			e->slots[i] = e->slots[j];
			e->slots[j] = NULL;
			i = j;
		}
	}
	e->nhosts--;
	e->dropped++;
	free(h);
}

/* The host heard from least recently: the stale first, or NULL. */
static struct alert_host *
alert_least_recent(const struct alert_engine *e)
{
	return e->gone.head != NULL ? e->gone.head : e->quiet.head;
}

void
alert_limit(struct alert_engine *e, size_t max_hosts, int64_t forget_ms)
{
	e->max_hosts = max_hosts;
	e->forget_ms = forget_ms;
}

unsigned long long
alert_dropped(const struct alert_engine *e)
{
	return e->dropped;
}

static struct alert_host *
alert_host_get(struct alert_engine *e, const char *name)
{
	uint64_t hash = hash_string(name);
	struct alert_host **slot = alert_slot(e->slots, e->cap, name, hash);
	struct alert_host *h;
	size_t len;

	if (*slot != NULL)
		return *slot;
	/* the newest kept: room made from the least recently heard */
	if (e->max_hosts > 0 && e->nhosts >= e->max_hosts &&
	    (h = alert_least_recent(e)) != NULL) {
		alert_drop(e, h);
		slot = alert_slot(e->slots, e->cap, name, hash);
	}
	/* at most half full, so probes stay short */
	if ((e->nhosts + 1) * 2 > e->cap) {
		if (alert_grow(e) == -1)
			return NULL;
		slot = alert_slot(e->slots, e->cap, name, hash);
	}
	len = strlen(name);
	if ((h = calloc(1, sizeof(*h) + e->nrules * sizeof(h->st[0]) +
	    len + 1)) == NULL)
		return NULL;
	h->hash = hash;
	h->name = (char *)(h->st + e->nrules);
	memcpy(h->name, name, len + 1);
	*slot = h;
	e->nhosts++;
	return h;
}

static void
alert_emit(struct alert_engine *e, const char *rule, const char *host,
    bool firing, const double *value, int64_t ts_ms, int64_t since_ms)
{
	struct alert_event ev = {
		.ts_ms = ts_ms,
		.rule = rule,
		.host = host,
		.firing = firing,
		.has_value = value != NULL,
		.value = value != NULL ? *value : 0,
		.since_ms = since_ms,
	};

	if (uuid7_generate(ev.id) == -1)
		ev.id[0] = '\0';
	e->emit(&ev, e->arg);
}

void
alert_tick(struct alert_engine *e, struct alert_time now)
{
	struct alert_host *h;

	if (now.mono_ms > e->clock_ms)
		e->clock_ms = now.mono_ms;
	/* silent for more than the rule's time: a record on the dot is not */
	while (e->stale_ms > 0 && (h = e->quiet.head) != NULL &&
	    e->clock_ms - h->last_ms > e->stale_ms) {
		alert_unlink(e, h);
		alert_append(e, h, false);
		h->stale = true;
		alert_emit(e, e->stale_text, h->name, true, NULL,
		    h->last_wall_ms + e->stale_ms, h->last_wall_ms);
	}
	/* silent for forget_ms: no longer watched */
	while (e->forget_ms > 0 && (h = alert_least_recent(e)) != NULL &&
	    e->clock_ms - h->last_ms > e->forget_ms)
		alert_drop(e, h);
}

static bool
alert_holds(const struct alert_rule *r, double v)
{
	switch (r->op) {
	case ALERT_GT:
		return v > r->threshold;
	case ALERT_GE:
		return v >= r->threshold;
	case ALERT_LT:
		return v < r->threshold;
	case ALERT_LE:
		return v <= r->threshold;
	case ALERT_EQ:
		return v == r->threshold;
	case ALERT_NE:
		return v != r->threshold;
	}
	return false;
}

int
alert_feed(struct alert_engine *e, const struct record *rec,
    struct alert_time now)
{
	int64_t now_ms = now.mono_ms, wall_ms = now.wall_ms;
	struct alert_host *h;
	size_t i;

	/* other hosts silent too long by now come first, in time order */
	alert_tick(e, now);
	if ((h = alert_host_get(e, rec->host)) == NULL)
		return -1;
	if (h->stale)
		alert_emit(e, e->stale_text, h->name, false, NULL, wall_ms,
		    h->last_wall_ms);
	if (h->linked || h->stale)
		alert_unlink(e, h);
	h->stale = false;
	h->last_ms = e->clock_ms;
	/* the engine clock's moment on the wall clock (an old ts: newer) */
	h->last_wall_ms = wall_ms + (e->clock_ms - now_ms);
	alert_append(e, h, true);

	for (i = 0; i < e->nrules; i++) {
		const struct alert_rule *r = &e->rules[i];
		struct alert_state *st = &h->st[i];
		double v;

		if (!record_metric_value(rec, &r->field, &v))
			continue;	/* a record without it says nothing */
		if (!alert_holds(r, v)) {
			if (st->phase == PHASE_FIRING)
				alert_emit(e, r->text, h->name, false, &v,
				    wall_ms, st->since_wall_ms);
			st->phase = PHASE_IDLE;
			continue;
		}
		if (st->phase == PHASE_FIRING)
			continue;
		if (st->phase == PHASE_IDLE) {
			st->since_ms = now_ms;
			st->since_wall_ms = wall_ms;
			st->phase = PHASE_PENDING;
		}
		if (now_ms - st->since_ms >= r->for_ms) {
			st->phase = PHASE_FIRING;
			st->fired_wall_ms = wall_ms;
			st->value = v;
			alert_emit(e, r->text, h->name, true, &v, wall_ms,
			    st->since_wall_ms);
		}
	}
	return 0;
}

bool
alert_next_due(const struct alert_engine *e, int64_t *due_ms)
{
	if (e->stale_ms == 0 || e->quiet.head == NULL)
		return false;
	*due_ms = e->quiet.head->last_ms + e->stale_ms + 1;
	return true;
}

size_t
alert_firing(const struct alert_engine *e, alert_emit_fn *fn, void *arg)
{
	struct alert_event ev;
	size_t i, j, n = 0;

	memset(&ev, 0, sizeof(ev));
	ev.firing = true;
	for (i = 0; i < e->cap; i++) {
		const struct alert_host *h = e->slots[i];

		if (h == NULL)
			continue;
		ev.host = h->name;
		if (h->stale) {
			ev.rule = e->stale_text;
			ev.has_value = false;
			ev.ts_ms = h->last_wall_ms + e->stale_ms;
			ev.since_ms = h->last_wall_ms;
			fn(&ev, arg);
			n++;
		}
		for (j = 0; j < e->nrules; j++) {
			if (h->st[j].phase != PHASE_FIRING)
				continue;
			ev.rule = e->rules[j].text;
			ev.has_value = true;
			ev.value = h->st[j].value;
			ev.ts_ms = h->st[j].fired_wall_ms;
			ev.since_ms = h->st[j].since_wall_ms;
			fn(&ev, arg);
			n++;
		}
	}
	return n;
}

size_t
alert_hosts(const struct alert_engine *e)
{
	return e->nhosts;
}

/* s as a JSON string, quotes included; -1 when it does not fit. */
static int
alert_json_string(const char *s, char *buf, size_t size, size_t *used)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t o = *used;

	if (o + 1 >= size)
		return -1;
	buf[o++] = '"';
	for (; *p != '\0'; p++) {
		if (o + 7 >= size)
			return -1;
		if (*p == '"' || *p == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)*p;
		} else if (*p < 0x20 || *p == 0x7f)
			o += (size_t)snprintf(buf + o, 7, "\\u%04x", *p);
		else
			buf[o++] = (char)*p;
	}
	buf[o++] = '"';
	*used = o;
	return 0;
}

static int
alert_append_text(char *buf, size_t size, size_t *used, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf + *used, size - *used, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size - *used)
		return -1;
	*used += (size_t)n;
	return 0;
}

int
alert_event_format(const struct alert_event *ev, char *buf, size_t size)
{
	char ts[TIMEFMT_RFC3339_LEN], since[TIMEFMT_RFC3339_LEN], num[32];
	size_t used = 0;

	if (timefmt_rfc3339(ev->ts_ms, ts, sizeof(ts)) == -1 ||
	    timefmt_rfc3339(ev->since_ms, since, sizeof(since)) == -1)
		return -1;
	if (ev->has_value)
		alert_number(ev->value, num, sizeof(num));
	else
		snprintf(num, sizeof(num), "null");
	if (alert_append_text(buf, size, &used, ev->id[0] != '\0' ?
	    "{\"id\":\"%s\",\"ts\":\"%s\",\"rule\":" :
	    "{\"id\":null%s,\"ts\":\"%s\",\"rule\":", ev->id, ts) == -1 ||
	    alert_json_string(ev->rule, buf, size, &used) == -1 ||
	    alert_append_text(buf, size, &used, ",\"host\":") == -1 ||
	    alert_json_string(ev->host, buf, size, &used) == -1 ||
	    alert_append_text(buf, size, &used, ",\"state\":\"%s\","
	    "\"value\":%s,\"since\":\"%s\"}\n",
	    ev->firing ? "firing" : "resolved", num, since) == -1)
		return -1;
	return (int)used;
}
