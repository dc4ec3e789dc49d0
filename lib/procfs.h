/*
 * Host figures from plain procfs: CPU time counters (/proc/stat), memory
 * (/proc/meminfo) and the process census (/proc/[pid]/stat).  Every function
 * takes the procfs root ("/proc", or a fixture tree) and on failure writes
 * "FILE:LINE: reason" into why.
 */
#ifndef SM_PROCFS_H
#define SM_PROCFS_H

#include <stdint.h>

#include "why.h"

/* Cumulative CPU time summed over all CPUs, in the backend's unit. */
struct cpu_times {
	uint64_t user, nice, system, idle, iowait, irq, softirq, steal;
};

struct mem_info {
	uint64_t total_kib, free_kib, available_kib;
};

/* Processes (thread-group leaders) by the state letter ps(1) shows. */
struct census {
	int64_t total;
	int64_t running;	/* R */
	int64_t sleeping;	/* S, D, I */
	int64_t stopped;	/* T, t */
	int64_t zombie;		/* Z */
	int64_t other;		/* anything else (X, P, ...) */
	int64_t threads;	/* all tasks, or -1 when unknown */
};

int procfs_read_cpu(const char *root, struct cpu_times *ct, struct why *why);
int procfs_read_mem(const char *root, struct mem_info *mi, struct why *why);
int procfs_census(const char *root, struct census *c, struct why *why);

/* Sum of all the counters. */
uint64_t cpu_times_total(const struct cpu_times *ct);

/* busy = total - idle - iowait, as a percentage of total, between a and b. */
double cpu_times_busy_percent(const struct cpu_times *a,
    const struct cpu_times *b);

#endif
