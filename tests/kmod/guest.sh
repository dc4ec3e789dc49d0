#!/bin/sh
# The sm_metrics checks, run inside the qemu guest by smkt init (PID 1) from
# the initramfs tests/kmod/run.sh builds.  One "SMKT ok|FAIL NAME" line per
# check on the console; "SMKT PLAN N" first and "SMKT DONE ..." last, so the
# host can tell a missing check from a passed one.
#
# The initramfs holds /sm_metrics.ko, /bin/sm-read (and what it links),
# /bin/smkt and busybox.
PATH=/bin
export PATH

PLAN=26
MOD=/sm_metrics.ko
T=/tmp
pass=0
fail=0

ok() {
	pass=$((pass + 1))
	echo "SMKT ok   $1"
}

bad() {
	fail=$((fail + 1))
	echo "SMKT FAIL $1: $2"
}

# field NAME FILE: the value of NAME in a "smkt json" dump.
field() {
	sed -n "s/^$1=//p" "$2"
}

# near A B TOLERANCE: |A - B| <= TOLERANCE (integers).
near() {
	[ -n "$1" ] && [ -n "$2" ] || return 1
	d=$(($1 - $2))
	[ "${d#-}" -le "$3" ]
}

# The state letter of a process, from /proc/PID/stat.
state_of() {
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	s=${s##*) }
	echo "${s%% *}"
}

# wait_for CMD...: retry a test for up to 10 s (the guest is emulated).
wait_for() {
	i=0
	while [ $i -lt 100 ]; do
		"$@" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

is_state() {
	[ "$(state_of "$1")" = "$2" ]
}

file_nonempty() {
	[ -s "$1" ]
}

gone() {
	[ ! -e "/proc/$1" ]
}

# kv FILE OUT: parse /proc/sm/FILE into key=value lines in OUT.
kv() {
	smkt json "/proc/sm/$1" >"$2" 2>"$T/json.err"
}

# One procs figure, read now.
procs_field() {
	kv procs "$T/now.kv" && field "$1" "$T/now.kv"
}

loaded() {
	grep -q '^sm_metrics ' /proc/modules
}

# Lines of the kernel log written after our marker.
new_dmesg() {
	dmesg | sed -n '/smkt: checks start/,$p'
}

check_dmesg() {
	if new_dmesg | grep -E -e 'WARNING|BUG|Oops|Call Trace|[Pp]anic' \
	    -e 'stall|general protection|[Cc]orruption|lockup' \
	    >"$T/dmesg.bad"; then
		bad "$1" "kernel log: $(head -3 "$T/dmesg.bad" | tr '\n' '|')"
		return 1
	fi
	ok "$1"
}

echo "SMKT PLAN $PLAN"
echo "SMKT guest: Linux $(uname -r), $(grep -c ^processor /proc/cpuinfo)" \
    "CPUs, $(sed -n 's/^MemTotal: *//p' /proc/meminfo) RAM"
echo "SMKT guest: $(cat /proc/cmdline); task_struct slab poisoning" \
    "$(cat /sys/kernel/slab/task_struct/poison 2>/dev/null || echo '?')"
echo "smkt: checks start" >/dev/kmsg
taint0=$(cat /proc/sys/kernel/tainted)

# --- a failing init leaves nothing behind ----------------------------------
for step in 1 2 3 4; do
	if insmod "$MOD" fail_init_at=$step 2>"$T/insmod.err"; then
		bad "init-fails-at-$step" "insmod succeeded"
		rmmod sm_metrics
	elif [ -e /proc/sm ] || loaded; then
		bad "init-fails-at-$step" "/proc/sm or the module left behind"
	else
		ok "init-fails-at-$step"
	fi
done

# --- load -------------------------------------------------------------------
if insmod "$MOD" && [ -d /proc/sm ] && loaded; then
	ok insmod
else
	bad insmod "insmod failed or made no /proc/sm"
	echo "SMKT DONE pass=$pass fail=$fail (cannot go on)"
	exit 1
fi

names=$(cd /proc/sm && echo *)
modes=$(stat -c '%a %u' /proc/sm/cpu /proc/sm/mem /proc/sm/procs | sort -u)
if [ "$names" = "cpu mem procs" ] && [ "$modes" = "444 0" ]; then
	ok files-0444
else
	bad files-0444 "files \"$names\", modes \"$modes\""
fi

# --- each file: one line of JSON with exactly the documented keys ----------
for f in procs mem cpu; do
	case $f in
	procs) want="other running sleeping stopped threads total zombie" ;;
	mem) want="available free total unit" ;;
	cpu) want="cpus idle iowait irq nice softirq steal system unit user" ;;
	esac
	if ! kv $f "$T/$f.kv"; then
		bad "json-$f" "$(cat "$T/json.err"): $(cat /proc/sm/$f)"
		continue
	fi
	keys=$(sed 's/=.*//' "$T/$f.kv" | sort | tr '\n' ' ')
	if [ "$keys" = "$want " ]; then
		ok "json-$f"
	else
		bad "json-$f" "keys \"$keys\", want \"$want\""
	fi
	echo "SMKT   /proc/sm/$f: $(cat /proc/sm/$f)"
