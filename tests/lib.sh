# Helpers for the command and integration tests (sourced).  tests/run.sh sets SM_BIN,
# SM_TOP and SM_TMP.
set -eu

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# expect_status WANT CMD...: run CMD, its stderr into $SM_TMP/err, and
# check the exit status.
expect_status() {
	want=$1
	shift
	set +e
	"$@" >"$SM_TMP/out" 2>"$SM_TMP/err"
	got=$?
	set -e
	[ "$got" -eq "$want" ] ||
	    fail "$* exited $got, want $want; stderr: $(cat "$SM_TMP/err")"
}

# expect_err TEXT: the last expect_status's stderr holds TEXT.
expect_err() {
	grep -qF -- "$1" "$SM_TMP/err" ||
	    fail "stderr lacks '$1': $(cat "$SM_TMP/err")"
}

# said TENTHS FILE PATTERN: FILE gets a line matching PATTERN (grep) within
# TENTHS tenths of a second, or the test fails showing FILE.
said() {
	_t=$1
	until grep -q -- "$3" "$2"; do
		_t=$((_t - 1))
		[ "$_t" -gt 0 ] || fail "$2 lacks '$3': $(cat "$2")"
		sleep 0.1
	done
}

# Normalise the fields that change from run to run.
normalise() {
	sed -E 's/"id":"[0-9a-f-]{36}"/"id":"ID"/;
	    s/"ts":"[0-9TZ:.-]+"/"ts":"TS"/;
	    s/"hora":"[0-9: -]+"/"hora":"HORA"/'
}

# free_port: a TCP port nothing listens on (ss), below the ephemeral
# range where it could be taken again
free_port() {
	while :; do
		p=$(awk -v seed="$(date +%N)" \
		    'BEGIN { srand(seed); print 20000 + int(rand() * 12000) }')
		[ -n "$(ss -Htln "sport = :$p")" ] || { echo "$p"; return; }
	done
}
