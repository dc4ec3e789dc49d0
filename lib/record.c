/*
 * The sample record: both dialects' fields, the fast scanner and the json-c
 * path, validation, and writing back in either dialect (record.h).
 */
#include <errno.h>
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonutil.h"
#include "record.h"
#include "timefmt.h"
#include "utf8.h"

/*
 * What sm's table holds (schema.c): counts in a MEDIUMINT, past the
 * kernel's PID_MAX_LIMIT (2^22), so every task fits; MiB in an INT, two
 * pebibytes.
 */
#define RECORD_COUNT_MAX 8388607LL		/* processes, threads */
#define RECORD_MIB_MAX 2147483647LL		/* MiB */

enum field_type { FIELD_ID, FIELD_TIME, FIELD_STRING, FIELD_COUNT,
	FIELD_MIB, FIELD_PERCENT };

enum field_flag {
	FIELD_REQUIRED = 1,	/* a record without it is rejected */
	FIELD_SEED_OUT = 2	/* written in the seed dialect too */
};

struct field {
	const char *name;	/* canonical key */
	const char *seed;	/* seed-dialect key, or NULL */
	const char *seed_alt;	/* another accepted seed key, or NULL */
	enum field_type type;
	size_t offset;
	size_t size;		/* for strings: the buffer's size */
	int flags;
};

#define F(name, seed, alt, type, flags) \
	{ #name, seed, alt, type, offsetof(struct record, name), \
	  sizeof(((struct record *)0)->name), flags }

/* In canonical output order; the seed dialect writes its keys in this order. */
static const struct field record_fields[] = {
	F(id, NULL, NULL, FIELD_ID, FIELD_SEED_OUT),
	F(ts_ms, "hora", NULL, FIELD_TIME, FIELD_REQUIRED),
	F(host, NULL, NULL, FIELD_STRING, 0),
	F(collector, NULL, NULL, FIELD_STRING, 0),
	F(cpu_usage, "porcentaje_cpu_uso", NULL, FIELD_PERCENT,
	    FIELD_REQUIRED),
	F(cpu_free, "porcentaje_cpu_libre", NULL, FIELD_PERCENT, 0),
	F(ram_total, "total_ram", NULL, FIELD_MIB, FIELD_REQUIRED),
	F(ram_free, "ram_libre", NULL, FIELD_MIB, FIELD_REQUIRED),
	F(ram_available, NULL, NULL, FIELD_MIB, 0),
	F(ram_used, "uso_ram", NULL, FIELD_MIB, FIELD_REQUIRED),
	F(ram_percentage, "porcentaje_ram", NULL, FIELD_PERCENT, 0),
	F(total_processes, "total_procesos", NULL, FIELD_COUNT,
	    FIELD_REQUIRED),
	F(running_processes, "procesos_corriendo", NULL, FIELD_COUNT,
	    FIELD_REQUIRED),
	F(sleeping_processes, "procesos_durmiendo", NULL, FIELD_COUNT,
	    FIELD_REQUIRED),
	F(stopped_processes, "procesos_parados", NULL, FIELD_COUNT,
	    FIELD_REQUIRED),
	F(zombie_processes, "procesos_zombie", "procesos_zombies", FIELD_COUNT,
	    FIELD_REQUIRED),
	F(threads, NULL, NULL, FIELD_COUNT, 0),
};

#define NFIELDS (sizeof(record_fields) / sizeof(record_fields[0]))

static const char *
field_key(const struct field *f)
{
	return f->type == FIELD_TIME ? "ts" : f->name;
}

#define RECORD_EXCERPT_LEN 41	/* 40 bytes of a value in a reason, NUL */

/*
 * Up to 40 bytes of the input string s for a reason, cut at a character
 * boundary, control characters written \u00XX (json-c lets raw ones
 * through in strings): the reason stays one line of UTF-8, whatever the
 * input held.
 */
static const char *
record_excerpt(const char *s, char buf[RECORD_EXCERPT_LEN])
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s), i = 0, out = 0, n;

	while (i < len) {
		if (p[i] < 0x20 || p[i] == 0x7f) {
			if (out + 6 >= RECORD_EXCERPT_LEN)
				break;
			snprintf(buf + out, 7, "\\u%04x", p[i]);
			out += 6;
			i++;
			continue;
		}
		n = utf8_seq(p + i, len - i);
		if (n == 0 || out + n >= RECORD_EXCERPT_LEN)
			break;
		memcpy(buf + out, s + i, n);
		out += n;
		i += n;
	}
	buf[out] = '\0';
	return buf;
}

