#!/bin/sh
# The Galera chaos test: a three-node Galera cluster of the test's own
# (scripts/galera.sh), receivers a on node 1 and b on node 2, sm-split
# sending records to both while node 2 is SIGKILLed and rejoins (IST),
# then node 1 is restarted; sm-tail -f on node 3 follows the table twice,
# by the binary log (--via auto) and by polls (--via poll).  At the end
# each node holds exactly the records sent, one row each, and each
# follower printed each record once.
#
# The issue asks for 30,000 records; on the 2-core test machine 10,000
# keep the run within about three minutes (GALERA_CHAOS_RECORDS=30000
# for the full run).
#
#   tests/run.sh bin tests/chaos/galera-chaos.sh          # in make check
#
# Knobs (environment): GALERA_CHAOS_RECORDS (10000), GALERA_CHAOS_SECONDS
# (how long the input is spread over, 40), SM_GALERA_PORT (the cluster's
# first port; default: one picked below the ephemeral range).
set -eu
. "$SM_TOP/tests/lib.sh"
. "$SM_TOP/tests/chaos/chaos-lib.sh"

N=${GALERA_CHAOS_RECORDS:-10000}
SECONDS_WANTED=${GALERA_CHAOS_SECONDS:-40}
CHUNK=250
SPLIT="$SM_BIN/sm-split"
STORE="$SM_BIN/sm-store"
TAIL="$SM_BIN/sm-tail"
GALERA="$SM_TOP/scripts/galera.sh"
start_time=$(date +%s)

[ -f /usr/lib/galera/libgalera_smm.so ] ||
    fail "galera-4 is not installed: run scripts/deps.sh"

CLEANUP=
at_exit() { CLEANUP="$1; $CLEANUP"; }
# shellcheck disable=SC2064
trap 'eval "$CLEANUP"' EXIT
trap 'exit 1' INT TERM

expect_eq() { [ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"; }
lines() { wc -l <"$1" | tr -d ' '; }

# the nodes run as user mysql, who must reach their directories
chmod 711 "$SM_TMP"
SM_GALERA_DIR=$SM_TMP/galera
# below the ephemeral range (32768-), so no client connection takes it
SM_GALERA_PORT=${SM_GALERA_PORT:-$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 11000))}
export SM_GALERA_DIR SM_GALERA_PORT

echo "a three-node Galera cluster on ports $SM_GALERA_PORT.."
at_exit '"$GALERA" stop >/dev/null 2>&1 || true'
"$GALERA" start || fail "the cluster did not start"
eval "$("$GALERA" env)"
nq() { "$GALERA" sql "$1" -N -B sm -e "$2"; }

echo "$N records: odd ones with ids, even ones without"
TAG=$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')
chaos_records "$N" "$TAG" galera >"$SM_TMP/records"

# receiver NAME NODE: sm-store --listen on a free port, on node NODE
receiver() {
	rm -f "$SM_TMP/$1.port"
	eval "db=\$SM_DB_$2"
	"$STORE" --db "$db" --listen 127.0.0.1:0 --port-file \
	    "$SM_TMP/$1.port" --source "node$2" </dev/null >/dev/null \
	    2>>"$SM_TMP/$1.err" 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
	eval "$1_pid=$!"
	at_exit "kill $! 2>/dev/null || true"
	t=200
	while [ ! -s "$SM_TMP/$1.port" ]; do
		t=$((t - 1))
		[ $t -gt 0 ] || fail "receiver $1: no port: $(cat "$SM_TMP/$1.err")"
		sleep 0.05
	done
	eval "$1_url=http://127.0.0.1:$(cat "$SM_TMP/$1.port")/metrics"
}
receiver a 1
receiver b 2
t=200
until [ "$(nq 3 "SELECT COUNT(*) FROM information_schema.TABLES
    WHERE TABLE_SCHEMA = 'sm' AND TABLE_NAME = 'system_metrics'")" = 1 ]; do
	t=$((t - 1))
	[ $t -gt 0 ] || fail "the table did not appear on node 3"
	sleep 0.1
