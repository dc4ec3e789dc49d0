/*
 * Alert rules and the engine that evaluates them per host (sm-alert(1)).
 *
 * A rule is "FIELD OP NUMBER [for DURATION]" (a threshold) or
 * "stale for DURATION" (a host that stopped sending records).  The engine
 * is fed records, each with the time it counts at, and ticked by a clock;
 * it calls back with an event when an alert of a host starts firing and
 * when it resolves, never while the state holds.  Times are int64
 * milliseconds (struct alert_time): durations and silences are measured
 * on a clock that never runs backwards (the engine keeps the newest it was
 * given), events are stamped with the wall clock.  One engine is used by
 * one thread.
 */
#ifndef SM_ALERT_H
#define SM_ALERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "record.h"
#include "uuid.h"
#include "why.h"

#define ALERT_RULE_TEXT_MAX 128	/* a normalised rule, with its NUL */
#define ALERT_RULES_MAX 256	/* rules per engine */
#define ALERT_DURATION_MAX (30LL * 86400 * 1000)	/* ms: 30 days */
#define ALERT_EVENT_MAX 2048	/* an event line: any host, escaped, fits */

enum alert_kind { ALERT_THRESHOLD, ALERT_STALE };
enum alert_op { ALERT_GT, ALERT_GE, ALERT_LT, ALERT_LE, ALERT_EQ, ALERT_NE };

struct alert_rule {
	enum alert_kind kind;
	struct record_metric field;	/* ALERT_THRESHOLD */
	enum alert_op op;
	double threshold;
	int64_t for_ms;		/* must hold this long; the silence, if stale */
	/* normalised: "cpu_usage > 90 for 30s" */
	char text[ALERT_RULE_TEXT_MAX];
};

/*
 * Parse one rule.  Field names are either dialect's keys (sm-record(5)),
 * held under the canonical one; DURATION is a number with ms, s, m or h
 * (s when none).  Returns 0, or -1 with what is wrong in why.
 */
int alert_rule_parse(const char *text, struct alert_rule *rule,
    struct why *why);

/*
 * 0 when the threshold rule r can both hold and not, by its field's range
 * (a percentage is 0 to 100, any other field 0 or more); -1 with why it
 * never fires or fires for every record ("cpu_usage > 150").  0 for a
 * stale rule.
 */
int alert_rule_check(const struct alert_rule *r, struct why *why);

/*
 * Rules as gathered from options and files, checked as they come; a rule
 * alert_rule_check finds out of range is taken, with a warning on standard
 * error.
 */
struct alert_ruleset {
	struct alert_rule rules[ALERT_RULES_MAX];
	size_t n;
};

/*
 * Parse text and add it; -1 with the reason in why when it does not parse,
 * repeats a rule, is a second stale rule or one too many.
 */
int alert_ruleset_add(struct alert_ruleset *set, const char *text,
    struct why *why);

/* Add "stale for MS": a host silent longer than ms; as alert_ruleset_add. */
int alert_ruleset_add_stale(struct alert_ruleset *set, int64_t ms,
    struct why *why);

/*
 * Add the rules of a file: one a line; blank lines and what follows a #
 * are ignored.  -1 with "LINE: \"rule\": reason" (or why the file cannot
 * be read) in why.
 */
int alert_ruleset_load(struct alert_ruleset *set, const char *path,
    struct why *why);

struct alert_event {
	char id[UUID_STR_LEN];	/* UUIDv7; "" when no random bytes */
	/* when the state changed: wall clock, ms since the epoch */
	int64_t ts_ms;
	const char *rule;	/* the rule's normalised text */
	const char *host;	/* "" for records without a host */
	bool firing;		/* else resolved */
	bool has_value;		/* false for stale alerts */
	double value;		/* the value that made it fire or resolve */
	int64_t since_ms;	/* when the condition began (wall clock) */
};

/* Called for each event; ev and its strings are valid during the call. */
typedef void alert_emit_fn(const struct alert_event *ev, void *arg);

struct alert_engine;

/*
 * An engine over a copy of rules (at most one stale rule); NULL when out
 * of memory or the rules are not acceptable (too many, two stale rules).
 */
struct alert_engine *alert_new(const struct alert_rule *rules, size_t n,
    alert_emit_fn *emit, void *arg);
void alert_free(struct alert_engine *e);

/*
 * A moment, in ms: mono_ms on a clock that never runs backwards measures
 * `for` durations and silences; wall_ms (since the epoch) is what events'
 * ts and since say.  Live, CLOCK_MONOTONIC and the real-time clock
 * (alert_now), so a stepped wall clock neither fires stale alerts nor
 * changes durations; in replay both are the record's ts (alert_at).
 */
struct alert_time {
	int64_t mono_ms;
	int64_t wall_ms;
};

/* Now, on both clocks. */
struct alert_time alert_now(void);

/* A moment whose two clocks are one: ms since the epoch (replay, tests). */
struct alert_time alert_at(int64_t ms);

/*
 * One record of rec->host, counting at time now: events for its
 * thresholds and for its stale alert, then for other hosts gone stale by
 * now.  0, or -1 when out of memory (the record is lost to the engine).
 */
int alert_feed(struct alert_engine *e, const struct record *rec,
    struct alert_time now);

/* The clock reached now: stale alerts due by then fire. */
void alert_tick(struct alert_engine *e, struct alert_time now);

/*
 * When alert_tick next has work to do, on the mono_ms clock, into *due_ms;
 * false for never.
 */
bool alert_next_due(const struct alert_engine *e, int64_t *due_ms);

/*
 * Call fn for every alert firing now (ts_ms is when it started firing,
 * value what made it fire, id ""), for a page that shows them; returns
 * how many.
 */
size_t alert_firing(const struct alert_engine *e, alert_emit_fn *fn,
    void *arg);

/* Hosts the engine holds state for. */
size_t alert_hosts(const struct alert_engine *e);

/*
 * Bound the engine's state: at most max_hosts hosts (0: no limit; a new
 * host makes room by dropping the one heard from least recently, the
 * stale first), and a host silent for forget_ms dropped (0: never).  A
 * host dropped takes its alerts with it, firing or not, without an event
 * (they did not resolve); should it come back, it starts afresh.
 */
void alert_limit(struct alert_engine *e, size_t max_hosts, int64_t forget_ms);

/* Hosts dropped by alert_limit's bounds so far. */
unsigned long long alert_dropped(const struct alert_engine *e);

/*
 * ev as one line of JSON and a newline (sm-alert(1), EVENTS) into buf;
 * the length, or -1 when it does not fit (ALERT_EVENT_MAX always does).
 */
int alert_event_format(const struct alert_event *ev, char *buf, size_t size);

#endif