/* A JSON number as a double; integers beyond 2^53 lose precision only. */
static int
json_number(struct json_object *v, double *out)
{
	if (!json_object_is_type(v, json_type_int) &&
	    !json_object_is_type(v, json_type_double))
		return -1;
	*out = json_object_get_double(v);
	return 0;
}

static int
field_read_integer(const struct field *f, const char *key,
    struct json_object *v, struct record *rec, struct why *why)
{
	int64_t max = f->type == FIELD_MIB ? RECORD_MIB_MAX : RECORD_COUNT_MAX;
	int64_t *dst = (int64_t *)((char *)rec + f->offset);
	double d;

	if (json_number(v, &d) == -1)
		return why_set(why, "%s: must be an integer, not %s", key,
		    jsonutil_noun(v));
	if (!isfinite(d))
		return why_set(why, "%s: not a finite number", key);
	if (d != floor(d))
		return why_set(why, "%s: must be an integer, not %g", key,
		    d);
	if (d < 0)
		return why_set(why, "%s: must not be negative (%.0f)", key,
		    d);
	if (d > (double)max) {
		/* json-c pins integers past 2^64 at UINT64_MAX: no digits */
		if (d >= 0x1p63)
			return why_set(why, "%s: too large (at most %lld)",
			    key, (long long)max);
		if (json_object_is_type(v, json_type_int))
			return why_set(why, "%s: %lld is out of range (at "
			    "most %lld)", key,
			    (long long)json_object_get_int64(v),
			    (long long)max);
		return why_set(why, "%s: %.0f is out of range (at most "
		    "%lld)", key, d, (long long)max);
	}
	if (json_object_is_type(v, json_type_int)) {
		errno = 0;
		*dst = json_object_get_int64(v);
		if (errno != 0 || *dst < 0 || *dst > max)
			return why_set(why, "%s: out of range", key);
	} else {
		*dst = (int64_t)d;
	}
	return 0;
}

static int
field_read_percent(const char *key, struct json_object *v, double *dst,
    struct why *why)
{
	if (json_number(v, dst) == -1)
		return why_set(why, "%s: must be a number, not %s", key,
		    jsonutil_noun(v));
	if (!isfinite(*dst))
		return why_set(why, "%s: not a finite number", key);
	if (*dst < 0 || *dst > 100)
		return why_set(why, "%s: %g is not a percentage in "
		    "[0, 100]", key, *dst);
	return 0;
}

static int
field_read_string(const struct field *f, const char *key,
    struct json_object *v, struct record *rec, struct why *why)
{
	char *dst = (char *)rec + f->offset, excerpt[RECORD_EXCERPT_LEN];
	const char *s;
	size_t len, i;

	if (!json_object_is_type(v, json_type_string))
		return why_set(why, "%s: must be a string, not %s", key,
		    jsonutil_noun(v));
	s = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	if (len >= f->size)
		return why_set(why, "%s: longer than %zu bytes", key,
		    f->size - 1);
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return why_set(why, "%s: control character at "
			    "offset %zu", key, i);
	if (f->type == FIELD_ID && !uuid_is_valid(s))
		return why_set(why, "%s: \"%s\" is not a UUID", key,
		    record_excerpt(s, excerpt));
	memcpy(dst, s, len + 1);
	return 0;
}

static int
field_read(const struct field *f, const char *key, struct json_object *v,
    struct record *rec, struct why *why)
{
	char excerpt[RECORD_EXCERPT_LEN];
	const char *s, *reason;

	switch (f->type) {
	case FIELD_ID:
	case FIELD_STRING:
		return field_read_string(f, key, v, rec, why);
	case FIELD_TIME:
		if (!json_object_is_type(v, json_type_string))
			return why_set(why, "%s: must be a string, not %s",
			    key, jsonutil_noun(v));
		s = json_object_get_string(v);
		if (timefmt_parse(s, &rec->ts_ms, &reason) == -1)
			return why_set(why, "%s: \"%s\": %s", key,
			    record_excerpt(s, excerpt), reason);
		return 0;
	case FIELD_COUNT:
	case FIELD_MIB:
		return field_read_integer(f, key, v, rec, why);
	case FIELD_PERCENT:
		return field_read_percent(key, v,
		    (double *)((char *)rec + f->offset), why);
	}
	return why_set(why, "%s: internal error", key);
}

