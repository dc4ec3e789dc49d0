#!/bin/bash
# sm-alert: CPU per record per rule and peak RSS, for HOSTS hosts sending
# one record a second for SECS seconds, fed through --replay (a generated
# file: record time is the clock, so the run goes as fast as the CPU).
# Runs 10 rules and 1 rule over the same file: the difference is the cost
# of the 9 rules more, apart from reading and parsing the records.
# Median of REPS runs; then the engine alone (records parsed beforehand),
# and callgrind instructions on a tenth of the file.
#
#   bench/alert-bench.sh [HOSTS] [SECS] [REPS]
#
# BUILD and OUT as for make.  Not part of `make check`.
set -eu
cd "$(dirname "$0")/.."
hosts=${1:-1000}
secs=${2:-300}
reps=${3:-5}
BUILD=${BUILD:-build}
OUT=${OUT:-bin}
make -s BUILD="$BUILD" OUT="$OUT" all
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sm-alert-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# one record per host per second; values move so that rules fire, resolve
# and hold, and one host in 50 goes silent for two minutes
awk -v H="$hosts" -v S="$secs" 'BEGIN {
	base = 1796083200
	for (t = 0; t < S; t++) {
		sec = base + t
		# strftime is gawk only: build the time by hand (UTC)
		d = int(sec / 86400); r = sec % 86400
		hh = int(r / 3600); mm = int(r % 3600 / 60); ss = r % 60
		for (h = 0; h < H; h++) {
			if (h % 50 == 7 && t >= 60 && t < 180)
				continue
			cpu = (h * 7 + t * 13) % 100
			if (h % 10 == 3 && t >= 30 && t < 120)
				cpu = 97
			used = 1000 + (h * 31 + t) % 3000
			z = (h % 100 == 5 && t % 60 < 5) ? 1 : 0
			printf "{\"ts\":\"2026-12-01T%02d:%02d:%02d.%03dZ\",", \
			    hh, mm, ss, h % 1000
			printf "\"host\":\"host-%05d.example.net\",", h
			printf "\"collector\":\"procfs\",\"cpu_usage\":%d,", cpu
			printf "\"cpu_free\":%d,\"ram_total\":4000,", 100 - cpu
			printf "\"ram_free\":%d,\"ram_available\":%d,", \
			    4000 - used, 4000 - used
			printf "\"ram_used\":%d,\"ram_percentage\":%.2f,", \
			    used, used / 40
			printf "\"total_processes\":200,"
			printf "\"running_processes\":2,"
			printf "\"sleeping_processes\":%d,", 197 - z
			printf "\"stopped_processes\":1,"
			printf "\"zombie_processes\":%d,\"threads\":400}\n", z
		}
	}
}' >"$tmp/in.ndjson"
records=$(wc -l <"$tmp/in.ndjson")
cat >"$tmp/10.rules" <<'EOF'
cpu_usage > 90 for 30s
cpu_usage >= 99
cpu_free < 5 for 1m
ram_percentage >= 85 for 30s
ram_used > 3900
ram_available < 100 for 10s
zombie_processes > 0
stopped_processes > 5 for 1m
threads > 10000
stale for 60s
EOF
head -n 1 "$tmp/10.rules" >"$tmp/1.rules"

echo "machine: $(nproc) CPUs, $(awk -F': ' '/model name/ { print $2; exit }' \
    /proc/cpuinfo), $(uname -r); $(date -u +%Y-%m-%d)"
echo "input: $hosts hosts x $secs s = $records records," \
    "$(( $(stat -c %s "$tmp/in.ndjson") / 1048576 )) MiB"

