#!/bin/sh
# Build the Debian packages sm and sm-metrics-dkms (debian/) and run
# lintian on them; `make deb` runs it after scripts/deps.sh.
#
#   scripts/deb.sh [OUTDIR]       (default: build/deb)
#
# dpkg-buildpackage writes its results next to the tree it builds, so the
# tree is copied first, to OUTDIR/src (the files git tracks or would
# track: no build products, no .git), and the packages land in OUTDIR:
# sm_VERSION_ARCH.deb, sm-metrics-dkms_VERSION_all.deb, sm-dbgsym, the
# .changes and .buildinfo; lintian's report in OUTDIR/lintian.txt.
# Exits 1 if the build fails or lintian reports an error or a warning not
# overridden in debian/*.lintian-overrides.
set -eu

TOP=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-$TOP/build/deb}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

fail() {
	echo "deb: $*" >&2
	exit 1
}

for t in dpkg-buildpackage dh lintian fakeroot; do
	command -v $t >/dev/null 2>&1 ||
	    fail "no $t: run scripts/deps.sh (make deb does)"
done

rm -rf "$OUT/src" "$OUT"/*.deb "$OUT"/*.ddeb "$OUT"/*.changes \
    "$OUT"/*.buildinfo "$OUT/lintian.txt"
mkdir "$OUT/src"
cd "$TOP"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	# tracked and new files, as they are in the tree (not only committed)
	git ls-files -c -o --exclude-standard | while IFS= read -r f; do
		[ -f "$f" ] && printf '%s\n' "$f"
	done | tar -c -T - | tar -x -C "$OUT/src"
else
	tar -c --exclude=./.git --exclude=./build --exclude=./bin \
	    --exclude=./.cache --exclude=./.sm-db . | tar -x -C "$OUT/src"
fi

s=$(date +%s)
cd "$OUT/src"
dpkg-buildpackage -us -uc -b >"$OUT/build.log" 2>&1 ||
    fail "dpkg-buildpackage failed, see $OUT/build.log: $(tail -15 "$OUT/build.log")"
echo "deb: built in $(($(date +%s) - s)) s:"
cd "$OUT"
ls ./*.deb ./*.ddeb 2>/dev/null | sed 's|^\./|  |'

s=$(date +%s)
set +e
lintian --fail-on error,warning --display-info --pedantic \
    --tag-display-limit 0 ./*.changes >lintian.txt 2>&1
rc=$?
set -e
sed 's/^/  /' lintian.txt
echo "deb: lintian in $(($(date +%s) - s)) s: $(grep -c '^[EW]:' lintian.txt) errors" \
    "or warnings, $(grep -c '^[IPX]:' lintian.txt) info/pedantic/experimental"
[ $rc -eq 0 ] || fail "lintian failed (exit $rc): see $OUT/lintian.txt"
echo "deb: packages in $OUT"