/*
 * Find f's value under its canonical or seed key: *key is the name found,
 * NULL when absent; *v is NULL for a JSON null.
 */
static int
field_lookup(struct json_object *obj, const struct field *f,
    struct json_object **v, const char **key, struct why *why)
{
	const char *names[] = { field_key(f), f->seed, f->seed_alt };
	size_t i;

	*v = NULL;
	*key = NULL;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct json_object *found;

		if (names[i] == NULL ||
		    !json_object_object_get_ex(obj, names[i], &found))
			continue;
		if (*key != NULL)
			return why_set(why, "%s: given twice (also as %s)",
			    names[i], *key);
		*v = found;
		*key = names[i];
	}
	return 0;
}

int
record_from_json(struct json_object *obj, struct record *rec, struct why *why)
{
	bool have_cpu_free = false, have_available = false, have_pct = false;
	size_t i;

	if (!json_object_is_type(obj, json_type_object))
		return why_set(why, "not a JSON object but %s",
		    jsonutil_noun(obj));
	memset(rec, 0, sizeof(*rec));
	rec->threads = -1;
	for (i = 0; i < NFIELDS; i++) {
		const struct field *f = &record_fields[i];
		struct json_object *v;
		const char *key = NULL;

		if (field_lookup(obj, f, &v, &key, why) == -1)
			return -1;
		/* json-c holds a JSON null as NULL: key tells it was there */
		if (key == NULL && (f->flags & FIELD_REQUIRED))
			return why_set(why, "%s: missing", field_key(f));
		if (key == NULL || (v == NULL && !(f->flags & FIELD_REQUIRED)))
			continue;
		if (field_read(f, key, v, rec, why) == -1)
			return -1;
		if (f->offset == offsetof(struct record, cpu_free))
			have_cpu_free = true;
		else if (f->offset == offsetof(struct record, ram_available))
			have_available = true;
		else if (f->offset == offsetof(struct record, ram_percentage))
			have_pct = true;
	}
	/* the seed dialect and terse producers leave these to be derived */
	if (!have_cpu_free)
		rec->cpu_free = 100.0 - rec->cpu_usage;
	if (!have_available && rec->ram_used <= rec->ram_total)
		rec->ram_available = rec->ram_total - rec->ram_used;
	if (!have_pct && rec->ram_total > 0)
		rec->ram_percentage = 100.0 * (double)rec->ram_used /
		    (double)rec->ram_total;
	return record_validate(rec, why);
}

int
record_validate(const struct record *rec, struct why *why)
{
	int64_t states;

	if (rec->ram_used > rec->ram_total)
		return why_set(why, "ram_used (%lld) exceeds ram_total "
		    "(%lld)", (long long)rec->ram_used,
		    (long long)rec->ram_total);
	if (rec->ram_free > rec->ram_total)
		return why_set(why, "ram_free (%lld) exceeds ram_total "
		    "(%lld)", (long long)rec->ram_free,
		    (long long)rec->ram_total);
	if (rec->ram_available > rec->ram_total)
		return why_set(why, "ram_available (%lld) exceeds "
		    "ram_total (%lld)", (long long)rec->ram_available,
		    (long long)rec->ram_total);
	if (fabs(rec->cpu_usage + rec->cpu_free - 100.0) > 1.0)
		return why_set(why, "cpu_usage (%g) and cpu_free (%g) do "
		    "not add up to 100", rec->cpu_usage, rec->cpu_free);
	states = rec->running_processes + rec->sleeping_processes +
	    rec->stopped_processes + rec->zombie_processes;
	if (states > rec->total_processes)
		return why_set(why, "processes by state (%lld) exceed "
		    "total_processes (%lld)", (long long)states,
		    (long long)rec->total_processes);
	return 0;
}

/*
 * The fast path (record_scan): a flat object read in one pass, without
 * json-c's objects, hash tables and allocations.  It accepts only what it
 * fully understands and what record_from_json would accept as it stands,
 * giving the same record; anything else (escapes, nesting, true/false,
 * negative or huge numbers, a key twice, an invalid value) is declined,
 * and the json-c path then gives the record or the reason.
 */
