#!/bin/sh
# sm-read on this machine's real /proc, against ps(1) and /proc/meminfo.
. "$(dirname "$0")/../lib.sh"

# one stopped process and one zombie we know of
sleep 60 &
stopped=$!
kill -STOP $stopped
# sh execs into sleep, which never reaps the child sh left: a zombie
sh -c 'sleep 0 & exec sleep 60' &
zparent=$!
trap 'kill -KILL $stopped $zparent 2>/dev/null || true' EXIT
sleep 0.3

# ps before and after: on a busy machine (a build beside) processes and
# zombies come and go between scans; sm-read's count must fall between
ps -e -o stat= | cut -c1 >"$SM_TMP/ps"
"$SM_BIN/sm-read" --backend procfs >"$SM_TMP/rec"
ps -e -o stat= | cut -c1 >"$SM_TMP/ps2"
cat "$SM_TMP/rec"

field() {
	sed -E "s/.*\"$1\":([0-9.]+).*/\1/" "$SM_TMP/rec"
}
# "before after": the states' count in the two ps scans
count() {
	echo "$(grep -c "^[$1]" "$SM_TMP/ps" || true)" \
	    "$(grep -c "^[$1]" "$SM_TMP/ps2" || true)"
}

# between the two scans, with a little drift: ps and sm-read are not one
# instant either
near() {
	name=$1 ours=$2
	set -- $3
	lo=$(( $1 < $2 ? $1 : $2 )) hi=$(( $1 > $2 ? $1 : $2 ))
	slack=$(( hi / 20 + 3 ))
	echo "$name: sm-read $ours, ps $1 before, $2 after"
	[ "$ours" -ge $(( lo - slack )) ] && [ "$ours" -le $(( hi + slack )) ] ||
	    fail "$name: $ours vs ps $1 before, $2 after"
}
near total "$(field total_processes)" "$(wc -l <"$SM_TMP/ps") $(wc -l <"$SM_TMP/ps2")"
# R and S flip with the load from one scan to the next: compare their sum,
# and R only as "sm-read saw itself running"
near "running+sleeping" "$(( $(field running_processes) + \
    $(field sleeping_processes) ))" "$(count RSDI)"
[ "$(field running_processes)" -ge 1 ] || fail "sm-read did not see itself run"
near stopped "$(field stopped_processes)" "$(count Tt)"
near zombie "$(field zombie_processes)" "$(count Z)"
[ "$(field stopped_processes)" -ge 1 ] || fail "our stopped process missed"
[ "$(field zombie_processes)" -ge 1 ] || fail "our zombie missed"

kib() {
	awk -v k="$1:" '$1 == k { print $2 }' /proc/meminfo
}
total=$(( $(kib MemTotal) / 1024 ))
echo "ram_total: sm-read $(field ram_total), meminfo $total"
[ "$(field ram_total)" -eq "$total" ] || fail "ram_total"
mib=$(( $(kib MemAvailable) / 1024 ))
near ram_available "$(field ram_available)" "$mib $mib"
[ "$(field ram_used)" -eq $(( $(field ram_total) - $(field ram_available) )) ] ||
    fail "ram_used is not ram_total - ram_available"
echo "cpu_usage: $(field cpu_usage) (collector $(sed -E 's/.*"collector":"([a-z]+)".*/\1/' "$SM_TMP/rec"))"
grep -q '"collector":"procfs"' "$SM_TMP/rec" || fail "collector"

echo "CPU: a busy loop on one CPU shows as busy time"
ncpu=$(getconf _NPROCESSORS_ONLN)
( while :; do :; done ) &
spin=$!
"$SM_BIN/sm-read" --cpu-window 1 >"$SM_TMP/rec"
kill $spin
busy=$(field cpu_usage | cut -d. -f1)
# one of ncpu CPUs spinning is 100/ncpu percent; demand at least half that
echo "cpu_usage with 1 of $ncpu CPUs spinning: $busy"
[ "$busy" -ge $(( 50 / ncpu )) ] || fail "cpu_usage $busy too low"
echo ok
