/*
 * libFuzzer target: record_parse (both dialects) on one line of bytes.
 *
 * Properties beyond "no crash":
 * - a rejected line gets a one-line, UTF-8 reason;
 * - an accepted record validates, and record_format writes it in either
 *   dialect as one line of UTF-8 JSON that record_parse accepts again,
 *   giving the same record (canonical: every field, percentages to the
 *   two decimals written; seed: the fields that dialect carries, the time
 *   to the second) and, formatted once more, the very same line.
 */
#include <math.h>
#include <string.h>

#include "fuzz.h"
#include "record.h"
#include "uuid.h"

#define LINE_MAX_FMT 4096

static void
check_percent(const char *name, double want, double got)
{
	/* written with two decimals: at most half a hundredth off */
	FUZZ_CHECK(fabs(want - got) <= 0.005 + 1e-9, "%s: %.17g became %.17g",
	    name, want, got);
}

static void
check_line(const char *line, int len)
{
	FUZZ_CHECK(len > 1 && line[len - 1] == '\n', "no newline: %d", len);
	FUZZ_CHECK(memchr(line, '\n', (size_t)len - 1) == NULL,
	    "newline inside: %s", line);
	FUZZ_CHECK(utf8_valid_prefix(line, (size_t)len) == (size_t)len,
	    "not UTF-8: %s", line);
}

/* Format rec in dialect d, parse it back into back; returns the line. */
static int
round_trip(const struct record *rec, enum record_dialect d, char *line,
    struct record *back)
{
	char again[LINE_MAX_FMT];
	struct why why;
	int len, len2;

	len = record_format(rec, d, line, LINE_MAX_FMT);
	FUZZ_CHECK(len > 0, "record_format(%d) failed", (int)d);
	check_line(line, len);
	FUZZ_CHECK(record_parse(line, (size_t)len - 1, back, &why) == 0,
	    "own output refused: %s: %.*s", why.msg, len - 1, line);
	len2 = record_format(back, d, again, sizeof(again));
	FUZZ_CHECK(len2 == len && memcmp(line, again, (size_t)len) == 0,
	    "not idempotent:\n%.*s%.*s", len, line, len2, again);
	return len;
}

static void
check_common(const struct record *a, const struct record *b)
{
	FUZZ_CHECK(strcmp(a->id, b->id) == 0, "id %s/%s", a->id, b->id);
	FUZZ_CHECK(a->ram_total == b->ram_total, "ram_total");
	FUZZ_CHECK(a->ram_free == b->ram_free, "ram_free");
	FUZZ_CHECK(a->ram_used == b->ram_used, "ram_used");
	FUZZ_CHECK(a->total_processes == b->total_processes, "total");
	FUZZ_CHECK(a->running_processes == b->running_processes, "running");
	FUZZ_CHECK(a->sleeping_processes == b->sleeping_processes,
	    "sleeping");
	FUZZ_CHECK(a->stopped_processes == b->stopped_processes, "stopped");
	FUZZ_CHECK(a->zombie_processes == b->zombie_processes, "zombie");
	check_percent("cpu_usage", a->cpu_usage, b->cpu_usage);
	check_percent("cpu_free", a->cpu_free, b->cpu_free);
	check_percent("ram_percentage", a->ram_percentage, b->ram_percentage);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char line[LINE_MAX_FMT];
	struct why why;
	struct record rec, back;

	memset(why.msg, 'x', sizeof(why.msg));
	if (record_parse((const char *)data, size, &rec, &why) == -1) {
		fuzz_check_reason(&why);
		return 0;
	}
	FUZZ_CHECK(record_validate(&rec, &why) == 0, "accepted, invalid: %s",
	    why.msg);
	FUZZ_CHECK(rec.id[0] == '\0' || uuid_is_valid(rec.id), "id %s",
	    rec.id);
	FUZZ_CHECK(rec.ts_ms >= 0, "ts_ms %lld", (long long)rec.ts_ms);

	round_trip(&rec, RECORD_CANONICAL, line, &back);
	check_common(&rec, &back);
	FUZZ_CHECK(rec.ts_ms == back.ts_ms, "ts %lld/%lld",
	    (long long)rec.ts_ms, (long long)back.ts_ms);
	FUZZ_CHECK(strcmp(rec.host, back.host) == 0, "host");
	FUZZ_CHECK(strcmp(rec.collector, back.collector) == 0, "collector");
	FUZZ_CHECK(rec.ram_available == back.ram_available, "ram_available");
	FUZZ_CHECK(rec.threads == back.threads, "threads");

	/* the seed dialect has no host, collector, ram_available, threads */
	round_trip(&rec, RECORD_SEED, line, &back);
	check_common(&rec, &back);
	FUZZ_CHECK(back.ts_ms == rec.ts_ms - rec.ts_ms % 1000,
	    "hora %lld/%lld", (long long)rec.ts_ms, (long long)back.ts_ms);
	FUZZ_CHECK(back.host[0] == '\0' && back.collector[0] == '\0' &&
	    back.threads == -1, "fields the seed dialect lacks");
	FUZZ_CHECK(back.ram_available == back.ram_total - back.ram_used,
	    "derived ram_available");
	return 0;
}
