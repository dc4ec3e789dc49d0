# Helpers of the by-hand checks (scripts/image-check.sh,
# scripts/systemd-check.sh); sourced, not run.  Each step says its name,
# and the time the one before took; fail says why and exits 1.
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