done

# --- cpu: the online CPUs, and /proc/stat's figures in nanoseconds ---------
cpus=$(field cpus "$T/cpu.kv")
online=$(grep -c ^processor /proc/cpuinfo)
if [ "$(field unit "$T/cpu.kv")" = ns ] && [ "$cpus" = "$online" ]; then
	ok cpu-online-cpus
else
	bad cpu-online-cpus "cpus $cpus, /proc/cpuinfo has $online"
fi

# /proc/stat prints the same sums in USER_HZ (100) ticks, so each of ours,
# divided by 10^7, must lie between a reading just before and one after.
head -1 /proc/stat >"$T/stat0"
kv cpu "$T/cpu.kv"
head -1 /proc/stat >"$T/stat1"
why=
i=2
for k in user nice system idle iowait irq softirq steal; do
	lo=$(cut -d' ' -f$((i + 1)) "$T/stat0")
	hi=$(cut -d' ' -f$((i + 1)) "$T/stat1")
	v=$(($(field $k "$T/cpu.kv") / 10000000))
	# two ticks of slack: NO_HZ idle time is computed at each read
	[ "$v" -ge $((lo - 2)) ] && [ "$v" -le $((hi + 2)) ] ||
	    why="$why $k=$v (not in $lo..$hi)"
	i=$((i + 1))
done
if [ -z "$why" ]; then
	ok cpu-matches-proc-stat
else
	bad cpu-matches-proc-stat "in ticks:$why"
fi

# --- mem: /proc/meminfo's figures --------------------------------------------
meminfo() {
	sed -n "s/^$1: *\([0-9]*\) kB$/\1/p" /proc/meminfo
}
total0=$(meminfo MemTotal)
free0=$(meminfo MemFree)
avail0=$(meminfo MemAvailable)
kv mem "$T/mem.kv"
free1=$(meminfo MemFree)
avail1=$(meminfo MemAvailable)
total=$(field total "$T/mem.kv")
free=$(field free "$T/mem.kv")
avail=$(field available "$T/mem.kv")
if [ "$(field unit "$T/mem.kv")" = KiB ] && [ "$total" = "$total0" ] &&
    near "$free" "$free0" 4096 && near "$free" "$free1" 4096 &&
    near "$avail" "$avail0" 4096 && near "$avail" "$avail1" 4096; then
	ok mem-matches-meminfo
else
	bad mem-matches-meminfo "kmod $total/$free/$avail KiB, meminfo" \
	    "$total0/$free0..$free1/$avail0..$avail1"
fi

# --- sm-read: both backends agree, collector says which ---------------------
sm-read --backend kmod --cpu-window 0.05 >"$T/k.rec" 2>"$T/k.err" &&
    sm-read --backend procfs --cpu-window 0.05 >"$T/p.rec" 2>"$T/p.err" &&
    sm-read --cpu-window 0.05 >"$T/a.rec" 2>"$T/a.err"