#define SCAN_TOKEN_MAX 64	/* a number or a time, NUL-terminated */

size_t
record_ws(const char *p, size_t len, size_t i)
{
	while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' ||
	    p[i] == '\r'))
		i++;
	return i;
}

/* A string at p[i] == '"' without escapes or control characters: its
 * bytes in [*s, *s + *n); the offset past it, or 0. */
static size_t
scan_string(const char *p, size_t len, size_t i, const char **s, size_t *n)
{
	size_t j;

	for (j = i + 1; j < len; j++) {
		unsigned char c = (unsigned char)p[j];

		if (c == '"') {
			*s = p + i + 1;
			*n = j - i - 1;
			return j + 1;
		}
		if (c == '\\' || c < 0x20)
			return 0;
	}
	return 0;
}

static bool
scan_digit(const char *p, size_t len, size_t j)
{
	return j < len && p[j] >= '0' && p[j] <= '9';
}

/* A JSON number at p[i], not negative: the offset past it, or 0. */
static size_t
scan_number(const char *p, size_t len, size_t i, bool *is_int)
{
	size_t j = i;

	*is_int = true;
	if (!scan_digit(p, len, j))
		return 0;
	if (p[j++] != '0')
		while (scan_digit(p, len, j))
			j++;
	if (j < len && p[j] == '.') {
		*is_int = false;
		if (!scan_digit(p, len, ++j))
			return 0;
		while (scan_digit(p, len, j))
			j++;
	}
	if (j < len && (p[j] == 'e' || p[j] == 'E')) {
		*is_int = false;
		j++;
		if (j < len && (p[j] == '+' || p[j] == '-'))
			j++;
		if (!scan_digit(p, len, j))
			return 0;
		while (scan_digit(p, len, j))
			j++;
	}
	return j;
}

static const double scan_pow10[] = { 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6,
	1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18,
	1e19, 1e20, 1e21, 1e22 };

static locale_t scan_c_locale;
static pthread_once_t scan_once = PTHREAD_ONCE_INIT;

/*
 * The double a number token n[0..len) stands for, as json-c's strtod
 * gives it.  Up to 15 significant digits and 22 decimals, without an
 * exponent, the quotient of two exact doubles is the correctly rounded
 * value (what strtod gives); else strtod itself, in the C locale.
 */
static int
scan_double(const char *n, size_t len, double *out)
{
	char buf[SCAN_TOKEN_MAX];
	uint64_t mant = 0;
	size_t i, digits = 0, decimals = 0;
	bool point = false;

	for (i = 0; i < len; i++) {
		if (n[i] == '.') {
			point = true;
			continue;
		}
		if (n[i] < '0' || n[i] > '9')
			break;
		mant = mant * 10 + (uint64_t)(n[i] - '0');
		if (mant != 0)
			digits++;
		decimals += point;
	}
	if (i == len && digits <= 15 && decimals <= 22) {
		*out = (double)mant / scan_pow10[decimals];
		return 0;
	}
	if (len >= sizeof(buf))
		return -1;
	memcpy(buf, n, len);
	buf[len] = '\0';
	if (scan_c_locale == (locale_t)0)
		return -1;
	*out = strtod_l(buf, NULL, scan_c_locale);
	return 0;
}

/* Every key a field goes by, canonical and seed, made once. */
struct scan_key {
	const char *name;
	size_t len;
	const struct field *f;
};

static struct scan_key scan_keys[NFIELDS * 3];
static size_t scan_nkeys;
static uint32_t scan_required;	/* bits of the fields a record needs */
/* cpu_free, ram_available, ram_percentage */
static uint32_t scan_derived[3];

static uint32_t scan_bit(size_t offset);

static void
scan_init(void)
{
	size_t i, j;

	scan_c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
	for (i = 0; i < NFIELDS; i++) {
		const struct field *f = &record_fields[i];
		const char *names[] = { field_key(f), f->seed, f->seed_alt };

		for (j = 0; j < sizeof(names) / sizeof(names[0]); j++)
			if (names[j] != NULL)
				scan_keys[scan_nkeys++] = (struct scan_key){
				    names[j], strlen(names[j]), f };
		if (f->flags & FIELD_REQUIRED)
			scan_required |= 1u << i;
	}
	scan_derived[0] = scan_bit(offsetof(struct record, cpu_free));
	scan_derived[1] = scan_bit(offsetof(struct record, ram_available));
	scan_derived[2] = scan_bit(offsetof(struct record, ram_percentage));
}

