/*
 * Reading /proc/stat, /proc/meminfo and every /proc/PID/stat: CPU counters,
 * memory and the process census (procfs.h).
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "procfs.h"
#include "procfs_impl.h"

static FILE *
procfs_open(const char *root, const char *name, char *path, size_t size,
    struct why *why)
{
	FILE *fp;

	snprintf(path, size, "%s/%s", root, name);
	if ((fp = fopen(path, "re")) == NULL)
		why_set(why, "%s: %s", path, strerror(errno));
	return fp;
}

int
procfs_read_cpu(const char *root, struct cpu_times *ct, struct why *why)
{
	char path[4096], line[1024];
	unsigned long lineno = 0;
	FILE *fp;
	int rc = -1;

	if ((fp = procfs_open(root, "stat", path, sizeof(path), why)) == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL) {
		uint64_t v[8];
		int n, end = 0;

		lineno++;
		if (strncmp(line, "cpu ", 4) != 0)
			continue;
		/* guest time is already inside user and nice: not added */
		n = sscanf(line + 4, "%" SCNu64 " %" SCNu64 " %" SCNu64 " %"
		    SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 "%n",
		    &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7],
		    &end);
		if (n < 8 || (line[4 + end] != ' ' && line[4 + end] != '\n')) {
			why_set(why, "%s:%lu: want 8 or more counters "
			    "after \"cpu\"", path, lineno);
			goto out_close;
		}
		ct->user = v[0];
		ct->nice = v[1];
		ct->system = v[2];
		ct->idle = v[3];
		ct->iowait = v[4];
		ct->irq = v[5];
		ct->softirq = v[6];
		ct->steal = v[7];
		rc = 0;
		goto out_close;
	}
	if (ferror(fp))
		why_set(why, "%s: %s", path, strerror(errno));
	else
		why_set(why, "%s:%lu: no \"cpu\" line", path, lineno);
out_close:
	fclose(fp);
	return rc;
}

int
procfs_read_mem(const char *root, struct mem_info *mi, struct why *why)
{
	static const struct {
		const char *key;
		size_t offset;
	} keys[] = {
		{ "MemTotal", offsetof(struct mem_info, total_kib) },
		{ "MemFree", offsetof(struct mem_info, free_kib) },
		{ "MemAvailable", offsetof(struct mem_info, available_kib) },
	};
	char path[4096], line[256];
	unsigned long lineno = 0;
	unsigned found = 0;
	size_t i;
	FILE *fp;
	int rc = -1;

	if ((fp = procfs_open(root, "meminfo", path, sizeof(path), why)) ==
	    NULL)
		return -1;
	while (found != 7 && fgets(line, sizeof(line), fp) != NULL) {
		char *colon = strchr(line, ':'), *end;
		uint64_t v;

		lineno++;
		if (colon == NULL) {
			why_set(why, "%s:%lu: no \"name:\" at the start",
			    path, lineno);
			goto out_close;
		}
		*colon = '\0';
		for (i = 0; i < 3; i++)
			if (strcmp(line, keys[i].key) == 0)
				break;
		if (i == 3)
			continue;
		errno = 0;
		v = strtoull(colon + 1, &end, 10);
		if (errno != 0 || end == colon + 1 ||
		    strcmp(end, " kB\n") != 0) {
			why_set(why, "%s:%lu: %s: want a number of kB",
			    path, lineno, keys[i].key);
			goto out_close;
		}
		*(uint64_t *)((char *)mi + keys[i].offset) = v;
		found |= 1u << i;
	}
	for (i = 0; i < 3; i++)
		if (!(found & (1u << i))) {
			why_set(why, "%s:%lu: no %s line", path, lineno,
			    keys[i].key);
			goto out_close;
		}
	if (mi->free_kib > mi->total_kib || mi->available_kib > mi->total_kib) {
		why_set(why, "%s: MemFree or MemAvailable exceeds MemTotal",
		    path);
		goto out_close;
	}
	rc = 0;
out_close:
	fclose(fp);
	return rc;
}

void
census_count(struct census *c, char st)
{
	c->total++;
	switch (st) {
	case 'R':
		c->running++;
		break;
	case 'S':
	case 'D':
	case 'I':
		c->sleeping++;
		break;
	case 'T':
	case 't':
		c->stopped++;
		break;
	case 'Z':
		c->zombie++;
		break;
	default:
		c->other++;
		break;
	}
}

