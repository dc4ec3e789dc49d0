# Helpers of the by-hand checks (scripts/image-check.sh,
# scripts/systemd-check.sh); sourced, not run.  Each step says its name,
# and the time the one before took; fail says why and exits 1.  $W is the
# check's scratch directory.
t0=$(date +%s)
step_t=
step() {
	took
	echo "== $*"
	step_t=$(date +%s)
}
took() {
	[ -z "$step_t" ] || echo "   took $(($(date +%s) - step_t)) s"
	step_t=
}
fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# apt_install PKG...: install, with an apt-get update first if need be.
apt_install() {
	echo "   apt-get install $*"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" \
	    >"$W/apt.log" 2>&1 || {
		apt-get update -q >>"$W/apt.log" 2>&1
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" \
		    >>"$W/apt.log" 2>&1
	} || fail "apt-get install $*: $(tail -5 "$W/apt.log")"
}

# finish STATUS: the last words of a cleanup, once its own work is done:
# the scratch directory goes, then the verdict and the exit.
finish() {
	rm -rf "$W"
	echo "   removed $W; total $(($(date +%s) - t0)) s"
	[ "$1" -eq 0 ] && echo ok || echo "FAILED (exit $1)"
	exit "$1"
}
