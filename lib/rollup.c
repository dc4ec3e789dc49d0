/*
 * The rollup's aggregation in memory (rollup.h): a hash table of buckets
 * keyed by host, source and bucket start, filled row by row, folded into
 * coarser buckets, and written as VALUES rows.  Integers and DECIMALs
 * add up exactly, as integers (12.34 as 1234); FLOAT and DOUBLE in
 * double precision, as the server's SUM does.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <mysql.h>

#include "rollup.h"
#include "timefmt.h"

#define ROLLUP_SLOTS_MIN 256	/* hash slots at first; doubled when full */

struct rollup {
	int64_t bucket_s;
	size_t nfields;
	struct rollup_field *fields;
	struct rollup_bucket **slot;
	size_t nslots, count;
	uint64_t rows;
	struct rollup_bucket **sorted;	/* rollup_sorted's, or NULL */
};

/* FNV-1a over bytes, from h */
static uint64_t
rollup_hash_bytes(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;

	while (n-- > 0) {
		h ^= *s++;
		h *= 1099511628211ULL;
	}
	return h;
}

static uint64_t
rollup_hash(const char *host, size_t host_len, const char *source,
    size_t source_len, int64_t start)
{
	uint64_t h = 14695981039346656037ULL;

	h = rollup_hash_bytes(h, &host_len, sizeof(host_len));
	h = rollup_hash_bytes(h, host, host_len);
	h = rollup_hash_bytes(h, source, source_len);
	return rollup_hash_bytes(h, &start, sizeof(start));
}

struct rollup *
rollup_new(int64_t bucket_s, const struct rollup_field *fields,
    size_t nfields)
{
	struct rollup *r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->bucket_s = bucket_s;
	r->nfields = nfields;
	r->nslots = ROLLUP_SLOTS_MIN;
	if ((r->fields = calloc(nfields + 1, sizeof(*fields))) == NULL ||
	    (r->slot = calloc(r->nslots, sizeof(*r->slot))) == NULL) {
		rollup_free(r);
		return NULL;
	}
	memcpy(r->fields, fields, nfields * sizeof(*fields));
	return r;
}

void
rollup_clear(struct rollup *r)
{
	struct rollup_bucket *b, *next;
	size_t i;

	for (i = 0; i < r->nslots; i++) {
		for (b = r->slot[i]; b != NULL; b = next) {
			next = b->next;
			free(b);
		}
		r->slot[i] = NULL;
	}
	free(r->sorted);
	r->sorted = NULL;
	r->count = 0;
	r->rows = 0;
}

void
rollup_free(struct rollup *r)
{
	if (r == NULL)
		return;
	if (r->slot != NULL)
		rollup_clear(r);
	free(r->slot);
	free(r->fields);
	free(r);
}

size_t
rollup_count(const struct rollup *r)
{
	return r->count;
}

uint64_t
rollup_rows(const struct rollup *r)
{
	return r->rows;
}

/* Twice the slots, the buckets moved over; -1 when out of memory. */
static int
rollup_grow(struct rollup *r)
{
	struct rollup_bucket **slot, *b, *next;
	size_t n = r->nslots * 2, i;

	if ((slot = calloc(n, sizeof(*slot))) == NULL)
		return -1;
	for (i = 0; i < r->nslots; i++)
		for (b = r->slot[i]; b != NULL; b = next) {
			next = b->next;
			b->next = slot[b->hash & (n - 1)];
			slot[b->hash & (n - 1)] = b;
		}
	free(r->slot);
	r->slot = slot;
	r->nslots = n;
	return 0;
}

/* The bucket of (host, source, start), made empty when new; NULL: ENOMEM */
static struct rollup_bucket *
rollup_bucket(struct rollup *r, const char *host, size_t host_len,
    const char *source, size_t source_len, int64_t start)
{
	uint64_t h = rollup_hash(host, host_len, source, source_len, start);
	struct rollup_bucket *b, **head;
	char *key;

	for (b = r->slot[h & (r->nslots - 1)]; b != NULL; b = b->next)
		if (b->hash == h && b->start == start &&
		    b->host_len == host_len && b->source_len == source_len &&
		    memcmp(b->key, host, host_len) == 0 &&
		    memcmp(b->key + host_len, source, source_len) == 0)
			return b;
	if (r->count >= r->nslots && rollup_grow(r) == -1)
		return NULL;
	b = calloc(1, sizeof(*b) + r->nfields * sizeof(b->agg[0]) +
	    host_len + source_len + 1);
	if (b == NULL)
		return NULL;
	key = (char *)&b->agg[r->nfields];
	memcpy(key, host, host_len);
	memcpy(key + host_len, source, source_len);
	b->key = key;
	b->host_len = host_len;
	b->source_len = source_len;
	b->start = start;
	b->hash = h;
	head = &r->slot[h & (r->nslots - 1)];
	b->next = *head;
	*head = b;
	r->count++;
	free(r->sorted);
	r->sorted = NULL;
	return b;
}

