#!/bin/sh
# The style the build checks (make style, part of make check): in the C
# sources of lib/, cmd/, kmod/ and tests/unit/, no line wider than 80
# columns (tabs to 8-column stops), no trailing blanks, no space before a
# tab in the indentation.  Each fault is printed as FILE:LINE: what, and
# any fails the check.  Then a report, not a check: the 10 longest
# functions (lines from the opening brace in column 1 to the closing one).
#
#   scripts/style-check.sh [FILE...]     (default: every such file)
set -eu

cd "$(dirname "$0")/.."
if [ $# -eq 0 ]; then
	set -- lib/*.[ch] lib/cmd/*.[ch] cmd/*/*.[ch] kmod/*.[ch] tests/unit/*.[ch]
fi

# shellcheck disable=SC2016
faults=$(awk '
	FNR == 1 { name = "" }
	{
		col = 0
		for (i = 1; i <= length($0); i++) {
			if (substr($0, i, 1) == "\t")
				col += 8 - col % 8
			else
				col++
		}
		if (col > 80)
			printf "%s:%d: %d columns (80 at most)\n",
			    FILENAME, FNR, col
		if ($0 ~ /[ \t]$/)
			printf "%s:%d: trailing blank\n", FILENAME, FNR
		if ($0 ~ /^[ \t]* \t/)
			printf "%s:%d: a space before a tab in the indentation\n",
			    FILENAME, FNR
	}
' "$@")

echo "the 10 longest functions (lines):"
awk '
	# a definition: its name on a line of its own, "{" in column 1
	/^[A-Za-z_][A-Za-z0-9_]*\(/ { name = $0; sub(/\(.*/, "", name) }
	/^\{/ { start = FNR; fn = name }
	/^\}/ && start > 0 {
		printf "%6d %s:%d %s\n", FNR - start + 1, FILENAME, start, fn
		start = 0
	}
' "$@" | sort -rn | head -n 10

if [ -n "$faults" ]; then
	printf '%s\n' "$faults"
	echo "style: $(printf '%s\n' "$faults" | wc -l) faults" >&2
	exit 1
fi
echo "style: clean ($# files)"