rc=$?
smkt json "$T/k.rec" >"$T/k.kv" 2>&1 && smkt json "$T/p.rec" >"$T/p.kv" 2>&1 &&
    smkt json "$T/a.rec" >"$T/a.kv" 2>&1 || rc=1
echo "SMKT   kmod:   $(cat "$T/k.rec")"
echo "SMKT   procfs: $(cat "$T/p.rec")"
if [ $rc -eq 0 ] && [ "$(field collector "$T/k.kv")" = kmod ] &&
    [ "$(field collector "$T/p.kv")" = procfs ] &&
    [ "$(field collector "$T/a.kv")" = kmod ]; then
	ok sm-read-collector
else
	bad sm-read-collector "rc $rc: $(cat "$T/k.err" "$T/p.err" "$T/a.err")"
fi
why=
[ "$(field ram_total "$T/k.kv")" = "$(field ram_total "$T/p.kv")" ] ||
    why="$why ram_total"
for k in ram_free ram_available; do
	near "$(field $k "$T/k.kv")" "$(field $k "$T/p.kv")" 4 || why="$why $k"
done
# the census moves a little between the two runs (kernel threads wake)
for k in total_processes running_processes sleeping_processes; do
	near "$(field $k "$T/k.kv")" "$(field $k "$T/p.kv")" 3 || why="$why $k"
done
for k in stopped_processes zombie_processes; do
	near "$(field $k "$T/k.kv")" "$(field $k "$T/p.kv")" 1 || why="$why $k"
done
if [ -z "$why" ]; then
	ok sm-read-backends-agree
else
	bad sm-read-backends-agree "differ:$why"
fi

# threads: every task, as the 4th field of /proc/loadavg counts them; a
# process with 8 threads adds one process and 8 threads
t0=$(procs_field threads)
p0=$(procs_field total)
smkt threads 8 >"$T/threads.out" &
tpid=$!
wait_for file_nonempty "$T/threads.out"
lt=$(cut -d' ' -f4 /proc/loadavg)
t1=$(procs_field threads)
p1=$(procs_field total)
kill $tpid
wait $tpid
# kernel threads (kworkers) may come and go meanwhile: a little slack
if near "$t1" "${lt#*/}" 2 && near $((t1 - t0)) 8 1 &&
    near $((p1 - p0)) 1 1; then
	ok threads-count-tasks
else
	bad threads-count-tasks "threads $t0 -> $t1 (loadavg $lt)," \
	    "processes $p0 -> $p1"
fi

# --- a stopped process and an unreaped zombie count one each ----------------
sleep 1000 &
spid=$!
wait_for is_state $spid S
s0=$(procs_field stopped)
kill -STOP $spid
wait_for is_state $spid T
s1=$(procs_field stopped)
r1=$(sm-read --backend kmod --cpu-window 0.05 | smkt json - |
    sed -n 's/^stopped_processes=//p')
kill -CONT $spid
wait_for is_state $spid S
s2=$(procs_field stopped)
kill $spid
wait $spid 2>/dev/null
if [ "$s1" = $((s0 + 1)) ] && [ "$r1" = "$s1" ] && [ "$s2" = "$s0" ]; then
	ok stopped-counts-one
else
	bad stopped-counts-one "stopped $s0, after STOP $s1 (sm-read $r1)," \
	    "after CONT $s2"
fi

z0=$(procs_field zombie)
smkt zombie >"$T/zpid" &
hpid=$!
wait_for file_nonempty "$T/zpid"
zpid=$(cat "$T/zpid")
zstate=$(state_of "$zpid")
z1=$(procs_field zombie)
r1=$(sm-read --backend kmod --cpu-window 0.05 | smkt json - |
    sed -n 's/^zombie_processes=//p')