/* Would adding the integer sums of from to a overflow? */
static bool
rollup_overflows(const struct rollup *r, const struct rollup_agg *a,
    const struct rollup_agg *from)
{
	int64_t sum;
	size_t k;

	for (k = 0; k < r->nfields; k++)
		if (r->fields[k].kind == ROLLUP_FIXED && a[k].n > 0 &&
		    from[k].n > 0 && __builtin_add_overflow(a[k].sum.i,
		    from[k].sum.i, &sum))
			return true;
	return false;
}

/* Field k's figures from into a. */
static void
rollup_merge(const struct rollup_field *f, struct rollup_agg *a,
    const struct rollup_agg *from)
{
	if (from->n == 0)
		return;
	if (a->n == 0) {
		*a = *from;
		return;
	}
	a->n += from->n;
	if (f->kind == ROLLUP_FIXED) {
		if (from->min.i < a->min.i)
			a->min.i = from->min.i;
		if (from->max.i > a->max.i)
			a->max.i = from->max.i;
		a->sum.i += from->sum.i;
	} else {
		if (from->min.d < a->min.d)
			a->min.d = from->min.d;
		if (from->max.d > a->max.d)
			a->max.d = from->max.d;
		a->sum.d += from->sum.d;
	}
}

/* The bucket's start of time t: floored, also before the epoch. */
static int64_t
rollup_start(const struct rollup *r, int64_t t)
{
	int64_t m = t % r->bucket_s;

	return t - (m < 0 ? m + r->bucket_s : m);
}

int
rollup_add(struct rollup *r, const char *host, size_t host_len,
    const char *source, size_t source_len, int64_t t,
    const union rollup_num *v, const char *null)
{
	struct rollup_agg one = { .n = 1 };
	struct rollup_bucket *b;
	int64_t sum;
	size_t k;

	b = rollup_bucket(r, host, host_len, source, source_len,
	    rollup_start(r, t));
	if (b == NULL)
		return errno = ENOMEM, -1;
	for (k = 0; k < r->nfields; k++)
		if (!null[k] && r->fields[k].kind == ROLLUP_FIXED &&
		    b->agg[k].n > 0 && __builtin_add_overflow(
		    b->agg[k].sum.i, v[k].i, &sum))
			return errno = ERANGE, -1;
	for (k = 0; k < r->nfields; k++) {
		if (null[k])
			continue;
		one.min = one.max = one.sum = v[k];
		rollup_merge(&r->fields[k], &b->agg[k], &one);
	}
	b->samples++;
	r->rows++;
	return 0;
}

int
rollup_fold(struct rollup *r, const struct rollup *from)
{
	struct rollup_bucket *fb, *b;
	size_t i, k;

	for (i = 0; i < from->nslots; i++)
		for (fb = from->slot[i]; fb != NULL; fb = fb->next) {
			b = rollup_bucket(r, fb->key, fb->host_len,
			    fb->key + fb->host_len, fb->source_len,
			    rollup_start(r, fb->start));
			if (b == NULL)
				return errno = ENOMEM, -1;
			if (rollup_overflows(r, b->agg, fb->agg))
				return errno = ERANGE, -1;
			for (k = 0; k < r->nfields; k++)
				rollup_merge(&r->fields[k], &b->agg[k],
				    &fb->agg[k]);
			b->samples += fb->samples;
		}
	r->rows += from->rows;
	return 0;
}

/* Bytes a and b of lengths na and nb, as utf8mb4_bin orders them. */
static int
rollup_bytes_cmp(const char *a, size_t na, const char *b, size_t nb)
{
	int c = memcmp(a, b, na < nb ? na : nb);

	return c != 0 ? c : (na > nb) - (na < nb);
}

