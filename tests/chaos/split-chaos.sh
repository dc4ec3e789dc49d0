#!/bin/sh
# The chaos test: 100,000 records from a file through sm-split into two
# sm-store --listen receivers on a MariaDB of the test's own, while
# receiver a is SIGKILLed and restarted on its port every few seconds, b is
# reached through a proxy that loses 3% of its answers and cuts 1% of its
# requests short, the database server is restarted once, and later frozen
# (SIGSTOP) for 5 s, longer than sm-split's --timeout: requests time out
# after their rows went in, and are sent again.  At the end every record must be
# one row: rows == records sent, distinct sample_id == rows, and every
# record's sequence number present once.  Half the records carry ids (kept
# byte for byte), half have none (sm-split gives them one before the first
# attempt, or a retry after a lost answer would make a second row).
#
# Figures go to standard output (tests/run.sh shows them all on failure,
# and their one-line summary always; run it by hand to see them all):
#   tests/run.sh bin tests/chaos/split-chaos.sh      # in `make test-chaos`
#   SM_BIN=bin SM_TOP=. SM_TMP=$(mktemp -d) tests/chaos/split-chaos.sh
#
# Knobs (environment): CHAOS_RECORDS (100000), CHAOS_SECONDS (about how
# long the input is spread over, 75), CHAOS_BATCH (50), CHAOS_PARALLEL (12).
. "$SM_TOP/tests/it/post-lib.inc"
. "$SM_TOP/tests/chaos/chaos-lib.sh"

N=${CHAOS_RECORDS:-100000}
SECONDS_WANTED=${CHAOS_SECONDS:-75}
BATCH=${CHAOS_BATCH:-50}
PARALLEL=${CHAOS_PARALLEL:-12}
CHUNK=500
start_time=$(date +%s)

echo "a MariaDB of this test's own, to restart"
private_server
SM_DB=$PDB_URL
SM_DB_PASSWORD=$PDB_PASSWORD
export SM_DB SM_DB_PASSWORD

echo "$N records: odd ones with ids, even ones without"
# the id's first group keeps this run's ids apart from any other's
TAG=$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')
chaos_records "$N" "$TAG" chaos >"$SM_TMP/records"
expect_eq "records written" "$(lines "$SM_TMP/records")" "$N"
# the ids given, by sequence number, as the table must hold them
grep -o '"id":"[^"]*".*"total_processes":[0-9]*' "$SM_TMP/records" |
    sed 's/"id":"\([^"]*\)".*"total_processes":\([0-9]*\)/\2	\1/' \
    >"$SM_TMP/ids.want"

# pick_port: a free port below the ephemeral range (32768-), so no client
# connection takes it while a is down.
pick_port() {
	echo $((20000 + $(od -An -N2 -tu2 /dev/urandom) % 12000))
}

# launch NAME PORT: sm-store --listen on 127.0.0.1:PORT, its pid in
# $SM_TMP/NAME.pid; returns 1 when it dies before writing its port file
# (the port is taken).  It holds no descriptor of the test but its log.
launch() {
	rm -f "$SM_TMP/$1.port"
	"$STORE" --listen "127.0.0.1:$2" --port-file "$SM_TMP/$1.port" \
	    --source "route-$1" </dev/null >/dev/null 2>>"$SM_TMP/$1.err" \
	    3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
	echo $! >"$SM_TMP/$1.pid"
	# a restart amid the database's 5 s stall waits out its 5 s connect
	_t=300
	while [ ! -s "$SM_TMP/$1.port" ]; do
		kill -0 "$(cat "$SM_TMP/$1.pid")" 2>/dev/null || return 1
		_t=$((_t - 1))
		[ $_t -gt 0 ] || fail "receiver $1 wrote no port file"
		sleep 0.05
	done
	return 0
}
at_exit 'kill $(cat "$SM_TMP/a.pid" "$SM_TMP/b.pid" 2>/dev/null) \
    2>/dev/null || true'

for r in a b; do
	tries=0
	until port=$(pick_port) && launch $r "$port"; do
		tries=$((tries + 1))
		[ $tries -lt 20 ] || fail "no free port for receiver $r"
	done
	eval "${r}_port=$port"
	eval "${r}_url=http://127.0.0.1:$port/metrics"
done
echo "receivers: a on $a_port, b on $b_port"

# b is reached through a network that loses answers after the request went
# in, and cuts requests short (tests/chaos/flaky-proxy.py)
python3 "$SM_TOP/tests/chaos/flaky-proxy.py" "$b_port" "$SM_TMP/proxy.port" \
    "$SM_TMP/proxy.stats" 0.03 0.01 </dev/null >/dev/null \
    2>>"$SM_TMP/proxy.err" 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
