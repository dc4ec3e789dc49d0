#!/bin/sh
# Every daemon scraped by Debian's real Prometheus server: sm-store
# --listen's GET /metrics (behind --metrics-token-file, as Prometheus's
# credentials_file sends it), sm-tail --listen's /metrics, and sm-split's
# --metrics-file through prometheus-node-exporter's textfile collector.
# Each output is promtool-clean; PromQL over the HTTP API finds every
# target up and the counters moving (records stored, records
# acknowledged) after more records are sent.  About 15 s.
. "$(dirname "$0")/store-lib.sh"

command -v prometheus >/dev/null || fail "no prometheus (scripts/deps.sh)"
NODE_EXPORTER=/usr/bin/prometheus-node-exporter
[ -x $NODE_EXPORTER ] ||
    fail "no prometheus-node-exporter (scripts/deps.sh)"

# bg NAME CMD...: CMD in the background, stderr in $SM_TMP/NAME.err,
# killed at exit; its pid in BG.  Not holding the sender's input open
# (fd 3).
bg() {
	name=$1
	shift
	"$@" 2>"$SM_TMP/$name.err" 3>&- &
	BG=$!
	at_exit "kill $BG 2>/dev/null || true"
}

# get URL [CURL ARGS]: the body into $SM_TMP/body, the status printed
get() {
	u=$1
	shift
	curl -s -m 10 -o "$SM_TMP/body" -w '%{http_code}' "$@" "$u"
}

# promtool_clean NAME URL [CURL ARGS]: GET URL answers 200, promtool-clean
promtool_clean() {
	name=$1
	shift
	code=$(get "$@")
	[ "$code" = 200 ] || fail "$name: GET $1: $code $(cat "$SM_TMP/body")"
	promtool check metrics <"$SM_TMP/body" >"$SM_TMP/promtool" 2>&1 ||
	    fail "$name: promtool check metrics: $(cat "$SM_TMP/promtool")"
}

# promq QUERY: the instant query's values, one a line ("" when none)
promq() {
	curl -s -m 5 -G --data-urlencode "query=$1" \
	    "$PROM/api/v1/query" >"$SM_TMP/q.json" || return 1
	python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))
assert r["status"] == "success", r
for s in r["data"]["result"]:
    print(s["value"][1])' "$SM_TMP/q.json"
}

# wait_prom SECONDS WHAT PYTHON-EXPRESSION-OVER-v QUERY: poll QUERY until
# the expression over its values (v, a list of floats) holds
wait_prom() {
	end=$(($(date +%s) + $1))
	while :; do
		if promq "$4" >"$SM_TMP/vals" 2>/dev/null && python3 -c '
import sys
v = [float(x) for x in open(sys.argv[1]).read().split()]
sys.exit(0 if eval(sys.argv[2]) else 1)' "$SM_TMP/vals" "$3"; then
			return 0
		fi
		[ "$(date +%s)" -lt "$end" ] ||
		    fail "$2: $4 gave [$(tr '\n' ' ' <"$SM_TMP/vals")]," \
		    "want $3; targets: $(curl -s "$PROM/api/v1/targets")"
		sleep 0.2
	done
}

printf 'receiver-token-%s\n' $$ >"$SM_TMP/token"
printf 'scrape-token-%s\n' $$ >"$SM_TMP/scrape-token"
chmod 600 "$SM_TMP/token" "$SM_TMP/scrape-token"

echo "sm-store --listen: GET /metrics wants --metrics-token-file's token"
start_receiver recv --token-file "$SM_TMP/token" \
    --metrics-token-file "$SM_TMP/scrape-token"
expect_eq "no token" "$(get "$RURL/metrics")" 401
expect_eq "the senders' token" "$(get "$RURL/metrics" \
    -H "Authorization: Bearer receiver-token-$$")" 401
promtool_clean sm-store "$RURL/metrics" \
    -H "Authorization: Bearer scrape-token-$$"
grep -q '^sm_store_auth_failures_total 2$' "$SM_TMP/body" ||
    fail "sm-store: two failures not counted: $(cat "$SM_TMP/body")"
grep -q '^sm_store_database_up 1$' "$SM_TMP/body" ||
    fail "sm-store: database not up: $(cat "$SM_TMP/body")"
code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT "$RURL/metrics")
expect_eq "PUT /metrics" "$code" 405

echo "sm-split --metrics-file: written at once, promtool-clean"
mkdir "$SM_TMP/textfile"
mkfifo "$SM_TMP/in"
# read-write: opened without waiting for a reader
exec 3<>"$SM_TMP/in"
at_exit "exec 3>&-"
"$SM_BIN/sm-split" --token-file "$SM_TMP/token" \
    --metrics-file "$SM_TMP/textfile/split.prom" --metrics-interval 0.3 \
    "$RURL/metrics" "$RURL/metrics" <"$SM_TMP/in" 2>"$SM_TMP/split.err" \
    3>&- &
