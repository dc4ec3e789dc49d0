/*
 * One sample of the host from the kmod or procfs backend, and the state
 * file that carries CPU counters between runs (sample.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kmod.h"
#include "sample.h"
#include "timefmt.h"

#define SAMPLE_STATE_MAGIC "sm-read-state 1"

static const struct sample_backend sample_backends[] = {
	{ "procfs", procfs_read_cpu, procfs_read_mem, procfs_census },
	{ "kmod", kmod_read_cpu, kmod_read_mem, kmod_census },
};

int
sampler_init(struct sampler *s, const char *root, const char *backend,
    const char *host, int64_t cpu_window_ms, struct why *why)
{
	char path[PATH_MAX + 8];
	struct stat sb;
	size_t i;

	memset(s, 0, sizeof(*s));
	if (snprintf(s->root, sizeof(s->root), "%s", root) >=
	    (int)sizeof(s->root))
		return why_set(why, "%s: path too long", root);
	if (snprintf(s->host, sizeof(s->host), "%s", host) >=
	    (int)sizeof(s->host))
		return why_set(why, "host name longer than %d bytes",
		    RECORD_HOST_MAX);
	s->cpu_window_ms = cpu_window_ms;
	if (strcmp(backend, "auto") == 0) {
		snprintf(path, sizeof(path), "%s/sm", root);
		backend = stat(path, &sb) == 0 && S_ISDIR(sb.st_mode) ?
		    "kmod" : "procfs";
	}
	for (i = 0; i < sizeof(sample_backends) / sizeof(sample_backends[0]);
	    i++)
		if (strcmp(backend, sample_backends[i].name) == 0)
			s->backend = &sample_backends[i];
	if (s->backend == NULL)
		return why_set(why, "unknown backend \"%s\" (want auto, "
		    "procfs or kmod)", backend);
	if (strcmp(s->backend->name, "kmod") == 0) {
		snprintf(path, sizeof(path), "%s/sm", root);
		if (stat(path, &sb) == -1)
			return why_set(why, "kmod backend: %s: %s (is the "
			    "sm_metrics module loaded?)", path,
			    strerror(errno));
	}
	return 0;
}

static void
sample_sleep(int64_t ms)
{
	struct timespec ts;

	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000;
	/* a signal cuts the window short; the figure is then over less time */
	nanosleep(&ts, NULL);
}

int
sampler_take(struct sampler *s, struct record *rec, struct why *why)
{
	const struct sample_backend *be = s->backend;
	struct cpu_times now;
	struct mem_info mi;
	struct census c;

	if (!s->have_prev) {
		if (be->read_cpu(s->root, &s->prev, why) == -1)
			return -1;
		s->have_prev = true;
		sample_sleep(s->cpu_window_ms);
	}
	if (be->read_cpu(s->root, &now, why) == -1 ||
	    be->read_mem(s->root, &mi, why) == -1 ||
	    be->census(s->root, &c, why) == -1)
		return -1;

	memset(rec, 0, sizeof(*rec));
	rec->ts_ms = timefmt_now_ms();
	if (uuid7_generate_at(rec->ts_ms, rec->id) == -1)
		return why_set(why, "getrandom: %s", strerror(errno));
	snprintf(rec->host, sizeof(rec->host), "%s", s->host);
	snprintf(rec->collector, sizeof(rec->collector), "%s", be->name);
	rec->cpu_usage = cpu_times_busy_percent(&s->prev, &now);
	rec->cpu_free = 100.0 - rec->cpu_usage;
	s->prev = now;

	rec->ram_total = (int64_t)(mi.total_kib / 1024);
	rec->ram_free = (int64_t)(mi.free_kib / 1024);
	rec->ram_available = (int64_t)(mi.available_kib / 1024);
	rec->ram_used = rec->ram_total - rec->ram_available;
	rec->ram_percentage = rec->ram_total > 0 ? 100.0 *
	    (double)rec->ram_used / (double)rec->ram_total : 0.0;

	rec->total_processes = c.total;
	rec->running_processes = c.running;
	rec->sleeping_processes = c.sleeping;
	rec->stopped_processes = c.stopped;
	rec->zombie_processes = c.zombie;
	rec->threads = c.threads;
	return 0;
}

