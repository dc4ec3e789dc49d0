/*
 * Reading the sm_metrics module's /proc/sm/{cpu,mem,procs} JSON files into
 * the procfs structures (kmod.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "kmod.h"

/* Parse root/sm/name as one JSON object. */
static struct json_object *
kmod_load(const char *root, const char *name, char *path, size_t size,
    struct why *why)
{
	char buf[4096];
	struct json_object *obj;
	enum json_tokener_error jerr;
	size_t n;
	FILE *fp;

	snprintf(path, size, "%s/sm/%s", root, name);
	if ((fp = fopen(path, "re")) == NULL) {
		why_set(why, "%s: %s%s", path, strerror(errno),
		    errno == ENOENT ? " (is the sm_metrics module loaded?)" :
		    "");
		return NULL;
	}
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	if (ferror(fp)) {
		why_set(why, "%s: %s", path, strerror(errno));
		fclose(fp);
		return NULL;
	}
	fclose(fp);
	buf[n] = '\0';
	obj = json_tokener_parse_verbose(buf, &jerr);
	if (obj == NULL || !json_object_is_type(obj, json_type_object)) {
		why_set(why, "%s:1: not a JSON object (%s)", path,
		    obj == NULL ? json_tokener_error_desc(jerr) : "wrong type");
		json_object_put(obj);
		return NULL;
	}
	return obj;
}

struct kmod_key {
	const char *key;
	size_t offset;
};

/*
 * Copy each named non-negative integer member into the 64-bit field of dst
 * at its offset.  With wide the fields are uint64_t and take the module's
 * whole u64 range (CPU nanoseconds summed over many CPUs pass 2^63 within
 * a few years); without, they are int64_t.
 */
static int
kmod_copy(struct json_object *obj, const char *path,
    const struct kmod_key *keys, size_t nkeys, bool wide, void *dst,
    struct why *why)
{
	size_t i;

	for (i = 0; i < nkeys; i++) {
		struct json_object *v;
		uint64_t n;

		if (!json_object_object_get_ex(obj, keys[i].key, &v) ||
		    !json_object_is_type(v, json_type_int))
			return why_set(why, "%s:1: \"%s\": missing or not "
			    "an integer", path, keys[i].key);
		/* json-c clamps: negative reads as 0 here, huge as max */
		n = json_object_get_uint64(v);
		if (json_object_get_int64(v) < 0 || n == UINT64_MAX ||
		    (!wide && n > INT64_MAX))
			return why_set(why, "%s:1: \"%s\": out of range",
			    path, keys[i].key);
		if (wide)
			*(uint64_t *)((char *)dst + keys[i].offset) = n;
		else
			*(int64_t *)((char *)dst + keys[i].offset) =
			    (int64_t)n;
	}
	return 0;
}

/* The "unit" member must be what the caller's fields are in. */
static int
kmod_unit(struct json_object *obj, const char *path, const char *want,
    struct why *why)
{
	struct json_object *unit;

	if (!json_object_object_get_ex(obj, "unit", &unit) ||
	    !json_object_is_type(unit, json_type_string) ||
	    strcmp(json_object_get_string(unit), want) != 0)
		return why_set(why, "%s:1: \"unit\" is not \"%s\"", path,
		    want);
	return 0;
}

#define NKEYS(a) (sizeof(a) / sizeof((a)[0]))

int
kmod_read_cpu(const char *root, struct cpu_times *ct, struct why *why)
{
	static const struct kmod_key keys[] = {
		{ "user", offsetof(struct cpu_times, user) },
		{ "nice", offsetof(struct cpu_times, nice) },
		{ "system", offsetof(struct cpu_times, system) },
		{ "idle", offsetof(struct cpu_times, idle) },
		{ "iowait", offsetof(struct cpu_times, iowait) },
		{ "irq", offsetof(struct cpu_times, irq) },
		{ "softirq", offsetof(struct cpu_times, softirq) },
		{ "steal", offsetof(struct cpu_times, steal) },
	};
	char path[4096];
	struct json_object *obj;
	int rc;

	if ((obj = kmod_load(root, "cpu", path, sizeof(path), why)) == NULL)
		return -1;
	rc = kmod_unit(obj, path, "ns", why);
	if (rc == 0)
		rc = kmod_copy(obj, path, keys, NKEYS(keys), true, ct, why);
	json_object_put(obj);
	return rc;
}

int
kmod_read_mem(const char *root, struct mem_info *mi, struct why *why)
{
	static const struct kmod_key keys[] = {
		{ "total", offsetof(struct mem_info, total_kib) },
		{ "free", offsetof(struct mem_info, free_kib) },
		{ "available", offsetof(struct mem_info, available_kib) },
	};
	char path[4096];
	struct json_object *obj;
	int rc;

	if ((obj = kmod_load(root, "mem", path, sizeof(path), why)) == NULL)
		return -1;
	rc = kmod_unit(obj, path, "KiB", why);
	if (rc == 0)
		rc = kmod_copy(obj, path, keys, NKEYS(keys), true, mi, why);
	if (rc == 0 && (mi->free_kib > mi->total_kib ||
	    mi->available_kib > mi->total_kib))
		rc = why_set(why, "%s:1: free or available exceeds total",
		    path);
	json_object_put(obj);
	return rc;
}

int
kmod_census(const char *root, struct census *c, struct why *why)
{
	static const struct kmod_key keys[] = {
		{ "total", offsetof(struct census, total) },
		{ "running", offsetof(struct census, running) },
		{ "sleeping", offsetof(struct census, sleeping) },
		{ "stopped", offsetof(struct census, stopped) },
		{ "zombie", offsetof(struct census, zombie) },
		{ "other", offsetof(struct census, other) },
		{ "threads", offsetof(struct census, threads) },
	};
	char path[4096];
	struct json_object *obj;
	int rc;

	memset(c, 0, sizeof(*c));
	if ((obj = kmod_load(root, "procs", path, sizeof(path), why)) == NULL)
		return -1;
	rc = kmod_copy(obj, path, keys, NKEYS(keys), false, c, why);
	json_object_put(obj);
	return rc;
}
