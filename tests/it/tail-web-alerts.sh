#!/bin/sh
# sm-tail --listen with sm-alert's rules (--rule, --rules, --stale): the
# same engine as sm-alert (lib/alert) fires and resolves on the rows it
# follows; /alerts lists what fires, /metrics has sm_alert_firing, every
# stream gets "event: alert"; bad rules exit 2 before serving.
. "$(dirname "$0")/tail-lib.sh"

tail_web_db sm_tail_alerts_$$

echo "bad rules: exit 2 naming the rule; rules need --listen"
expect_status 2 "$SM_BIN/sm-tail" --db "$URL" --listen 127.0.0.1:0 \
    --rule 'cpu_usage >> 9'
expect_err 'sm-tail: --rule "cpu_usage >> 9": '
expect_status 2 "$SM_BIN/sm-tail" --db "$URL" -n 1 --rule 'cpu_usage > 9'
expect_err "need --listen"

# one row of host hot with this CPU, now
row() {
	cpu_row "$URL" hot "$1"
}
# alerts_are TEXT: /alerts's rules, "host:rule" sorted, joined by spaces
alerts_are() {
	[ "$(curl -s -m 5 "$BASE/alerts" | python3 -c '
import json, sys
print(" ".join(sorted(a["host"] + ":" + a["rule"] for a in json.load(sys.stdin))))
')" = "$1" ]
}

"$SM_BIN/sm-tail" --db "$URL" --listen 127.0.0.1:0 --port-file \
    "$SM_TMP/port" --interval 0.1 --rule 'cpu_usage > 90' --stale 5 \
    --web-root "$SM_TOP/web" 2>"$SM_TMP/web.err" &
web=$!
wait_until 20 "the port file" test -s "$SM_TMP/port"
BASE=http://127.0.0.1:$(cat "$SM_TMP/port")
wait_until 10 "no alerts yet" alerts_are ""
timeout 40 curl -s -N "$BASE/events" >"$SM_TMP/events" &
streaming() {
	[ "$(curl -s -m 5 "$BASE/metrics" |
	    awk '$1 == "sm_tail_sse_clients" { print $2 }')" -ge 1 ]
}
wait_until 10 "the event stream" streaming

echo "a row over the threshold fires; /metrics says so, promtool-clean"
row 95
wait_until 10 "the CPU alert" alerts_are "hot:cpu_usage > 90"
curl -s -m 5 "$BASE/metrics" >"$SM_TMP/metrics"
grep -qx 'sm_alert_firing{host="hot",rule="cpu_usage > 90"} 1' \
    "$SM_TMP/metrics" || fail "/metrics: $(grep alert "$SM_TMP/metrics")"
promtool check metrics <"$SM_TMP/metrics" || fail "promtool"

# --stale 5: the checks between two rows take well under it on a loaded
# machine under the sanitizers (a stale alert among them would be wrong)
echo "a row under it resolves; silence past --stale fires a stale alert"
row 10
wait_until 10 "the resolve" alerts_are ""
wait_until 20 "the stale alert" alerts_are "hot:stale for 5s"
row 10
wait_until 10 "the host back" alerts_are ""

echo "every stream got each event once"
sleep 0.5
grep -A1 '^event: alert$' "$SM_TMP/events" | grep '^data: ' |
    sed -E 's/.*"rule":"([^"]*)".*"state":"([a-z]*)".*/\1 \2/' \
    >"$SM_TMP/got"
cat >"$SM_TMP/want" <<'WANT'
cpu_usage > 90 firing
cpu_usage > 90 resolved
stale for 5s firing
stale for 5s resolved
WANT
diff -u "$SM_TMP/want" "$SM_TMP/got" || fail "alert events"
echo ok