/*
 * The state letter of one /proc/PID/stat.  Returns 1 with *st set, 0 when
 * the process has gone, -1 (why set) when the file is malformed.
 */
static int
census_read_state(int dirfd, const char *root, const char *pid, char *st,
    struct why *why)
{
	char rel[64], buf[512], *paren;
	ssize_t n;
	int e, fd;

	snprintf(rel, sizeof(rel), "%s/stat", pid);
	if ((fd = openat(dirfd, rel, O_RDONLY | O_CLOEXEC)) == -1)
		return errno == ENOENT || errno == ESRCH ? 0 :
		    why_set(why, "%s/%s: %s", root, rel, strerror(errno));
	do
		n = read(fd, buf, sizeof(buf) - 1);
	while (n < 0 && errno == EINTR);
	e = errno;	/* close() may change it */
	close(fd);
	if (n < 0)
		return e == ESRCH ? 0 :
		    why_set(why, "%s/%s: %s", root, rel, strerror(e));
	if (n == 0)
		return 0;
	buf[n] = '\0';
	/* the command name may hold spaces and ')': the last ')' ends it */
	paren = strrchr(buf, ')');
	if (strchr(buf, '(') == NULL || paren == NULL || paren[1] != ' ' ||
	    !isalpha((unsigned char)paren[2]) ||
	    (paren[3] != ' ' && paren[3] != '\n' && paren[3] != '\0'))
		return why_set(why, "%s/%s:1: no state letter after "
		    "\"(command) \"", root, rel);
	*st = paren[2];
	return 1;
}

static bool
census_is_pid(const char *name)
{
	if (*name == '\0')
		return false;
	for (; *name != '\0'; name++)
		if (!isdigit((unsigned char)*name))
			return false;
	return true;
}

/* Threads from the 4th field of /proc/loadavg ("running/total"). */
static int
census_read_threads(const char *root, int64_t *threads, struct why *why)
{
	char path[4096];
	long long running, total;
	FILE *fp;
	int n;

	snprintf(path, sizeof(path), "%s/loadavg", root);
	if ((fp = fopen(path, "re")) == NULL) {
		*threads = -1;
		return errno == ENOENT ? 0 :
		    why_set(why, "%s: %s", path, strerror(errno));
	}
	n = fscanf(fp, "%*s %*s %*s %lld/%lld", &running, &total);
	fclose(fp);
	if (n != 2 || total < 0)
		return why_set(why, "%s:1: want \"running/total\" as the "
		    "4th field", path);
	*threads = total;
	return 0;
}

int
procfs_census(const char *root, struct census *c, struct why *why)
{
	struct dirent *de;
	DIR *dir;
	int rc = -1;

	memset(c, 0, sizeof(*c));
	if ((dir = opendir(root)) == NULL)
		return why_set(why, "%s: %s", root, strerror(errno));
	while ((errno = 0, de = readdir(dir)) != NULL) {
		char st;
		int got;

		if (!census_is_pid(de->d_name))
			continue;
		got = census_read_state(dirfd(dir), root, de->d_name, &st, why);
		if (got < 0)
			goto out_close;
		if (got > 0)
			census_count(c, st);
	}
	if (errno != 0) {
		why_set(why, "%s: %s", root, strerror(errno));
		goto out_close;
	}
	rc = census_read_threads(root, &c->threads, why);
out_close:
	closedir(dir);
	return rc;
}

uint64_t
cpu_times_total(const struct cpu_times *ct)
{
	return ct->user + ct->nice + ct->system + ct->idle + ct->iowait +
	    ct->irq + ct->softirq + ct->steal;
}

double
cpu_times_busy_percent(const struct cpu_times *a, const struct cpu_times *b)
{
	uint64_t ta = cpu_times_total(a), tb = cpu_times_total(b);
	uint64_t ia = a->idle + a->iowait, ib = b->idle + b->iowait;
	double total, busy;

	/* counters that went backwards (CPU hot-unplug) give no figure */
	if (tb <= ta || ib < ia)
		return 0.0;
	total = (double)(tb - ta);
	busy = total - (double)(ib - ia);
	if (busy < 0)
		busy = 0;
	return 100.0 * busy / total;
}