/* The kernel's boot id, so counters from another boot are not compared. */
static int
sample_boot_id(const struct sampler *s, char *id, size_t size, struct why *why)
{
	char path[PATH_MAX + 32];
	FILE *fp;
	int ok;

	snprintf(path, sizeof(path), "%s/sys/kernel/random/boot_id", s->root);
	if ((fp = fopen(path, "re")) == NULL)
		return why_set(why, "%s: %s", path, strerror(errno));
	ok = fgets(id, (int)size, fp) != NULL;
	fclose(fp);
	id[strcspn(id, "\n")] = '\0';
	if (!ok || strlen(id) != 36)
		return why_set(why, "%s:1: not a boot id", path);
	return 0;
}

int
sampler_state_load(struct sampler *s, const char *path, struct why *why)
{
	char boot[64], line[512], sboot[64], sbackend[16];
	struct cpu_times ct, now;
	FILE *fp;
	int n, end = 0;

	if (sample_boot_id(s, boot, sizeof(boot), why) == -1)
		return -1;
	if ((fp = fopen(path, "re")) == NULL) {
		if (errno != ENOENT)
			return why_set(why, "%s: %s", path,
			    strerror(errno));
		why_clear(why);	/* the first run: nothing to report */
		return 0;
	}
	if (fgets(line, sizeof(line), fp) == NULL)
		line[0] = '\0';
	fclose(fp);
	n = sscanf(line, SAMPLE_STATE_MAGIC " %15s %63s %" SCNu64 " %" SCNu64
	    " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64
	    " %" SCNu64 "%n", sbackend, sboot, &ct.user, &ct.nice, &ct.system,
	    &ct.idle, &ct.iowait, &ct.irq, &ct.softirq, &ct.steal, &end);
	if (n != 10 || line[end] != '\n')
		return why_set(why, "%s:1: not an sm-read state file",
		    path);
	if (strcmp(sbackend, s->backend->name) != 0) {
		why_set(why, "%s: saved by the %s backend, not %s", path,
		    sbackend, s->backend->name);
		return 0;
	}
	if (strcmp(sboot, boot) != 0) {
		why_set(why, "%s: saved before the last boot", path);
		return 0;
	}
	if (s->backend->read_cpu(s->root, &now, why) == -1)
		return -1;
	if (cpu_times_total(&now) <= cpu_times_total(&ct)) {
		why_set(why, "%s: no CPU time has passed since it was "
		    "saved", path);
		return 0;
	}
	s->prev = ct;
	s->have_prev = true;
	return 1;
}

int
sampler_state_save(const struct sampler *s, const char *path, struct why *why)
{
	const struct cpu_times *ct = &s->prev;
	char boot[64], tmp[PATH_MAX];
	FILE *fp;

	if (!s->have_prev)
		return 0;
	if (sample_boot_id(s, boot, sizeof(boot), why) == -1)
		return -1;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return why_set(why, "%s: path too long", path);
	if ((fp = fopen(tmp, "we")) == NULL)
		return why_set(why, "%s: %s", tmp, strerror(errno));
	fprintf(fp, SAMPLE_STATE_MAGIC " %s %s %" PRIu64 " %" PRIu64 " %"
	    PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64
	    "\n", s->backend->name, boot, ct->user, ct->nice, ct->system,
	    ct->idle, ct->iowait, ct->irq, ct->softirq, ct->steal);
	if (fflush(fp) == EOF || ferror(fp)) {
		why_set(why, "%s: %s", tmp, strerror(errno));
		fclose(fp);
		unlink(tmp);
		return -1;
	}
	if (fclose(fp) == EOF || rename(tmp, path) == -1) {
		why_set(why, "%s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}
