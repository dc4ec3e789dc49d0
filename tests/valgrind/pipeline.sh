#!/bin/sh
# Valgrind memcheck on the main job: sm-read -n N -i 0.1 | sm-split A B
# into two sm-store --listen receivers storing into the real MariaDB,
# every process under valgrind; then sm-tail -n, sm-tail -f and sm-tail --listen on the rows.  Any memcheck error, or a definite or
# indirect leak, in any of the four fails the test (the receivers are
# stopped with SIGTERM, so their exit -- and leak check -- is the normal
# one); so do missing rows.
. "$SM_TOP/tests/it/post-lib.inc"

N=20

# every process under valgrind, each with a log of its own (%p: pid);
# --error-exitcode makes a leak of the kinds named an error too
cat >"$SM_TMP/vg" <<EOF
#!/bin/sh
exec valgrind --tool=memcheck --leak-check=full \\
    --errors-for-leak-kinds=definite,indirect \\
    --show-leak-kinds=definite,indirect --error-exitcode=99 \\
    --num-callers=30 \\
    --log-file="$SM_TMP/vg.%p.log" "\$@"
EOF
chmod +x "$SM_TMP/vg"
command -v valgrind >/dev/null || fail "valgrind is not installed"

# recv (post-lib.inc) starts "$STORE": make that the valgrind wrapper,
# exec'ing so the pid it reports is the receiver's
cat >"$SM_TMP/store" <<EOF
#!/bin/sh
exec "$SM_TMP/vg" "$SM_BIN/sm-store" "\$@"
EOF
chmod +x "$SM_TMP/store"
STORE=$SM_TMP/store

recv a route-a
recv b route-b

echo "sm-read -n $N -i 0.1 | sm-split A B, all under valgrind"
{
	"$SM_TMP/vg" "$SM_BIN/sm-read" -n "$N" -i 0.1
	echo $? >"$SM_TMP/read.rc"
} | "$SM_TMP/vg" "$SM_BIN/sm-split" "$a_url" "$b_url" \
    >"$SM_TMP/acks" 2>"$SM_TMP/split.err" || {
	rc=$?
	cat "$SM_TMP"/vg.*.log >&2
	fail "sm-split exited $rc: $(cat "$SM_TMP/split.err")"
}
expect_eq "sm-read status" "$(cat "$SM_TMP/read.rc")" 0

echo "the receivers stop on SIGTERM and exit 0 (99: valgrind found errors)"
for r in a b; do
	eval "pid=\$${r}_pid"
	kill -TERM "$pid"
	if wait "$pid"; then
		:
	else
		rc=$?
		cat "$SM_TMP"/vg.*.log >&2
		fail "receiver $r exited $rc: $(cat "$SM_TMP/$r.err")"
	fi
done

# (the exact 50/50 split is tests/it's business; a request slowed down by
# valgrind may fail over, so here only: each receiver stored some)
echo "every record stored once, through both receivers"
expect_eq "rows, ids, sources" "$(q 'SELECT COUNT(*),
    COUNT(DISTINCT sample_id), COUNT(DISTINCT data_source)
    FROM system_metrics' | tr '\t' ' ')" "$N $N 2"
expect_eq "records acknowledged" "$(sed -E 's/.*"records":([0-9]+).*/\1/' \
    "$SM_TMP/acks" | awk '{ s += $1 } END { print s }')" "$N"

echo "sm-tail -n 5, and sm-tail -f while rows arrive, under valgrind"
"$SM_TMP/vg" "$SM_BIN/sm-tail" -n 5 --format ndjson >"$SM_TMP/tail.out" \
    2>"$SM_TMP/tail.err" || fail "sm-tail -n 5 exited $?: $(cat "$SM_TMP/tail.err")"
expect_eq "rows shown by sm-tail -n 5" "$(wc -l <"$SM_TMP/tail.out")" 5
"$SM_TMP/vg" "$SM_BIN/sm-tail" -f -n 0 --interval 0.1 --format ndjson \
    >"$SM_TMP/follow.out" 2>"$SM_TMP/follow.err" &
fpid=$!
at_exit "kill $fpid 2>/dev/null || true"
# valgrind takes a while to start: rows keep coming until it shows some
i=0
until [ -s "$SM_TMP/follow.out" ]; do
	[ $i -lt 60 ] || fail "sm-tail -f showed nothing: $(cat "$SM_TMP/follow.err")"
	"$SM_BIN/sm-read" -n 1 | "$SM_BIN/sm-store" 2>/dev/null
	sleep 0.5
	i=$((i + 1))
done
kill -TERM $fpid
wait $fpid || fail "sm-tail -f exited $?: $(cat "$SM_TMP/follow.err")"

echo "sm-tail --listen under valgrind: every endpoint, a stream, SIGTERM"
"$SM_TMP/vg" "$SM_BIN/sm-tail" --listen 127.0.0.1:0 --port-file \
    "$SM_TMP/web.port" --backlog 50 --interval 0.1 --web-root "$SM_TOP/web" \
    2>"$SM_TMP/web.err" &
wpid=$!
at_exit "kill $wpid 2>/dev/null || true"
i=0
until [ -s "$SM_TMP/web.port" ]; do
	[ $i -lt 300 ] || fail "sm-tail --listen: no port: $(cat "$SM_TMP/web.err")"
	sleep 0.1
	i=$((i + 1))
done
web=http://127.0.0.1:$(cat "$SM_TMP/web.port")
for p in / /rows?n=3 /hosts /metrics /health "/rows?n=x"; do
	curl -s -m 20 -o /dev/null "$web$p" || fail "GET $p"
done
curl -s -m 8 -N "$web/events?n=2" >"$SM_TMP/events" 2>/dev/null &
cpid=$!
sleep 2
"$SM_BIN/sm-read" -n 1 | "$SM_BIN/sm-store" 2>/dev/null
wait $cpid || true
[ "$(grep -c '^id: ' "$SM_TMP/events")" -ge 3 ] ||
    fail "the stream under valgrind: $(cat "$SM_TMP/events")"
kill -TERM $wpid
wait $wpid || fail "sm-tail --listen exited $?: $(cat "$SM_TMP/web.err")"

echo "seven clean memcheck logs"
set -- "$SM_TMP"/vg.*.log
expect_eq "valgrind logs" $# 7
for log in "$@"; do
	grep -q 'ERROR SUMMARY: 0 errors from 0 contexts' "$log" || {
		cat "$log" >&2
		fail "memcheck errors in $log"
	}
	# with --show-leak-kinds=definite,indirect, any such leak is listed
	if grep -qE '(definitely|indirectly) lost: [1-9]' "$log"; then
		cat "$log" >&2
		fail "leak in $log"
	fi
done