proxy=$!
at_exit "kill $proxy 2>/dev/null || true"
wait_for 100 test -s "$SM_TMP/proxy.port"
b_url=http://127.0.0.1:$(cat "$SM_TMP/proxy.port")/metrics
echo "b through a lossy proxy: $b_url"

# the input, spread over about SECONDS_WANTED seconds (chaos_feed); the
# database restarts 40% of the way in, and stalls for 5 s at 70%
split_at() {
	if [ "$1" -eq $(($2 * 2 / 5)) ]; then
		echo "$(date +%s) restart" >>"$SM_TMP/db.log"
		{ pdb restart && echo "$(date +%s) restarted"; } \
		    >>"$SM_TMP/db.log" 2>&1 &
	fi
	if [ "$1" -eq $(($2 * 7 / 10)) ]; then
		(
			chaos_await "$SM_TMP/db.log" ' restarted$' 300
			dbpid=$(cat "$SM_TMP/pdb/mysqld.pid")
			echo "$(date +%s) stall $dbpid"
			kill -STOP "$dbpid"
			sleep 5
			kill -CONT "$dbpid"
			echo "$(date +%s) stall over"
		) >>"$SM_TMP/db.log" 2>&1 &
	fi
}
mkfifo "$SM_TMP/in"
chaos_feed "$SM_TMP/records" $CHUNK "$SECONDS_WANTED" "$SM_TMP/db.log" \
    split_at >"$SM_TMP/in" &
feeder=$!
at_exit "kill $feeder 2>/dev/null || true"
# never leave the server stopped (the stall is cut short on an early exit)
at_exit 'kill -CONT $(cat "$SM_TMP/pdb/mysqld.pid" 2>/dev/null) \
    2>/dev/null || true'

# the chaos: a killed (-9) every 1.5-4 s, restarted 0.2-1 s later on its
# port (retried for a while if that port is busy, say with a dying a)
(
	exec 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-
	kills=0
	while [ ! -e "$SM_TMP/stop" ]; do
		sleep "$(awk -v r="$(od -An -N2 -tu2 /dev/urandom)" \
		    'BEGIN { printf("%.2f", 1.5 + r % 250 / 100) }')"
		[ ! -e "$SM_TMP/stop" ] || break
		pid=$(cat "$SM_TMP/a.pid")
		kill -KILL "$pid"
		wait "$pid" 2>/dev/null || true
		kills=$((kills + 1))
		echo $kills >"$SM_TMP/kills"
		sleep "$(awk -v r="$(od -An -N2 -tu2 /dev/urandom)" \
		    'BEGIN { printf("%.2f", 0.2 + r % 80 / 100) }')"
		tries=0
		until launch a "$a_port"; do
			tries=$((tries + 1))
			if [ $tries -ge 100 ]; then
				echo "port $a_port taken: a cannot restart" \
				    >"$SM_TMP/chaos.failed"
				exit 1
			fi
			sleep 0.1
		done
	done
) >>"$SM_TMP/chaos.log" 2>&1 &
chaos=$!
at_exit "touch '$SM_TMP/stop'; kill $chaos 2>/dev/null || true"

echo "sm-split --batch $BATCH --parallel $PARALLEL," \
    "$N records over ~$SECONDS_WANTED s"
set +e
"$SPLIT" --batch "$BATCH" --parallel "$PARALLEL" --health-interval 0.5 \
    --fail-timeout 1 --timeout 2 --retries 100000 --max-time 300 \
    --stats-every 500 \
    --spool "$SM_TMP/spool" --reject "$SM_TMP/reject" \
    "$a_url" "$b_url" <"$SM_TMP/in" >"$SM_TMP/acks" 2>"$SM_TMP/split.err"
split_status=$?
set -e
touch "$SM_TMP/stop"
wait $chaos ||
    fail "chaos: $(cat "$SM_TMP/chaos.failed" "$SM_TMP/chaos.log" 2>/dev/null)"
wait $feeder || fail "feeder: $(cat "$SM_TMP/db.log")"
end_time=$(date +%s)
grep -q ' fed$' "$SM_TMP/db.log" || fail "the input was not all fed"
grep -q ' restarted$' "$SM_TMP/db.log" ||
    fail "the database was not restarted: $(cat "$SM_TMP/db.log")"
grep -q ' stall over$' "$SM_TMP/db.log" || fail "the database did not stall"
# the restart must have been done, and the server up again
pdb status || fail "the database is not up: $(cat "$SM_TMP/db.log")"
stats=$(grep '^sm-split: sent ' "$SM_TMP/split.err" | tail -1)
echo "$stats"
[ "$split_status" -eq 0 ] ||
    fail "sm-split exited $split_status: $(tail -20 "$SM_TMP/split.err")"

kill -TERM $proxy
wait $proxy || fail "the proxy: $(cat "$SM_TMP/proxy.err")"
net=$(cat "$SM_TMP/proxy.stats")
echo "proxy to b: $net"

