#!/bin/sh
# The README's "By hand" lines, as written, in a fresh clone of this
# checkout's HEAD: taken from between the README's by-hand markers (so the
# two cannot drift), run by sh from the clone's top with a database of
# their own (SM_DB_DIR, SM_DB_PORT), their two ports moved to free ones.
# Each step must say what it did, a record must reach the table, and the
# page must answer 200 on /.  About 25 s, most of it the clone's build.
. "$(dirname "$0")/../lib.sh"

clone=$SM_TMP/clone
db=$SM_TMP/db
pid=

cleanup() {
	[ -z "$pid" ] || kill -TERM "-$pid" 2>/dev/null || :
	[ -z "$pid" ] || wait "$pid" 2>/dev/null || :
	[ ! -x "$clone/scripts/mariadb.sh" ] ||
	    SM_DB_DIR=$db "$clone"/scripts/mariadb.sh stop 2>/dev/null || :
}
trap cleanup EXIT

sed -n '/^<!-- by-hand/,/^<!-- \/by-hand -->$/p' README.md |
    sed '1d;$d' | sed 's/^    //' >"$SM_TMP/block"
[ "$(wc -l <"$SM_TMP/block")" -le 6 ] ||
    fail "the by-hand block has more than 6 lines: $(cat "$SM_TMP/block")"
for want in '^make$' '^\. scripts/env\.sh$' '127\.0\.0\.1:8090' \
    '127\.0\.0\.1:8091'; do
	grep -q "$want" "$SM_TMP/block" ||
	    fail "the by-hand block lacks $want: $(cat "$SM_TMP/block")"
done

git clone -q "$SM_TOP" "$clone" || fail "git clone $SM_TOP"
make -C "$clone" -s -j2 all >"$SM_TMP/build.log" 2>&1 ||
    fail "the clone does not build: $(tail "$SM_TMP/build.log")"

store=$(free_port)
web=$(free_port)
dbport=$(free_port)
[ "$(printf '%s\n' $store $web $dbport | sort -u | wc -l)" -eq 3 ] ||
    fail "free_port gave one port twice: $store $web $dbport"
sed "s/127\.0\.0\.1:8090/127.0.0.1:$store/g;
    s/127\.0\.0\.1:8091/127.0.0.1:$web/g" "$SM_TMP/block" >"$SM_TMP/run"

# the block in a session of its own, from the clone's top, as a newcomer
# would paste it: no SM_DB or PATH of this test's
(cd "$clone" && exec env -u SM_DB -u SM_DB_PASSWORD -u SM_DB_DEFAULTS_FILE \
    SM_DB_DIR="$db" SM_DB_PORT="$dbport" PATH=/usr/bin:/bin \
    setsid sh "$SM_TMP/run" >"$SM_TMP/out" 2>"$SM_TMP/err") &
pid=$!

# a record in the table (60 s: the database starts for the first time)
rows=0
end=$(($(date +%s) + 60))
until [ "${rows:-0}" -ge 1 ]; do
	[ "$(date +%s)" -le "$end" ] && kill -0 "$pid" 2>/dev/null ||
	    fail "no record stored: $(cat "$SM_TMP/err")"
	sleep 0.1
	[ -s "$db/admin.cnf" ] || continue
	rows=$(SM_DB_DIR=$db "$clone"/scripts/mariadb.sh sql -N -B sm \
	    -e 'SELECT COUNT(*) FROM system_metrics' 2>/dev/null) || rows=0
done
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$web/")
[ "$code" = 200 ] || fail "GET / on the page: $code: $(cat "$SM_TMP/err")"

# each step said what it did
for said in '^mariadb.sh: started on port [0-9]*, data in ' \
    '^env.sh: exported SM_DB=mysql://sm@127.0.0.1:' \
    "^env.sh: PATH starts with $clone/bin, MANPATH with" \
    "^sm-store: listening on http://127.0.0.1:$store/metrics" \
    "^sm-tail: serving http://127.0.0.1:$web/"; do
	grep -q "$said" "$SM_TMP/err" ||
	    fail "stderr lacks $said: $(cat "$SM_TMP/err")"
done
grep -q '"status":200' "$SM_TMP/out" ||
    fail "sm-post: no 200: $(cat "$SM_TMP/out")"
echo "by hand: $rows row(s) stored, the page answers $code"
