#!/bin/sh
# Render the systemd units in systemd/ for binaries installed in BINDIR:
# @BINDIR@ becomes BINDIR and an @HARDENING@ line becomes the settings of
# systemd/hardening.conf.
#
#   scripts/units.sh BINDIR OUTDIR
set -eu
[ $# -eq 2 ] || { echo "usage: scripts/units.sh bindir outdir" >&2; exit 2; }
src=$(dirname "$0")/../systemd
mkdir -p "$2"
for f in "$src"/*.in; do
	awk -v bindir="$1" '
	FNR == NR { h = h $0 "\n"; next }
	/^@HARDENING@$/ { printf "%s", h; next }
	{ gsub(/@BINDIR@/, bindir); print }' "$src/hardening.conf" "$f" \
	    >"$2/$(basename "$f" .in)"
done
cp "$src"/*.timer "$2"/