# run RULES: median user+sys seconds and peak RSS (KiB) of REPS runs
run() {
	local i
	for ((i = 0; i < reps; i++)); do
		/usr/bin/time -f '%U %S %M' -o "$tmp/time" \
		    "$OUT/sm-alert" --replay --rules "$tmp/$1.rules" \
		    <"$tmp/in.ndjson" >"$tmp/events.$1" 2>"$tmp/err.$1"
		awk '{ printf "%.3f %d\n", $1 + $2, $3 }' "$tmp/time"
	done | sort -n | awk -v n="$reps" 'NR == int((n + 1) / 2) { cpu = $1 }
	    { if ($2 > rss) rss = $2 } END { print cpu, rss }'
}
read -r cpu10 rss10 <<<"$(run 10)"
read -r cpu1 rss1 <<<"$(run 1)"
events=$(wc -l <"$tmp/events.10")
tail -n 1 "$tmp/err.10"
awk -v r="$records" -v c10="$cpu10" -v c1="$cpu1" -v m10="$rss10" \
    -v m1="$rss1" -v ev="$events" 'BEGIN {
	printf "10 rules: %.3f s CPU (median), %.2f us/record, " \
	    "%.3f us/record/rule, peak RSS %.1f MiB, %d events\n", \
	    c10, c10 / r * 1e6, c10 / r / 10 * 1e6, m10 / 1024, ev
	printf " 1 rule:  %.3f s CPU (median), %.2f us/record, " \
	    "peak RSS %.1f MiB\n", c1, c1 / r * 1e6, m1 / 1024
	printf "the 9 rules more: %.3f us/record/rule\n", \
	    (c10 - c1) / r / 9 * 1e6
	printf "goal: < 2 us/record/rule: %s; RSS < 16 MiB: %s\n", \
	    c10 / r / 10 * 1e6 < 2 ? "met" : "NOT met", \
	    m10 < 16384 ? "met" : "NOT met"
}'

# the engine alone, the records parsed beforehand (bench/alert-engine.c)
cc -O2 -std=c11 -D_GNU_SOURCE -Ilib $(pkg-config --cflags json-c) \
    -o "$tmp/alert-engine" bench/alert-engine.c "$BUILD/libsm.a" \
    $(pkg-config --libs json-c) -lm
e10=$("$tmp/alert-engine" "$tmp/10.rules" "$tmp/in.ndjson" 5)
e1=$("$tmp/alert-engine" "$tmp/1.rules" "$tmp/in.ndjson" 5)
echo "engine alone, 10 rules: $e10"
echo "engine alone,  1 rule:  $e1"
awk -v a="${e10%% *}" -v b="${e1%% *}" 'BEGIN {
	printf "engine: %.1f ns/record/rule (10 rules); %.1f ns per rule more\n",
	    a / 10, (a - b) / 9
}'

# instructions: the whole run, and inside alert_feed only (the engine:
# host lookup, rules, stale list, events), exact where CPU time is noisy
if command -v valgrind >/dev/null; then
	small=$(( records / 10 ))
	head -n "$small" "$tmp/in.ndjson" >"$tmp/small.ndjson"
	ir() {	# RULES [CALLGRIND OPTION]: instructions collected
		valgrind --tool=callgrind --callgrind-out-file="$tmp/cg" \
		    ${2:+"$2"} "$OUT/sm-alert" --replay \
		    --rules "$tmp/$1.rules" <"$tmp/small.ndjson" \
		    >/dev/null 2>"$tmp/cg.err" || true
		sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$tmp/cg.err"
	}
	all=$(ir 10)
	f10=$(ir 10 --toggle-collect=alert_feed)
	f1=$(ir 1 --toggle-collect=alert_feed)
	awk -v r="$small" -v all="$all" -v f10="$f10" -v f1="$f1" 'BEGIN {
		printf "callgrind, %d records, 10 rules: %.0f instructions/" \
		    "record, %.0f of them in alert_feed (%.1f%%)\n", r,
		    all / r, f10 / r, 100 * f10 / all
		printf "alert_feed: %.0f instructions/record with 1 rule, " \
		    "%.0f per rule more\n", f1 / r, (f10 - f1) / r / 9
	}'
fi
