/*
 * One sample of the host: CPU busy percentage since the previous sample,
 * memory and the process census, from the kmod or the procfs backend.
 */
#ifndef SM_SAMPLE_H
#define SM_SAMPLE_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "procfs.h"
#include "record.h"
#include "why.h"

#define SAMPLE_CPU_WINDOW_MS_DEFAULT 250	/* the first sample of a run */

struct sample_backend {
	const char *name;	/* "procfs" or "kmod": the record's collector */
	int (*read_cpu)(const char *root, struct cpu_times *ct,
	    struct why *why);
	int (*read_mem)(const char *root, struct mem_info *mi, struct why *why);
	int (*census)(const char *root, struct census *c, struct why *why);
};

struct sampler {
	const struct sample_backend *backend;
	char root[PATH_MAX];
	char host[RECORD_HOST_MAX + 1];
	int64_t cpu_window_ms;
	struct cpu_times prev;	/* counters at the previous sample */
	bool have_prev;
};

/*
 * backend is "auto" (kmod when root/sm exists, else procfs), "procfs" or
 * "kmod".  Returns 0, or -1 with why set.
 */
int sampler_init(struct sampler *s, const char *root, const char *backend,
    const char *host, int64_t cpu_window_ms, struct why *why);

/*
 * Take one sample into rec, with a new id and the current time.  Without a
 * previous sample (first of a run, no usable state) the CPU figure covers
 * the next cpu_window_ms.  Returns 0, or -1 with why set.
 */
int sampler_take(struct sampler *s, struct record *rec, struct why *why);

/*
 * The previous counters from a state file, so one-shot runs cover the gap
 * since the last run.  Returns 1 when loaded; 0 when it cannot be used: why
 * is "" when the file is missing (a first run), else says why (another boot
 * or backend, no CPU time since); -1 on error.
 */
int sampler_state_load(struct sampler *s, const char *path, struct why *why);

/* Save the counters of the last sample, atomically (write, then rename). */
int sampler_state_save(const struct sampler *s, const char *path,
    struct why *why);

#endif