done
echo "auto_increment on node 3: $(nq 3 'SELECT @@auto_increment_increment,
    @@auto_increment_offset' | tr '\t' ' ')"

echo "followers on node 3: by the binary log and by polls"
"$TAIL" -f -n 0 --format ndjson --db "$SM_DB_3" >"$SM_TMP/fb.out" \
    2>"$SM_TMP/fb.err" &
fb=$!
at_exit "kill $fb 2>/dev/null || true"
"$TAIL" -f -n 0 --format ndjson --via poll --interval 0.2 --db "$SM_DB_3" \
    >"$SM_TMP/fp.out" 2>"$SM_TMP/fp.err" &
fp=$!
at_exit "kill $fp 2>/dev/null || true"
# both following (-n 0: rows before that are not theirs) before the feed
sleep 3

# the input, spread over about SECONDS_WANTED seconds (chaos_feed); node 2
# is killed 20% of the way in and restarted at once (it rejoins by IST
# while the records flow), node 1 restarted at 60% once node 2 is back
galera_at() {
	if [ "$1" -eq $(($2 / 5)) ]; then
		(
			echo "$(date +%s) kill 2"
			"$GALERA" kill 2
			sleep 2
			"$GALERA" restart 2 && echo "$(date +%s) rejoined 2"
		) >>"$SM_TMP/chaos.log" 2>&1 &
	fi
	if [ "$1" -eq $(($2 * 3 / 5)) ]; then
		(
			chaos_await "$SM_TMP/chaos.log" ' rejoined 2$' 600
			echo "$(date +%s) restart 1"
			"$GALERA" restart 1 && echo "$(date +%s) rejoined 1"
		) >>"$SM_TMP/chaos.log" 2>&1 &
	fi
}
mkfifo "$SM_TMP/in"
chaos_feed "$SM_TMP/records" $CHUNK "$SECONDS_WANTED" "$SM_TMP/chaos.log" \
    galera_at >"$SM_TMP/in" &
feeder=$!
at_exit "kill $feeder 2>/dev/null || true"

echo "sm-split: $N records over ~$SECONDS_WANTED s to a (node 1), b (node 2)"
set +e
"$SPLIT" --batch 50 --parallel 8 --health-interval 0.5 --fail-timeout 1 \
    --timeout 5 --retries 100000 --max-time 240 --stats-every 100 \
    --spool "$SM_TMP/spool" --reject "$SM_TMP/reject" \
    "$a_url" "$b_url" <"$SM_TMP/in" >"$SM_TMP/acks" 2>"$SM_TMP/split.err"
split_status=$?
set -e
wait $feeder || fail "feeder: $(cat "$SM_TMP/chaos.log")"
cat "$SM_TMP/chaos.log"
grep -q ' rejoined 2$' "$SM_TMP/chaos.log" || fail "node 2 did not rejoin"
grep -q ' rejoined 1$' "$SM_TMP/chaos.log" || fail "node 1 did not rejoin"
grep -q "IST received" "$SM_GALERA_DIR/node2/error.log" ||
    fail "node 2 did not rejoin by IST"
stats=$(grep '^sm-split: sent ' "$SM_TMP/split.err" | tail -1)
echo "$stats"
[ "$split_status" -eq 0 ] ||
    fail "sm-split exited $split_status: $(tail -20 "$SM_TMP/split.err")"
touch "$SM_TMP/spool" "$SM_TMP/reject"
[ ! -s "$SM_TMP/reject" ] || fail "records refused: $(head -3 "$SM_TMP/reject")"
spooled=$(lines "$SM_TMP/spool")
if [ "$spooled" -gt 0 ]; then
	echo "WARNING: $spooled records spooled; replaying them"
	expect_status 0 "$SPLIT" "$a_url" "$b_url" <"$SM_TMP/spool"
