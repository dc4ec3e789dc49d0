#!/bin/sh
# Range queries against the real MariaDB: sm-tail --since/--until/--step
# and sm-tail --listen's GET /history answer the points that GROUP BY over
# the raw rows gives (count, each field's n, min, avg and max), from raw
# rows under a minute, the minute tier and the hour tier; the same points
# both ways; bad parameters are refused (exit 2, 400); requests at once
# are all answered; a database that went away is a 503.
. "$(dirname "$0")/tail-lib.sh"
. "$(dirname "$0")/store-lib.sh"
. "$(dirname "$0")/keep-lib.sh"

TAIL="$SM_BIN/sm-tail"

# expected STEP_S HOST: per bucket of the raw rows of HOST, tab-separated:
# host, source, bucket start (ms), count, each field's n, min, max, sum
expected() {
	cols=
	for f in $FIELDS; do
		cols="$cols, COUNT($f), MIN($f), MAX($f), SUM($f)"
	done
	q "SELECT host, data_source, FLOOR(UNIX_TIMESTAMP(sampled_at) * 1000
	    / ($1 * 1000)) * $1 * 1000, COUNT(*) $cols FROM system_metrics
	    WHERE host = '$2' GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
}

# compare POINTS EXPECTED TIER: NDJSON points equal the rows of expected
compare() {
	python3 - "$1" "$2" "$3" "$FIELDS" <<'EOF' || fail "points differ"
import json, sys, calendar, time
points = [json.loads(l) for l in open(sys.argv[1])]
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[2])]
tier, fields = sys.argv[3], sys.argv[4].split()
if len(points) != len(rows) or not rows:
    sys.exit("%d points, %d buckets" % (len(points), len(rows)))
for p, r in zip(points, rows):
    t = calendar.timegm(time.strptime(p["ts"][:19], "%Y-%m-%dT%H:%M:%S"))
    got = (p["host"], p["source"], t * 1000 + int(p["ts"][20:23]),
        p["samples"], p["tier"])
    want = (r[0], r[1], int(r[2]), int(r[3]), tier)
    if got != want:
        sys.exit("point %r, want %r" % (got, want))
    for i, f in enumerate(fields):
        n, lo, hi, s = r[4 + 4 * i: 8 + 4 * i]
        v = p[f]
        if int(n) == 0:
            if v is not None:
                sys.exit("%s: %r, want null" % (f, v))
            continue
        avg = float(s) / int(n)
        if (abs(v["min"] - float(lo)) > 1e-9 or
            abs(v["max"] - float(hi)) > 1e-9 or
            abs(v["avg"] - avg) > 0.0051 or
            v.get("n", p["samples"]) != int(n)):
            sys.exit("%s at %s: %r, want n %s min %s max %s avg %.4f" %
                (f, p["ts"], v, n, lo, hi, avg))
EOF
}

past_records 300 "a1 a2" 10200 30 0000c001 |
    "$STORE" --source s 2>/dev/null
past_records 60 "a1" 7000 40 0000c002 | "$STORE" --source t 2>/dev/null
expect_status 0 "$KEEP" --settle 0

for step in 10 300 7200; do
	case $step in
	10) tier=raw ;;
	300) tier=1m ;;
	*) tier=1h ;;
	esac
	echo "--step ${step}s: the points of GROUP BY, from tier $tier"
	expect_status 0 "$TAIL" --since 3h --step "${step}s" --host a1
	cp "$SM_TMP/out" "$SM_TMP/points.$step"
	expected "$step" a1 >"$SM_TMP/want.$step"
	compare "$SM_TMP/points.$step" "$SM_TMP/want.$step" "$tier"
done

echo "--tier raw: the same points from the raw rows"
expect_status 0 "$TAIL" --since 3h --step 5m --host a1 --tier raw
sed 's/"tier":"raw"/"tier":"1m"/' "$SM_TMP/out" >"$SM_TMP/raw.300"
cmp -s "$SM_TMP/raw.300" "$SM_TMP/points.300" ||
    fail "--tier raw differs: $(diff "$SM_TMP/raw.300" "$SM_TMP/points.300" |
    head -c 1500)"
expect_status 2 "$TAIL" --since 3h --step 1m --tier 1h
expect_err "the 1h tier has no step of 60 s"
expect_status 2 "$TAIL" --since 3h --tier 1m
expect_err "--tier is for --step"

echo "--until, --source, --format table"
until=$(sed -n 3p "$SM_TMP/points.300" |
    sed -E 's/.*"ts":"([^"]+)".*/\1/')