# anything spooled is replayed now, and must then be stored too
touch "$SM_TMP/spool" "$SM_TMP/reject"
spooled=$(lines "$SM_TMP/spool")
[ ! -s "$SM_TMP/reject" ] || fail "records refused: $(head -3 "$SM_TMP/reject")"
if [ "$spooled" -gt 0 ]; then
	echo "WARNING: $spooled records spooled; replaying them"
	expect_status 0 "$SPLIT" "$a_url" "http://127.0.0.1:$b_port/metrics" \
	    <"$SM_TMP/spool"
fi

echo "every record is exactly one row"
rows_=$(pq 'SELECT COUNT(*) FROM system_metrics')
ids=$(pq 'SELECT COUNT(DISTINCT sample_id) FROM system_metrics')
seqs=$(pq 'SELECT COUNT(DISTINCT total_processes), MIN(total_processes),
    MAX(total_processes) FROM system_metrics' | tr '\t' ' ')
expect_eq "rows == records sent" "$rows_" "$N"
expect_eq "distinct sample_id == rows" "$ids" "$rows_"
expect_eq "every sequence number once" "$seqs" "$N 1 $N"
pq 'SELECT total_processes, sample_id FROM system_metrics
    WHERE total_processes % 2 = 1 ORDER BY total_processes' >"$SM_TMP/ids.got"
diff -u "$SM_TMP/ids.want" "$SM_TMP/ids.got" >"$SM_TMP/ids.diff" ||
    fail "given ids not kept: $(head -20 "$SM_TMP/ids.diff")"
UUID7='^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$'
expect_eq "ids given by sm-split (UUIDv7)" "$(pq "SELECT COUNT(*)
    FROM system_metrics WHERE total_processes % 2 = 0 AND
    sample_id REGEXP '$UUID7'")" $((N / 2))

echo "the acknowledgements account for every record once"
sum() {
	sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p" "$SM_TMP/acks" |
	    awk '{ s += $1 } END { print s + 0 }'
}
acked=$(sum records)
stored=$(sum stored)
dups=$(sum duplicates)
expect_eq "records acknowledged (+ spooled)" $((acked + spooled)) "$N"
expect_eq "stored + duplicates in the answers" $((stored + dups)) "$acked"
expect_eq "acknowledgements not 200" "$(grep -vc '"status":200,' \
    "$SM_TMP/acks" || true)" 0

echo "the chaos happened"
kills=$(cat "$SM_TMP/kills" 2>/dev/null || echo 0)
# a kill every 2.75 s on average: a fifth of that is a broken chaos loop
[ "$kills" -ge $((SECONDS_WANTED / 15 + 1)) ] ||
    fail "a was killed only $kills times"
outs=$(grep -c "^sm-split: a ($a_url): out for" "$SM_TMP/split.err" || true)
[ "$outs" -ge 1 ] || fail "sm-split never took a out"
grep -q "database .*reconnect" "$SM_TMP/b.err" ||
    fail "b never saw the database go: $(cat "$SM_TMP/b.err")"
retried=$(echo "$stats" | sed -n 's/.*| retried \([0-9]*\).*/\1/p')
failed_over=$(echo "$stats" | sed -n 's/.*| failed over \([0-9]*\).*/\1/p')
[ "${retried:-0}" -gt 0 ] || fail "nothing was retried: $stats"
lost=$(echo "$net" | sed -n 's/.* dropped \([0-9]*\) resets \([0-9]*\)$/\1 \2/p')
[ "${lost% *}" -gt 0 ] && [ "${lost#* }" -gt 0 ] ||
    fail "the proxy lost no answer or cut no request: $net"
per_source=$(pq 'SELECT data_source, COUNT(*) FROM system_metrics
    GROUP BY data_source ORDER BY data_source' | tr '\t' ' ' | tr '\n' ' ')

cat <<EOF

chaos figures
  records sent          $N (sm-split delivered $acked, spooled $spooled)
  rows stored           $rows_ ($per_source)
  distinct sample_id    $ids
  stored by answers     $stored
  duplicates avoided    $dups (records sent again after a lost answer)
  requests              $(lines "$SM_TMP/acks") of up to $BATCH records,\
 $PARALLEL in flight
  retries               $retried
  failovers             $failed_over
  a killed (-9)         $kills times; taken out by sm-split $outs times
  database              restarted once, frozen 5 s once
  network to b          ${lost% *} answers lost after the request went in,\
 ${lost#* } requests cut short
  time                  $((end_time - start_time)) s
EOF
# one line in the form tests/run.sh shows even when the test passes
echo "[==========] chaos: $N records ran through sm-split: $rows_ rows," \
    "$ids ids, $dups duplicates avoided, $retried retries," \
    "$failed_over failovers, $kills kills, ${lost% *} answers lost," \
    "${lost#* } requests cut, $((end_time - start_time)) s"