/*
 * The field whose key is k[0..n), or NULL.  Keys mostly come in the
 * table's order, so the search starts after the last one found (*hint).
 */
static const struct field *
scan_field(const char *k, size_t n, size_t *hint)
{
	size_t i, at;

	for (i = 0; i < scan_nkeys; i++) {
		at = (*hint + i) % scan_nkeys;
		if (scan_keys[at].len == n && scan_keys[at].name[0] == k[0] &&
		    memcmp(scan_keys[at].name, k, n) == 0) {
			*hint = at + 1;
			return scan_keys[at].f;
		}
	}
	return NULL;
}

/* A value for f at p[i]: stored in rec; the offset past it, or 0. */
static size_t
scan_value(const struct field *f, const char *p, size_t len, size_t i,
    struct record *rec)
{
	char buf[SCAN_TOKEN_MAX], *dst = (char *)rec + f->offset;
	const char *s, *reason;
	size_t end, n, k;
	bool is_int;

	switch (f->type) {
	case FIELD_ID:
	case FIELD_STRING:
	case FIELD_TIME:
		if (p[i] != '"' || (end = scan_string(p, len, i, &s, &n)) == 0)
			return 0;
		if (f->type == FIELD_TIME) {
			if (n >= sizeof(buf))
				return 0;
			memcpy(buf, s, n);
			buf[n] = '\0';
			return timefmt_parse(buf, &rec->ts_ms, &reason) == 0 ?
			    end : 0;
		}
		if (n >= f->size || memchr(s, 0x7f, n) != NULL)
			return 0;
		memcpy(dst, s, n);
		dst[n] = '\0';
		if (f->type == FIELD_ID && !uuid_is_valid(dst))
			return 0;
		return end;
	case FIELD_COUNT:
	case FIELD_MIB:
		if ((end = scan_number(p, len, i, &is_int)) == 0 || !is_int ||
		    end - i > 15)
			return 0;
		*(int64_t *)dst = 0;
		for (k = i; k < end; k++)
			*(int64_t *)dst = *(int64_t *)dst * 10 + (p[k] - '0');
		if (*(int64_t *)dst > (f->type == FIELD_MIB ? RECORD_MIB_MAX :
		    RECORD_COUNT_MAX))
			return 0;
		return end;
	case FIELD_PERCENT:
		if ((end = scan_number(p, len, i, &is_int)) == 0 ||
		    scan_double(p + i, end - i, (double *)dst) == -1 ||
		    !isfinite(*(double *)dst) || *(double *)dst > 100)
			return 0;
		return end;
	}
	return 0;
}

/* A value of a key that is not a field: the offset past it, or 0. */
static size_t
scan_skip(const char *p, size_t len, size_t i)
{
	const char *s;
	size_t n;
	bool is_int;

	if (p[i] == '"')
		return scan_string(p, len, i, &s, &n);
	if (len - i >= 4 && memcmp(p + i, "null", 4) == 0)
		return i + 4;
	if (len - i >= 4 && memcmp(p + i, "true", 4) == 0)
		return i + 4;
	if (len - i >= 5 && memcmp(p + i, "false", 5) == 0)
		return i + 5;
	return scan_number(p, len, i, &is_int);
}

/* The bit of the field at offset in a mask of fields. */
static uint32_t
scan_bit(size_t offset)
{
	size_t k;

	for (k = 0; k < NFIELDS; k++)
		if (record_fields[k].offset == offset)
			return 1u << k;
	return 0;
}