expect_status 0 "$TAIL" --since 3h --until "$until" --step 5m --host a1 \
    --source s
[ "$(wc -l <"$SM_TMP/out")" -ge 1 ] || fail "no points before --until"
grep -v '"source":"s"' "$SM_TMP/out" && fail "a point of another source"
grep -q "\"ts\":\"$until\"" "$SM_TMP/out" && fail "a point at --until"
expect_status 0 "$TAIL" --since 3h --step 1h --host a2 --format table
head -n 1 "$SM_TMP/out" | grep -q "^TIME  *HOST  *SOURCE  *TIER" ||
    fail "no table header: $(head -n 2 "$SM_TMP/out")"
grep -q " a2  *s  *1h " "$SM_TMP/out" || fail "no a2 row: $(cat "$SM_TMP/out")"

echo "bad ranges exit 2 with the reason"
expect_status 2 "$TAIL" --step 1m
expect_err "--step reads points over --since to --until: it needs --since"
expect_status 2 "$TAIL" --since 1h --step 1500ms
expect_err "step: want whole seconds"
expect_status 2 "$TAIL" --since 30d --step 1s
expect_err "at most 10000 points"
expect_status 2 "$TAIL" --since 1h --until 2h --step 1m
expect_err "before"
expect_status 2 "$TAIL" --since yesterday --step 1m
expect_err '--since: "yesterday": not a time'
expect_status 2 "$TAIL" -f --since 1h --step 1m
expect_err "conflicting modes: -f and --step"
expect_status 2 "$TAIL" --since 1h --step 1m -n 5
expect_err "not -d, -f, -n, --listen, --via or --format seed"

echo "GET /history answers the same points"
"$TAIL" --listen 127.0.0.1:0 --port-file "$SM_TMP/port" --web-root \
    "$SM_TOP/web" 2>"$SM_TMP/web.err" &
wpid=$!
at_exit "kill $wpid 2>/dev/null || true"
wait_until 20 "sm-tail --listen" test -s "$SM_TMP/port"
U="http://127.0.0.1:$(cat "$SM_TMP/port")/history"
from=$(python3 -c 'import time; print(time.strftime("%Y-%m-%dT%H:%M:%SZ",
    time.gmtime(time.time() - 3 * 3600)))')
for step in 10 300 7200; do
	code=$(curl -s -o "$SM_TMP/h.$step" -w '%{http_code}' \
	    "$U?host=a1&from=$from&step=${step}s")
	expect_eq "/history step ${step}s" "$code" 200
	python3 -c 'import json, sys
for p in json.load(open(sys.argv[1]))["points"]:
    print(json.dumps(p))' "$SM_TMP/h.$step" >"$SM_TMP/hp.$step"
	compare "$SM_TMP/hp.$step" "$SM_TMP/want.$step" \
	    "$(sed -E 's/.*"tier":"([^"]+)".*/\1/' "$SM_TMP/h.$step")"
done

echo "/history: bad parameters are 400 with the reason"
bad() {
	code=$(curl -s -o "$SM_TMP/bad" -w '%{http_code}' "$U?$1")
	expect_eq "/history?$1" "$code" 400
	grep -qF -- "$2" "$SM_TMP/bad" ||
	    fail "/history?$1: $(cat "$SM_TMP/bad"), want $2"
}
bad "step=0s" "step: want whole seconds"
bad "from=x" 'from: \"x\": not a time'
bad "from=1h&to=2h" "before"
bad "from=30d&step=1s" "at most 10000 points"
bad "from=1h&bogus=1" 'unknown query parameter \"bogus\"'
bad "step=1q" "unknown unit"

echo "/history: 20 requests at once are all answered"
i=0
while [ $i -lt 20 ]; do
	curl -s -o /dev/null -w '%{http_code}\n' \
	    "$U?from=$from&step=1m" >>"$SM_TMP/codes" &
	i=$((i + 1))
done
wait_until 30 "20 answers" lines_at_least "$SM_TMP/codes" 20
expect_eq "answers other than 200" "$(grep -vc '^200$' "$SM_TMP/codes")" 0

echo "/history: the database gone is a 503"
$ADMIN_SQL -e "DROP DATABASE $TESTDB"
code=$(curl -s -o "$SM_TMP/gone" -w '%{http_code}' "$U?step=1m")
expect_eq "/history without its database" "$code" 503
grep -q "database unavailable" "$SM_TMP/gone" ||
    fail "503 without the reason: $(cat "$SM_TMP/gone")"
kill -TERM $wpid
wait $wpid || fail "sm-tail --listen exited $?"
echo ok
