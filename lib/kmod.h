/*
 * Host figures from the sm_metrics kernel module: /proc/sm/{cpu,mem,procs},
 * one JSON object each (sm_metrics(4)).  Same contract as procfs.h.
 */
#ifndef SM_KMOD_H
#define SM_KMOD_H

#include "procfs.h"
#include "why.h"

int kmod_read_cpu(const char *root, struct cpu_times *ct, struct why *why);
int kmod_read_mem(const char *root, struct mem_info *mi, struct why *why);
int kmod_census(const char *root, struct census *c, struct why *why);

#endif