static int
rollup_cmp(const void *pa, const void *pb)
{
	const struct rollup_bucket *a = *(struct rollup_bucket *const *)pa;
	const struct rollup_bucket *b = *(struct rollup_bucket *const *)pb;
	int c;

	if ((c = rollup_bytes_cmp(a->key, a->host_len, b->key,
	    b->host_len)) != 0)
		return c;
	if ((c = rollup_bytes_cmp(a->key + a->host_len, a->source_len,
	    b->key + b->host_len, b->source_len)) != 0)
		return c;
	return (a->start > b->start) - (a->start < b->start);
}

struct rollup_bucket *const *
rollup_sorted(struct rollup *r)
{
	struct rollup_bucket *b;
	size_t i, n = 0;

	if (r->sorted != NULL)
		return r->sorted;
	if ((r->sorted = calloc(r->count + 1, sizeof(*r->sorted))) == NULL)
		return NULL;
	for (i = 0; i < r->nslots; i++)
		for (b = r->slot[i]; b != NULL; b = b->next)
			r->sorted[n++] = b;
	qsort(r->sorted, n, sizeof(*r->sorted), rollup_cmp);
	return r->sorted;
}

/* Bytes as a utf8mb4 string literal; -1 when out of memory. */
static int
rollup_string(const char *s, size_t n, FILE *out)
{
	char *hex;

	if (n == 0)
		return fputs("''", out), 0;
	if ((hex = malloc(2 * n + 1)) == NULL)
		return -1;
	mysql_hex_string(hex, s, (unsigned long)n);
	fprintf(out, "_utf8mb4 X'%s'", hex);
	free(hex);
	return 0;
}

int
rollup_fixed(const char *s, size_t n, int decimals, int64_t *v)
{
	const char *end = s + n;
	bool neg = false, digits = false;
	int64_t x = 0;
	int frac = -1;

	if (s < end && (*s == '-' || *s == '+'))
		neg = *s++ == '-';
	for (; s < end; s++) {
		if (*s == '.' && frac == -1) {
			frac = 0;
			continue;
		}
		if (*s < '0' || *s > '9' || frac == decimals ||
		    __builtin_mul_overflow(x, 10, &x) ||
		    __builtin_add_overflow(x, *s - '0', &x))
			return -1;
		digits = true;
		if (frac >= 0)
			frac++;
	}
	for (frac = frac < 0 ? 0 : frac; frac < decimals; frac++)
		if (__builtin_mul_overflow(x, 10, &x))
			return -1;
	if (!digits)
		return -1;
	*v = neg ? -x : x;
	return 0;
}

/* A figure, as the column's decimals (or 15 digits: a FLOAT's). */
static void
rollup_figure(const struct rollup_field *f, union rollup_num x, FILE *out)
{
	uint64_t scale = 1, a;
	int d;

	if (f->kind == ROLLUP_REAL) {
		if (f->decimals >= 0)
			fprintf(out, ", %.*f", f->decimals, x.d);
		else
			fprintf(out, ", %.15g", x.d);
		return;
	}
	if (f->decimals == 0) {
		fprintf(out, ", %" PRId64, x.i);
		return;
	}
	for (d = 0; d < f->decimals; d++)
		scale *= 10;
	a = x.i < 0 ? -(uint64_t)x.i : (uint64_t)x.i;
	fprintf(out, ", %s%" PRIu64 ".%0*" PRIu64, x.i < 0 ? "-" : "",
	    a / scale, f->decimals, a % scale);
}

int
rollup_values(const struct rollup *r, struct rollup_bucket *const *b,
    size_t n, FILE *out)
{
	char when[TIMEFMT_SEED_LEN];
	const struct rollup_agg *a;
	const struct rollup_field *f;
	size_t i, k;

	for (i = 0; i < n; i++) {
		fputs(i > 0 ? ",(" : "(", out);
		if (rollup_string(b[i]->key, b[i]->host_len, out) == -1)
			return -1;
		fputs(", ", out);
		if (rollup_string(b[i]->key + b[i]->host_len,
		    b[i]->source_len, out) == -1)
			return -1;
		if (timefmt_seed(b[i]->start * 1000, when, sizeof(when)) ==
		    -1)
			return -1;
		fprintf(out, ", '%s', %" PRIu64, when, b[i]->samples);
		for (k = 0; k < r->nfields; k++) {
			a = &b[i]->agg[k];
			f = &r->fields[k];
			fprintf(out, ", %" PRIu32, a->n);
			if (a->n == 0) {
				fputs(", NULL, NULL, NULL", out);
				continue;
			}
			rollup_figure(f, a->min, out);
			rollup_figure(f, a->max, out);
			rollup_figure(f, a->sum, out);
		}
		fputc(')', out);
	}
	return 0;
}
