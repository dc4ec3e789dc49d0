#!/bin/sh
# Runs inside the qemu guest that bench/kmod-bench.sh boots: the cost of
# one sm-read sample with the kmod backend and with the procfs backend, at
# each process count in /bench.conf.  Prints "BENCH ..." lines.
#
# One sample's cost is measured by difference: the median wall time (and
# mean CPU time) of `sm-read -n 1+M -i 0` minus that of `sm-read -n 1`,
# over REPS runs each, divided by M.  Start-up, the CPU window and the
# first sample cancel out.  M is larger for the cheap kmod backend
# (M_KMOD) than for procfs (M_PROCFS), so that CPU time, counted in
# scheduler ticks, has enough of them to be exact.
PATH=/bin
export PATH
# shellcheck disable=SC1091 # written by bench/kmod-bench.sh
. /bench.conf	# COUNTS, M_KMOD, M_PROCFS, REPS

total() {
	smkt json /proc/sm/procs | sed -n 's/^total=//p'
}

# sm-read runs BACKEND SAMPLES: "median_us cpu_mean_us" of REPS runs.
run() {
	smkt time "$REPS" sm-read -n "$2" -i 0 --cpu-window 0.01 \
	    --backend "$1" |
	    sed 's/median_us=\([0-9]*\).*cpu_mean_us=\([0-9]*\).*/\1 \2/'
}

if ! insmod /sm_metrics.ko; then
	echo "BENCH FAIL insmod"
	exit 1
fi
# the default limit comes from RAM and may sit below the largest count
echo 1000000 >/proc/sys/kernel/threads-max
echo "BENCH guest: Linux $(uname -r), $(grep -c ^processor /proc/cpuinfo)" \
    "CPUs, $(sed -n 's/^MemTotal: *//p' /proc/meminfo); M_KMOD=$M_KMOD" \
    "M_PROCFS=$M_PROCFS REPS=$REPS"

i=0
for n in $COUNTS; do
	# smkt hold is a process too
	need=$((n - $(total) - 1))
	if [ "$need" -gt 0 ]; then
		i=$((i + 1))
		smkt hold "$need" >"/tmp/hold$i" &
		while ! grep -q held "/tmp/hold$i"; do
			sleep 0.5
		done
	fi
	procs=$(total)
	for b in kmod procfs; do
		m=$M_KMOD
		[ $b = kmod ] || m=$M_PROCFS
		# shellcheck disable=SC2046 # two figures each
		set -- $(run $b 1) $(run $b $((m + 1)))
		awk -v n="$procs" -v b=$b -v m="$m" -v w1="$1" -v c1="$2" \
		    -v wm="$3" -v cm="$4" 'BEGIN {
			printf "BENCH RESULT procs=%d backend=%s " \
			    "wall_us=%.0f cpu_us=%.0f\n", n, b,
			    (wm - w1) / m, (cm - c1) / m }'
	done
done
echo "BENCH DONE"