fi
"$GALERA" status

echo "every node holds every record exactly once"
for n in 1 2 3; do
	got=$(nq $n 'SELECT COUNT(*), COUNT(DISTINCT sample_id),
	    COUNT(DISTINCT total_processes), MIN(total_processes),
	    MAX(total_processes) FROM system_metrics' | tr '\t' ' ')
	expect_eq "node $n: rows, ids, sequence numbers" "$got" \
	    "$N $N $N 1 $N"
done
per_source=$(nq 3 'SELECT data_source, COUNT(*) FROM system_metrics
    GROUP BY data_source ORDER BY data_source' | tr '\t' ' ' | tr '\n' ' ')
echo "rows per receiver: $per_source"
case $per_source in
*node1*node2*) ;;
*) fail "both receivers must have stored rows: $per_source" ;;
esac
grep -q "database .*reconnect" "$SM_TMP/b.err" ||
    fail "b never saw node 2 go: $(cat "$SM_TMP/b.err")"
grep -q "database .*reconnect" "$SM_TMP/a.err" ||
    fail "a never saw node 1 go: $(cat "$SM_TMP/a.err")"
outs=$(grep -c ": out for" "$SM_TMP/split.err" || true)
[ "$outs" -ge 2 ] || fail "sm-split did not take the receivers out: $outs"

echo "each follower printed each record once"
for f in fb fp; do
	t=300
	while [ "$(lines "$SM_TMP/$f.out")" -lt "$N" ]; do
		t=$((t - 1))
		[ $t -gt 0 ] || fail "follower $f printed" \
		    "$(lines "$SM_TMP/$f.out") of $N: $(cat "$SM_TMP/$f.err")"
		sleep 0.1
	done
done
sleep 1
for f in fb fp; do
	expect_eq "follower $f: lines" "$(lines "$SM_TMP/$f.out")" "$N"
	expect_eq "follower $f: distinct records" "$(grep -o \
	    '"total_processes":[0-9]*' "$SM_TMP/$f.out" | sort -u | wc -l |
	    tr -d ' ')" "$N"
done
echo "binary log follower: $(head -c 300 "$SM_TMP/fb.err")"

echo "node 2 cut off from the primary component: b says 503, then 200"
b_health=${b_url%/metrics}/health
health() { curl -s -o /dev/null -w '%{http_code}' "$b_health" || true; }
# health_becomes CODE TENTHS: b's /health answers CODE within TENTHS/10 s
health_becomes() {
	t=$2
	until [ "$(health)" = "$1" ]; do
		t=$((t - 1))
		[ $t -gt 0 ] || fail "b's /health is $(health), not $1"
		sleep 0.1
	done
	waited=$(( ($2 - t) / 10 ))
}
expect_eq "b's /health, node 2 in the cluster" "$(health)" 200
"$GALERA" sql 2 -e "SET GLOBAL wsrep_provider_options = 'gmcast.isolate=1'"
health_becomes 503 200
echo "503 after $waited s: $(tail -1 "$SM_TMP/b.err")"
"$GALERA" sql 2 -e "SET GLOBAL wsrep_provider_options = 'gmcast.isolate=0'"
"$GALERA" wait 2
health_becomes 200 300
sed -n 2p "$SM_TMP/records" |
    sed "s/\"total_processes\":2,/\"total_processes\":$((N + 1)),/" |
    "$SM_BIN/sm-post" "$b_url" >/dev/null || fail "b does not store after the rejoin"
expect_eq "node 3 rows after the rejoin" "$(nq 3 'SELECT COUNT(*) FROM
    system_metrics')" $((N + 1))

end_time=$(date +%s)
echo "[==========] galera chaos: $N records ran through sm-split onto 3" \
    "nodes ($per_source), node 2 killed and rejoined by IST, node 1" \
    "restarted: $N rows on each node, each follower printed $N;" \
    "$((end_time - start_time)) s"
