#!/bin/sh
# sm_metrics in a real booted kernel.  Fetches Debian 12's packaged kernel
# and matching headers (cached in .cache/kmod/), checks the module's source
# with the kernel's checkpatch.pl --strict, builds the module against
# them twice, warning-free: with make (W=1) and with DKMS from
# kmod/dkms.conf (private trees; the two must agree), packs an initramfs
# with busybox, the DKMS-built module, sm-read and tests/kmod/guest.sh,
# boots it under qemu with software emulation only, and fails unless every
# guest check printed "ok".
#
#   tests/kmod/run.sh [BINDIR]     BINDIR holds sm-read (default: bin)
#
# Environment: SM_KMOD_CACHE (download cache, default .cache/kmod),
# SM_KMOD_TIMEOUT (seconds for the guest, default 150).  Run by
# `make test-kmod`, hence by `make check` and CI.
set -u

KMOD_TOP=$(cd "$(dirname "$0")/../.." && pwd)
. "$KMOD_TOP/tests/kmod/lib.sh"

BIN=${1:-${SM_BIN:-$KMOD_TOP/bin}}
CACHE=${SM_KMOD_CACHE:-$KMOD_TOP/.cache/kmod}
TIMEOUT=${SM_KMOD_TIMEOUT:-150}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/sm-kmod.XXXXXX") || exit 1
start=$(date +%s)

fail() {
	echo "kmod: FAIL: $*" >&2
	echo "kmod: scratch kept in $WORK" >&2
	exit 1
}

[ -x "$BIN/sm-read" ] || fail "no $BIN/sm-read (run make first)"
kmod_fetch "$CACHE" || fail "cannot get the guest kernel"
kmod_checkpatch "$CACHE" "$KMOD_TOP/kmod/sm_metrics.c" ||
    fail "kernel coding style (checkpatch.pl)"
kmod_build_module "$KDIR" "$WORK/kmod" || fail "module build"
kmod_build_dkms "$KDIR" "$WORK/dkms" "$WORK/kmod/sm_metrics.ko" ||
    fail "DKMS build (kmod/dkms.conf)"
kmod_build_smkt "$WORK/smkt" || fail "smkt build"
kmod_initramfs "$WORK/initrd.gz" "$KMOD_TOP/tests/kmod/guest.sh" \
    "$DKMS_KO" "$WORK/smkt" "$BIN/sm-read" ||
    fail "initramfs"

# Freed objects are poisoned and checked (slub_debug), and kernel code may
# be preempted anywhere (preempt=full), so a walk of the task list that
# is not inside an RCU read-side section meets freed, poisoned tasks and
# faults instead of passing by luck (a module without rcu_read_lock()
# failed this way in every trial).
kmod_boot "$KIMAGE" "$WORK/initrd.gz" 1024 2 "$TIMEOUT" "$WORK/console.log" \
    slub_debug=FZP preempt=full
rc=$?
tr -d '\r' <"$WORK/console.log" >"$WORK/console.txt"
log=$WORK/console.txt

# A kernel that does not boot, a guest that hangs or stops early, a check
# that failed or never ran: each one is a failure.
[ $rc -ne 124 ] && [ $rc -ne 137 ] ||
    fail "the guest did not finish within $TIMEOUT s"
[ $rc -eq 0 ] || fail "qemu exited with status $rc"
grep -q '^SMKT PLAN' "$log" ||
    fail "the guest never ran its checks (did the kernel boot?)"
plan=$(sed -n 's/^SMKT PLAN \([0-9]*\)$/\1/p' "$log")
passed=$(grep -c '^SMKT ok ' "$log")
if grep '^SMKT FAIL' "$log" >&2; then
	fail "$(grep -c '^SMKT FAIL' "$log") guest check(s) failed (above)"
fi
grep -q '^SMKT DONE pass=[0-9]* fail=0$' "$log" ||
    fail "the guest stopped before its last check"
[ "$passed" -eq "$plan" ] ||
    fail "$passed checks passed, the plan has $plan"
grep -q '^smkt-init: guest script exited with 0$' "$log" ||
    fail "the guest script did not exit 0"

echo "kmod: $passed/$plan guest checks passed" \
    "($(($(date +%s) - start)) s in all)"
rm -rf "$WORK"
