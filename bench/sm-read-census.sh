#!/bin/bash
# Cost of one `sm-read -n 1` sample against `ps -e -o stat` taking the same
# census, with about 2,000 processes alive (spawned here).
#
#   bench/sm-read-census.sh [PROCS] [RUNS]
#
# Prints instructions (callgrind, exact and repeatable) and CPU time
# (user+sys, median of RUNS runs) for both, and the ratio sm-read / ps.
set -eu
cd "$(dirname "$0")/.."
procs=${1:-2000}
runs=${2:-30}
sm=bin/sm-read
[ -x $sm ] || make -s all

pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT
for ((i = 0; i < procs; i++)); do
	sleep 600 &
	pids+=($!)
done
sleep 1
alive=$(ls -d /proc/[0-9]* | wc -l)
echo "processes alive: $alive"

# instructions of one run, user space, whole program (callgrind)
instr() {
	valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" \
	    2>&1 >/dev/null | awk '/Collected :/ { print $4 }'
}
# Mean CPU time (user+sys of the waited-for children, ms) over $runs runs:
# clock ticks are too coarse to time one run.
cpu_total() {
	local s e me=$BASHPID
	s=$(awk '{ print $14 + $15 + $16 + $17 }' /proc/$me/stat)
	for ((r = 0; r < runs; r++)); do "$@" >/dev/null; done
	e=$(awk '{ print $14 + $15 + $16 + $17 }' /proc/$me/stat)
	awk -v d=$((e - s)) -v n=$runs -v hz="$(getconf CLK_TCK)" \
	    'BEGIN { printf "%.2f", d * 1000 / hz / n }'
}

SM=("$sm" -n 1 --backend procfs --cpu-window 0.01)
PS=(ps -e -o stat)
i_sm=$(instr "${SM[@]}")
i_ps=$(instr "${PS[@]}")
c_sm=$(cpu_total "${SM[@]}")
c_ps=$(cpu_total "${PS[@]}")
echo "instructions (callgrind, user space): sm-read $i_sm, ps $i_ps"
awk -v a="${i_sm//,/}" -v b="${i_ps//,/}" \
    'BEGIN { printf "  ratio sm-read/ps: %.3f\n", a / b }'
echo "CPU time per run (user+sys, mean of $runs): sm-read $c_sm ms, ps $c_ps ms"
awk -v a="$c_sm" -v b="$c_ps" \
    'BEGIN { if (b > 0) printf "  ratio sm-read/ps: %.3f\n", a / b }'