size_t
record_scan(const char *p, size_t len, struct record *rec, bool *id_key)
{
	uint32_t seen = 0, nulls = 0, given;
	struct why why;
	size_t i, k, n, hint = 0;
	const char *key;

	pthread_once(&scan_once, scan_init);
	if (id_key != NULL)
		*id_key = false;
	memset(rec, 0, sizeof(*rec));
	rec->threads = -1;
	i = record_ws(p, len, 0);
	if (i >= len || p[i] != '{')
		return 0;
	i = record_ws(p, len, i + 1);
	if (i < len && p[i] == '}')
		return 0;		/* {}: the reason comes from json-c */
	for (;;) {
		const struct field *f;

		if (i >= len || p[i] != '"' ||
		    (i = scan_string(p, len, i, &key, &n)) == 0)
			return 0;
		i = record_ws(p, len, i);
		if (i >= len || p[i] != ':')
			return 0;
		i = record_ws(p, len, i + 1);
		if (i >= len)
			return 0;
		if (n == 0 || (f = scan_field(key, n, &hint)) == NULL) {
			i = scan_skip(p, len, i);
		} else {
			k = (size_t)(f - record_fields);
			if (f->type == FIELD_ID && id_key != NULL)
				*id_key = true;
			if (seen & (1u << k))
				return 0;	/* twice: json-c says how */
			seen |= 1u << k;
			if (len - i >= 4 && memcmp(p + i, "null", 4) == 0) {
				/* an optional null counts as absent */
				if (f->flags & FIELD_REQUIRED)
					return 0;
				nulls |= 1u << k;
				i += 4;
			} else {
				i = scan_value(f, p, len, i, rec);
			}
		}
		if (i == 0)
			return 0;
		i = record_ws(p, len, i);
		if (i < len && p[i] == ',') {
			i = record_ws(p, len, i + 1);
			continue;
		}
		if (i < len && p[i] == '}')
			break;
		return 0;
	}
	if ((seen & scan_required) != scan_required)
		return 0;
	/* as record_from_json derives them */
	given = seen & ~nulls;
	if (!(given & scan_derived[0]))
		rec->cpu_free = 100.0 - rec->cpu_usage;
	if (!(given & scan_derived[1]) &&
	    rec->ram_used <= rec->ram_total)
		rec->ram_available = rec->ram_total - rec->ram_used;
	if (!(given & scan_derived[2]) &&
	    rec->ram_total > 0)
		rec->ram_percentage = 100.0 * (double)rec->ram_used /
		    (double)rec->ram_total;
	if (record_validate(rec, &why) == -1)
		return 0;
	return i + 1;
}

int
record_line_text(const char *line, size_t len, struct why *why)
{
	const char *nul;
	size_t good;

	if ((nul = memchr(line, '\0', len)) != NULL)
		return why_set(why, "NUL byte at column %zu",
		    (size_t)(nul - line) + 1);
	/* json-c lets overlong forms and surrogates through */
	if ((good = utf8_valid_prefix(line, len)) < len)
		return why_set(why, "invalid UTF-8 at column %zu",
		    good + 1);
	if (len >= 3 && memcmp(line, "\xef\xbb\xbf", 3) == 0)
		return why_set(why, "a byte order mark before the object "
		    "(only the first line may have one)");
	return 0;
}

size_t
record_twice(struct json_tokener *tok, const char *text, size_t len,
    int depth, void (*twice)(void *arg, size_t nth, const char *name),
    void *arg)
{
	bool seen[sizeof(scan_keys) / sizeof(scan_keys[0])] = { false };
	const struct field *f;
	struct json_object *key;
	size_t i, str = 0, end = 0, hint = 0, nth = 0, found = 0;
	bool in = false, escaped = false, said = false;
	int at = 0;

	pthread_once(&scan_once, scan_init);
	for (i = 0; i < len; i++) {
		if (in) {
			if (escaped)
				escaped = false;
			else if (text[i] == '\\')
				escaped = true;
			else if (text[i] == '"') {
				in = false;
				end = i + 1;
			}
			continue;
		}
		if (text[i] == '"') {
			in = true;
			str = i;
		} else if (text[i] == '{' || text[i] == '[') {
			/* an object of that depth begins: names afresh */
			if (++at == depth && text[i] == '{') {
				memset(seen, 0, sizeof(seen));
				said = false;
			}
		} else if (text[i] == '}' || text[i] == ']') {
			at--;
		} else if (text[i] == ',' && at == depth - 1) {
			nth++;		/* the next element */
		}
		if (text[i] != ':' || at != depth || said)
			continue;
		/*
		 * json-c has judged the text: a ':' outside a string ends a
		 * key; one with an escape is decoded by json-c
		 */
		f = NULL;
		if (memchr(text + str, '\\', end - str) == NULL) {
			f = scan_field(text + str + 1, end - str - 2, &hint);
		} else {
			json_tokener_reset(tok);
			key = json_tokener_parse_ex(tok, text + str,
			    (int)(end - str));
			if (key != NULL)
				f = scan_field(json_object_get_string(key),
				    (size_t)json_object_get_string_len(key),
				    &hint);
			json_object_put(key);
		}
		if (f == NULL)
			continue;
		if (seen[hint - 1]) {
			twice(arg, nth, scan_keys[hint - 1].name);
			said = true;
			found++;
		}
		seen[hint - 1] = true;
	}
	return found;
}

