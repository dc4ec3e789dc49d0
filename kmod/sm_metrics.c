// SPDX-License-Identifier: GPL-2.0
/*
 * sm_metrics: the host figures sm-read(1) samples, one line of JSON per file
 * in /proc/sm (sm_metrics(4)):
 *
 *   procs  processes by the state letter ps(1) shows, and all threads
 *   mem    total, free and available memory, as /proc/meminfo has them
 *   cpu    CPU time per state summed over all CPUs, as the first line of
 *          /proc/stat has it but in nanoseconds, and the online CPUs
 *
 * Every figure comes from the kernel's own helpers (task_state_to_char(),
 * si_mem_available(), kcpustat_cpu_fetch(), get_cpu_idle_time_us()), so
 * the files say what /proc says, only cheaper to read.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpumask.h>
#include <linux/init.h>
#include <linux/kernel_stat.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/proc_fs.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/seq_file.h>
#include <linux/tick.h>

/*
 * Only the generic NO_HZ idle accounting of fs/proc/stat.c is mirrored
 * below; an architecture with its own (arch_idle_time, s390) would get
 * figures that differ from /proc/stat, so it does not build at all.
 */
#ifdef arch_idle_time
#error "sm_metrics: arch_idle_time() idle accounting is not supported"
#endif

/*
 * Fault injection for the tests: make init fail at step N (1 the
 * directory, 2 to 4 the files) to show nothing is left behind.
 */
static unsigned int fail_init_at;
module_param(fail_init_at, uint, 0);
MODULE_PARM_DESC(fail_init_at,
		 "testing only: fail module init at step N (0: never)");

static struct proc_dir_entry *sm_dir;

struct sm_census {
	u64 total;
	u64 running;
	u64 sleeping;
	u64 stopped;
	u64 zombie;
	u64 other;
	u64 threads;
};

/* Group the letters of fs/proc/array.c as sm-read's procfs backend does. */
static void sm_census_count(struct sm_census *c, char state)
{
	c->total++;
	switch (state) {
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

static int sm_procs_show(struct seq_file *m, void *v)
{
	struct sm_census c = { 0 };
	struct task_struct *p, *t;

	/*
	 * RCU keeps every task_struct (and its signal_struct) we can reach
	 * alive until rcu_read_unlock(); tasks that fork or exit meanwhile
	 * may or may not be counted, as with a walk of /proc.  The letter
	 * is the thread-group leader's, the one /proc/PID/stat shows.
	 */
	rcu_read_lock();
	for_each_process(p) {
		sm_census_count(&c, task_state_to_char(p));
		for_each_thread(p, t)
			c.threads++;
	}
	rcu_read_unlock();

	seq_printf(m, "{\"total\":%llu,\"running\":%llu,\"sleeping\":%llu,",
		   c.total, c.running, c.sleeping);
	seq_printf(m, "\"stopped\":%llu,\"zombie\":%llu,\"other\":%llu,",
		   c.stopped, c.zombie, c.other);
	seq_printf(m, "\"threads\":%llu}\n", c.threads);
	return 0;
}

/* Pages to KiB, as fs/proc/meminfo.c shows them. */
static unsigned long sm_kib(unsigned long pages)
{
	return pages << (PAGE_SHIFT - 10);
}

static int sm_mem_show(struct seq_file *m, void *v)
{
	struct sysinfo si;
	long available;

	si_meminfo(&si);
	available = si_mem_available();
	seq_printf(m, "{\"unit\":\"KiB\",\"total\":%lu,\"free\":%lu,",
		   sm_kib(si.totalram), sm_kib(si.freeram));
	seq_printf(m, "\"available\":%lu}\n",
		   sm_kib(available > 0 ? available : 0));
	return 0;
}

/*
 * Idle and iowait time of one CPU as fs/proc/stat.c computes them: with
 * NO_HZ the tick-sched counters of an online CPU (which include the idle
 * period in progress), else the tick-based cpustat figure.
 */
static u64 sm_idle_ns(const struct kernel_cpustat *kcs, int cpu)
{
	u64 us = -1ULL;

	if (cpu_online(cpu))
		us = get_cpu_idle_time_us(cpu, NULL);
	if (us == -1ULL)
		return kcs->cpustat[CPUTIME_IDLE];
	return us * NSEC_PER_USEC;
}

static u64 sm_iowait_ns(const struct kernel_cpustat *kcs, int cpu)
{
	u64 us = -1ULL;

	if (cpu_online(cpu))
		us = get_cpu_iowait_time_us(cpu, NULL);
	if (us == -1ULL)
		return kcs->cpustat[CPUTIME_IOWAIT];
	return us * NSEC_PER_USEC;
}

static int sm_cpu_show(struct seq_file *m, void *v)
{
	u64 user = 0, nice = 0, system = 0, idle = 0, iowait = 0;
	u64 irq = 0, softirq = 0, steal = 0;
	int cpu;

	/*
	 * Guest time is already inside user and nice (account_guest_time()),
	 * so it is not added again, as in /proc/stat.
	 */
	for_each_possible_cpu(cpu) {
		struct kernel_cpustat kcs;
		const u64 *st = kcs.cpustat;

		kcpustat_cpu_fetch(&kcs, cpu);
		user += st[CPUTIME_USER];
		nice += st[CPUTIME_NICE];
		system += st[CPUTIME_SYSTEM];
		idle += sm_idle_ns(&kcs, cpu);
		iowait += sm_iowait_ns(&kcs, cpu);
		irq += st[CPUTIME_IRQ];
		softirq += st[CPUTIME_SOFTIRQ];
		steal += st[CPUTIME_STEAL];
	}

	seq_printf(m, "{\"unit\":\"ns\",\"cpus\":%u,\"user\":%llu,",
		   num_online_cpus(), user);
	seq_printf(m, "\"nice\":%llu,\"system\":%llu,\"idle\":%llu,",
		   nice, system, idle);
	seq_printf(m, "\"iowait\":%llu,\"irq\":%llu,\"softirq\":%llu,",
		   iowait, irq, softirq);
	seq_printf(m, "\"steal\":%llu}\n", steal);
	return 0;
}

static const struct {
	const char *name;
	int (*show)(struct seq_file *m, void *v);
} sm_files[] = {
	{ "procs", sm_procs_show },
	{ "mem", sm_mem_show },
	{ "cpu", sm_cpu_show },
};

static int __init sm_metrics_init(void)
{
	unsigned int i;

	sm_dir = fail_init_at == 1 ? NULL : proc_mkdir("sm", NULL);
	if (!sm_dir) {
		pr_err("cannot create /proc/sm (does it exist already?)\n");
		return -ENOMEM;
	}
	for (i = 0; i < ARRAY_SIZE(sm_files); i++) {
		if (fail_init_at == i + 2 ||
		    !proc_create_single(sm_files[i].name, 0444, sm_dir,
					sm_files[i].show)) {
			pr_err("cannot create /proc/sm/%s\n", sm_files[i].name);
			goto out_remove_dir;
		}
	}
	return 0;

out_remove_dir:
	/* takes the files made so far with it */
	proc_remove(sm_dir);
	return -ENOMEM;
}

static void __exit sm_metrics_exit(void)
{
	proc_remove(sm_dir);
}

module_init(sm_metrics_init);
module_exit(sm_metrics_exit);

MODULE_DESCRIPTION("Process, memory and CPU figures as JSON in /proc/sm");
MODULE_AUTHOR("sm project");
MODULE_LICENSE("GPL");
MODULE_VERSION("0.2.0");