# killing the parent hands the zombie to PID 1, which reaps it
kill $hpid
wait $hpid 2>/dev/null
wait_for gone "$zpid"
z2=$(procs_field zombie)
if [ "$zstate" = Z ] && [ "$z1" = $((z0 + 1)) ] && [ "$r1" = "$z1" ] &&
    [ "$z2" = "$z0" ]; then
	ok zombie-counts-one
else
	bad zombie-counts-one "zombie $z0, with pid $zpid ($zstate) $z1" \
	    "(sm-read $r1), reaped $z2"
fi

# --- stress: readers walk the task list while tasks come and go -------------
smkt hold 300 >"$T/hold.out" &
hold=$!
wait_for file_nonempty "$T/hold.out"
readers=
for r in 1 2 3 4; do
	smkt read /proc/sm/procs >"$T/read$r.out" 2>&1 &
	readers="$readers $!"
done
start=$(date +%s)
smkt churn 5000 >"$T/churn.out" 2>&1
churn=$?
echo "SMKT   churn took $(($(date +%s) - start)) s; $(cat "$T/churn.out")"
rc=0
for r in $readers; do
	kill -TERM "$r"
done
for r in $readers; do
	wait "$r" || rc=1
done
kill -TERM $hold
wait $hold
for r in 1 2 3 4; do
	echo "SMKT   reader $r: $(cat "$T/read$r.out")"
done
if [ $rc -eq 0 ]; then
	ok stress-readers-clean
else
	bad stress-readers-clean "a reader failed"
fi
if [ $churn -eq 0 ]; then
	ok stress-churn
else
	bad stress-churn "$(cat "$T/churn.out")"
fi
if ! check_dmesg stress-dmesg-clean; then
	# after an oops, rmmod may wait forever for the dead reader
	echo "SMKT DONE pass=$pass fail=$fail (kernel oops: stopping here)"
	new_dmesg | sed 's/^/SMKT | /'
	exit 1
fi
# W (512) a warning, D (128) an oops, L (16384) a soft lockup
taint1=$(cat /proc/sys/kernel/tainted)
if [ $((taint1 & 16768)) -eq $((taint0 & 16768)) ]; then
	ok stress-no-new-taint
else
	bad stress-no-new-taint "tainted was $taint0, now $taint1"
fi

# --- unload while a reader holds a file open --------------------------------
exec 3</proc/sm/procs
if rmmod sm_metrics && ! loaded && ! cat <&3 >/dev/null 2>&1; then
	ok rmmod-with-open-file
else
	bad rmmod-with-open-file "rmmod failed or the open file still reads"
fi
exec 3<&-

if [ ! -e /proc/sm ]; then
	ok rmmod-removes-proc-sm
else
	bad rmmod-removes-proc-sm "$(ls -la /proc/sm 2>&1)"
fi

sm-read --backend kmod >"$T/k2.rec" 2>"$T/k2.err"
krc=$?
sm-read --cpu-window 0.05 >"$T/a2.rec" 2>"$T/a2.err"
smkt json "$T/a2.rec" >"$T/a2.kv" 2>&1
if [ $krc -eq 3 ] && grep -q 'sm_metrics module loaded' "$T/k2.err" &&
    [ "$(field collector "$T/a2.kv")" = procfs ]; then
	ok sm-read-after-rmmod
else
	bad sm-read-after-rmmod "kmod exit $krc ($(cat "$T/k2.err")), auto" \
	    "gave $(field collector "$T/a2.kv")"
fi

if insmod "$MOD" && kv procs "$T/re.kv" && rmmod sm_metrics &&
    [ ! -e /proc/sm ]; then
	ok reload-unload
else
	bad reload-unload "second insmod/rmmod failed"
fi

check_dmesg final-dmesg-clean

echo "SMKT DONE pass=$pass fail=$fail"
if [ $fail -ne 0 ]; then
	echo "SMKT kernel log since the checks started:"
	new_dmesg | sed 's/^/SMKT | /'
fi
[ $fail -eq 0 ]