/* record_twice's answer for one object: the reason, in why. */
static void
record_twice_why(void *arg, size_t nth, const char *name)
{
	(void)nth;
	why_set(arg, "%s: given twice", name);
}

struct json_object *
record_line_object(struct json_tokener *tok, const char *line, size_t len,
    size_t *start, size_t *end, struct why *why)
{
	struct json_tokener *own = NULL;
	struct json_object *obj = NULL;
	bool padded = false;
	size_t stop, i;

	if (record_line_text(line, len, why) == -1)
		return NULL;
	if (len > INT_MAX) {
		why_set(why, "a line of %zu bytes is too long", len);
		return NULL;
	}
	if (tok == NULL && (tok = own = json_tokener_new()) == NULL) {
		why_set(why, "out of memory");
		return NULL;
	}
	json_tokener_reset(tok);
	/* trailing text is judged below, with a clearer reason */
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
	    JSON_TOKENER_VALIDATE_UTF8 | JSON_TOKENER_ALLOW_TRAILING_CHARS);
	obj = json_tokener_parse_ex(tok, line, (int)len);
	/* a bare number or word only ends at what follows it */
	if (obj == NULL && json_tokener_get_error(tok) ==
	    json_tokener_continue) {
		obj = json_tokener_parse_ex(tok, " ", 1);
		padded = true;
	}
	if (obj == NULL) {
		enum json_tokener_error jerr = json_tokener_get_error(tok);

		/* json-c's JSON null is a NULL object */
		if (jerr == json_tokener_success)
			why_set(why, "not a JSON object but null");
		else if (jerr == json_tokener_continue)
			why_set(why, "invalid JSON: truncated at column %zu",
			    len + 1);
		else
			why_set(why, "invalid JSON at column %zu: %s",
			    json_tokener_get_parse_end(tok) + 1,
			    json_tokener_error_desc(jerr));
		goto out_free_tokener;
	}
	/* the kind first: "[1] x" is an array, not an object with a tail */
	if (!json_object_is_type(obj, json_type_object)) {
		why_set(why, "not a JSON object but %s",
		    jsonutil_noun(obj));
		goto out_put_obj;
	}
	/* json-c's parse end is past the white space after the value */
	stop = padded ? len : json_tokener_get_parse_end(tok);
	if (stop > len)
		stop = len;
	if ((i = record_ws(line, len, stop)) < len) {
		why_set(why, "invalid JSON at column %zu: text after the "
		    "object", i + 1);
		goto out_put_obj;
	}
	if (record_twice(tok, line, stop, 1, record_twice_why, why) > 0)
		goto out_put_obj;
	if (start != NULL)
		*start = record_ws(line, len, 0);
	if (end != NULL) {
		while (stop > 0 && line[stop - 1] != '}')
			stop--;
		*end = stop;
	}
	goto out_free_tokener;
out_put_obj:
	json_object_put(obj);
	obj = NULL;
out_free_tokener:
	/* json-c's free does not take NULL */
	if (own != NULL)
		json_tokener_free(own);
	return obj;
}

int
record_parse(const char *line, size_t len, struct record *rec, struct why *why)
{
	struct json_object *obj;
	size_t end;
	int rc;

	if (record_line_text(line, len, why) == -1)
		return -1;
	if ((end = record_scan(line, len, rec, NULL)) > 0 &&
	    record_ws(line, len, end) == len)
		return 0;
	if ((obj = record_line_object(NULL, line, len, NULL, NULL,
	    why)) == NULL)
		return -1;
	rc = record_from_json(obj, rec, why);
	json_object_put(obj);
	return rc;
}

/* A number with at most two decimals, written without trailing zeros. */
static struct json_object *
json_percent(double v)
{
	char buf[32];
	char *end;

	snprintf(buf, sizeof(buf), "%.2f", v);
	end = buf + strlen(buf) - 1;
	while (*end == '0')
		*end-- = '\0';
	if (*end == '.')
		*end = '\0';
	if (strcmp(buf, "-0") == 0)
		strcpy(buf, "0");
	return json_object_new_double_s(v, buf);
}