SPLIT=$!
at_exit "kill $SPLIT 2>/dev/null || true"
wait_for 50 test -s "$SM_TMP/textfile/split.prom"
promtool check metrics <"$SM_TMP/textfile/split.prom" \
    >"$SM_TMP/promtool" 2>&1 ||
    fail "split.prom: promtool: $(cat "$SM_TMP/promtool")"
gen_records 10 a1 >&3

echo "sm-tail --listen and prometheus-node-exporter"
bg tail "$SM_BIN/sm-tail" --listen 127.0.0.1:0 --port-file \
    "$SM_TMP/tail.port" --interval 0.2
wait_for 100 test -s "$SM_TMP/tail.port"
TAIL=http://127.0.0.1:$(cat "$SM_TMP/tail.port")
NE=127.0.0.1:$(free_port)
bg node $NODE_EXPORTER --web.listen-address="$NE" \
    --collector.disable-defaults --collector.textfile \
    --collector.textfile.directory="$SM_TMP/textfile"
wait_for 100 curl -sf -o /dev/null "http://$NE/metrics"
wait_prom_file() {
	curl -s "http://$NE/metrics" | grep -q \
	    'sm_sender_records_acknowledged_total{program="sm-split",sender="split"} 10'
}
wait_for 100 wait_prom_file
promtool_clean sm-tail "$TAIL/metrics"
promtool_clean node-exporter "http://$NE/metrics"

echo "prometheus scrapes all three"
STORE_T=127.0.0.1:$RPORT
TAIL_T=${TAIL#http://}
cat >"$SM_TMP/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: sm-store
    authorization:
      credentials_file: $SM_TMP/scrape-token
    static_configs:
      - targets: ['$STORE_T']
  - job_name: sm-tail
    static_configs:
      - targets: ['$TAIL_T']
  - job_name: senders
    static_configs:
      - targets: ['$NE']
EOF
promtool check config "$SM_TMP/prometheus.yml" >"$SM_TMP/promtool" 2>&1 ||
    fail "promtool check config: $(cat "$SM_TMP/promtool")"
PP=127.0.0.1:$(free_port)
PROM=http://$PP
bg prom prometheus --config.file="$SM_TMP/prometheus.yml" \
    --storage.tsdb.path="$SM_TMP/prom-data" --web.listen-address="$PP"
wait_for 200 curl -sf -o /dev/null "$PROM/-/ready"

wait_prom 30 "every target up" 'len(v) == 3 and min(v) == 1' 'up'
wait_prom 10 "the senders' endpoint up" 'len(v) == 2 and min(v) == 1' \
    'sm_sender_endpoint_up{program="sm-split"}'
wait_prom 10 "the database up" 'v == [1]' 'sm_store_database_up'
wait_prom 10 "10 records stored" 'v == [10]' \
    'sm_store_records_total{outcome="stored"}'
wait_prom 10 "commit latency observed" 'len(v) == 1 and v[0] >= 1' \
    'sm_store_commit_duration_seconds_count'

echo "counters move: 15 more records"
gen_records 15 b2 >&3
wait_prom 15 "records stored moved" 'v == [25]' \
    'sm_store_records_total{outcome="stored"}'
wait_prom 15 "records acknowledged moved" 'v == [25]' \
    'sm_sender_records_acknowledged_total{program="sm-split"}'
wait_prom 15 "the increase seen by PromQL" 'len(v) == 1 and v[0] > 0' \
    'increase(sm_store_records_total{outcome="stored"}[1m])'
wait_prom 10 "200s counted" 'len(v) == 1 and v[0] >= 25' \
    'sm_store_requests_total{code="200"}'
# sm-tail's own counter (its per-host series depend on the records' age)
wait_prom 10 "sm-tail's rows moved" 'len(v) == 1 and v[0] >= 15' \
    'sm_tail_rows_total'
wait_prom 10 "sm-tail's database up" 'v == [1]' 'sm_tail_database_up'
expect_eq "rows" "$(rows)" 25

echo "the sender's end: running 0 in the file it leaves"
exec 3>&-
wait "$SPLIT" || fail "sm-split exited $?: $(cat "$SM_TMP/split.err")"
grep -q '^sm_sender_running{program="sm-split",sender="split"} 0$' \
    "$SM_TMP/textfile/split.prom" ||
    fail "split.prom at the end: $(cat "$SM_TMP/textfile/split.prom")"
[ ! -e "$SM_TMP/textfile/split.prom.tmp" ] ||
    fail "split.prom.tmp left behind"
stop_receiver
echo "ok"
