#!/bin/sh
# Cost of one sm-read sample, kmod backend against procfs backend, inside
# a qemu guest running Debian 12's packaged kernel with sm_metrics loaded,
# at 2,000 and at 10,000 processes (or the counts given).
#
#   bench/kmod-bench.sh [COUNT...]      default: 2000 10000
#
# Builds sm-read (make all), the module and the guest as tests/kmod/run.sh
# does (same cache), then prints per-sample wall and CPU time for each
# backend and the procfs/kmod ratio.  The guest is emulated (TCG): compare
# the two backends within one run, not the absolute figures with a host.
# Environment: M_KMOD and M_PROCFS (samples per long run, default 200 and
# 10), REPS (runs per figure, default 5), SM_KMOD_CACHE, SM_KMOD_TIMEOUT
# (default 1200 s).
set -u

KMOD_TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$KMOD_TOP/tests/kmod/lib.sh"

COUNTS=${*:-2000 10000}
CACHE=${SM_KMOD_CACHE:-$KMOD_TOP/.cache/kmod}
TIMEOUT=${SM_KMOD_TIMEOUT:-1200}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/sm-kmod-bench.XXXXXX") || exit 1
BIN=$WORK/bin

fail() {
	echo "kmod-bench: FAIL: $*" >&2
	echo "kmod-bench: scratch kept in $WORK" >&2
	exit 1
}

make -s -C "$KMOD_TOP" BUILD="$WORK/build" OUT="$BIN" all ||
    fail "make all"
kmod_fetch "$CACHE" || fail "cannot get the guest kernel"
kmod_build_module "$KDIR" "$WORK/kmod" || fail "module build"
kmod_build_smkt "$WORK/smkt" || fail "smkt build"
printf 'COUNTS="%s"\nM_KMOD=%s\nM_PROCFS=%s\nREPS=%s\n' "$COUNTS" \
    "${M_KMOD:-200}" "${M_PROCFS:-10}" "${REPS:-5}" >"$WORK/bench.conf"
kmod_initramfs "$WORK/initrd.gz" "$KMOD_TOP/bench/kmod-bench-guest.sh" \
    "$WORK/kmod/sm_metrics.ko" "$WORK/smkt" "$BIN/sm-read" \
    "$WORK/bench.conf" || fail "initramfs"
# 10,000 processes need about 1.5 GiB of kernel memory
kmod_boot "$KIMAGE" "$WORK/initrd.gz" 3072 2 "$TIMEOUT" "$WORK/console.log"
rc=$?
[ $rc -eq 0 ] || fail "qemu exited with status $rc (124: timeout)"
tr -d '\r' <"$WORK/console.log" >"$WORK/console.txt"
grep -q '^BENCH DONE' "$WORK/console.txt" || fail "the guest did not finish"

echo
sed -n 's/^BENCH guest: /guest: /p' "$WORK/console.txt"
awk '/^BENCH RESULT/ {
	for (i = 3; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
	n = f["procs"]; b = f["backend"]
	wall[n, b] = f["wall_us"]; cpu[n, b] = f["cpu_us"]
	if (!(n in seen)) { seen[n] = 1; order[++k] = n }
    }
    END {
	printf "%-10s %-8s %14s %14s\n", "processes", "backend",
	    "wall/sample", "CPU/sample"
	for (i = 1; i <= k; i++) {
		n = order[i]
		for (j = 1; j <= 2; j++) {
			b = j == 1 ? "kmod" : "procfs"
			printf "%-10s %-8s %11.2f ms %11.2f ms\n", n, b,
			    wall[n, b] / 1000, cpu[n, b] / 1000
		}
		wr = cr = "-"
		if (wall[n, "kmod"] > 0)
			wr = sprintf("%.1fx",
			    wall[n, "procfs"] / wall[n, "kmod"])
		if (cpu[n, "kmod"] > 0)
			cr = sprintf("%.1fx",
			    cpu[n, "procfs"] / cpu[n, "kmod"])
		printf "%-10s %-8s %14s %14s\n", n, "procfs/kmod", wr, cr
	}
    }' "$WORK/console.txt"
rm -rf "$WORK"