static struct json_object *
field_to_json(const struct field *f, const struct record *rec,
    enum record_dialect dialect)
{
	const char *p = (const char *)rec + f->offset;
	char buf[TIMEFMT_RFC3339_LEN];

	switch (f->type) {
	case FIELD_ID:
	case FIELD_STRING:
		return *p == '\0' ? NULL : json_object_new_string(p);
	case FIELD_TIME:
		if ((dialect == RECORD_SEED ? timefmt_seed(rec->ts_ms, buf,
		    sizeof(buf)) : timefmt_rfc3339(rec->ts_ms, buf,
		    sizeof(buf))) == -1)
			return NULL;
		return json_object_new_string(buf);
	case FIELD_COUNT:
	case FIELD_MIB:
		if (*(const int64_t *)p < 0)
			return NULL;
		return json_object_new_int64(*(const int64_t *)p);
	case FIELD_PERCENT:
		return json_percent(*(const double *)p);
	}
	return NULL;
}

struct json_object *
record_to_json(const struct record *rec, enum record_dialect dialect)
{
	struct json_object *obj;
	size_t i;

	if ((obj = json_object_new_object()) == NULL)
		return NULL;
	for (i = 0; i < NFIELDS; i++) {
		const struct field *f = &record_fields[i];
		const char *key = dialect == RECORD_SEED ? f->seed :
		    field_key(f);
		struct json_object *v;

		if (dialect == RECORD_SEED && (f->flags & FIELD_SEED_OUT))
			key = field_key(f);
		if (key == NULL)
			continue;
		if ((v = field_to_json(f, rec, dialect)) == NULL)
			continue;
		if (json_object_object_add(obj, key, v) != 0) {
			json_object_put(v);
			json_object_put(obj);
			return NULL;
		}
	}
	return obj;
}

int
record_format(const struct record *rec, enum record_dialect dialect,
    char *buf, size_t size)
{
	struct json_object *obj;
	int rc;

	if ((obj = record_to_json(rec, dialect)) == NULL)
		return -1;
	rc = jsonutil_line(obj, buf, size);
	json_object_put(obj);
	return rc;
}

int
record_dialect_parse(const char *name, enum record_dialect *dialect)
{
	if (strcmp(name, "canonical") == 0)
		*dialect = RECORD_CANONICAL;
	else if (strcmp(name, "seed") == 0)
		*dialect = RECORD_SEED;
	else
		return -1;
	return 0;
}

static bool
field_is_metric(const struct field *f)
{
	return f->type == FIELD_COUNT || f->type == FIELD_MIB ||
	    f->type == FIELD_PERCENT;
}

static void
field_metric(const struct field *f, struct record_metric *m)
{
	m->name = f->name;
	m->offset = f->offset;
	m->integer = f->type != FIELD_PERCENT;
	m->percent = f->type == FIELD_PERCENT;
}

int
record_metric_find(const char *key, struct record_metric *m)
{
	size_t i;

	for (i = 0; i < NFIELDS; i++) {
		const struct field *f = &record_fields[i];

		if (!field_is_metric(f))
			continue;
		if (strcmp(key, f->name) == 0 ||
		    (f->seed != NULL && strcmp(key, f->seed) == 0) ||
		    (f->seed_alt != NULL && strcmp(key, f->seed_alt) == 0)) {
			field_metric(f, m);
			return 0;
		}
	}
	return -1;
}

int
record_metric_at(size_t n, struct record_metric *m)
{
	size_t i;

	for (i = 0; i < NFIELDS; i++) {
		if (!field_is_metric(&record_fields[i]))
			continue;
		if (n-- == 0) {
			field_metric(&record_fields[i], m);
			return 0;
		}
	}
	return -1;
}

int
record_metric_value(const struct record *rec, const struct record_metric *m,
    double *value)
{
	const char *p = (const char *)rec + m->offset;

	if (m->integer) {
		int64_t v;

		memcpy(&v, p, sizeof(v));
		/* validated counts are never negative: -1 marks one absent */
		if (v < 0)
			return 0;
		*value = (double)v;
	} else
		memcpy(value, p, sizeof(*value));
	return 1;
}
