#!/bin/sh
# Each command's usage, its --help option lines and its man page SYNOPSIS
# name the same options, and getopt takes each of them (no "unrecognized
# option"): the three are written by hand and drift apart otherwise.
# --help opens with the man page's NAME line ("sm-x - what it does"); its
# environment lines name each variable of the man page's ENVIRONMENT (and
# both have one or neither); messages, getopt's too, name the program by
# its base name ("sm-read:", never "bin/sm-read:"), run by any path.
# Each man page has the sections the project requires: NAME, SYNOPSIS,
# DESCRIPTION, OPTIONS (every command has options), ENVIRONMENT when the
# program reads variables (its own code calls getenv: nm says), EXIT STATUS,
# EXAMPLES and SEE ALSO, in that order.
. "$(dirname "$0")/../lib.sh"

command -v nm >/dev/null || fail "nm is needed (binutils)"
mkdir "$SM_TMP/sub"

# one option a line: "-x" for a letter, "--name" for a long one
split_flags() {
	sed -E 's/^-([a-zA-Z]{2,})$/\1/' | while read -r f; do
		case $f in
		--*|-?) printf '%s\n' "$f" ;;
		*) printf '%s\n' "$f" | sed -E 's/(.)/-\1\n/g' | sed '/^$/d' ;;
		esac
	done | sort -u
}

for c in sm-alert sm-keep sm-post sm-read sm-split sm-store sm-tail; do
	"$SM_BIN/$c" --help >"$SM_TMP/help" || fail "$c --help"
	# the first line: what the man page's NAME says
	nd=$(sed -n 's/^\.Nd //p' "man/$c.1")
	[ "$(head -1 "$SM_TMP/help")" = "$c - $nd" ] ||
	    fail "$c --help: first line \"$(head -1 "$SM_TMP/help")\", want" \
	    "\"$c - $nd\""
	# the environment: the man page's ENVIRONMENT variables (.Ev), each
	# named in --help's environment lines; both sections or neither
	sed -n '/^environment:$/,$p' "$SM_TMP/help" >"$SM_TMP/help-env"
	sed -n '/^\.Sh ENVIRONMENT/,/^\.Sh /p' "man/$c.1" |
	    sed -n 's/^\.It Ev //p' | tr -s ' ,' '\n\n' | sed 's/^Ev$//' |
	    grep -E '^[A-Za-z_][A-Za-z0-9_]*$' | sort -u >"$SM_TMP/man-env"
	if grep -q '^\.Sh ENVIRONMENT' "man/$c.1"; then
		[ -s "$SM_TMP/help-env" ] ||
		    fail "$c: the man page has ENVIRONMENT, --help none"
	else
		[ ! -s "$SM_TMP/help-env" ] ||
		    fail "$c: --help has environment lines, the man page" \
		    "no ENVIRONMENT"
	fi
	while read -r v; do
		grep -qw -- "$v" "$SM_TMP/help-env" ||
		    fail "$c: --help's environment lines lack $v"
	done <"$SM_TMP/man-env"
	# the man page's sections: those required, in order
	sed -n 's/^\.Sh //p' "man/$c.1" | tr -d '"' >"$SM_TMP/sections"
	printf '%s\n' NAME SYNOPSIS DESCRIPTION OPTIONS >"$SM_TMP/want"
	if nm -D --undefined-only "$SM_BIN/$c" |
	    grep -qwE 'getenv|secure_getenv'; then
		echo ENVIRONMENT >>"$SM_TMP/want"
		grep -qx ENVIRONMENT "$SM_TMP/sections" ||
		    fail "$c reads variables (getenv), man/$c.1 has no" \
		    "ENVIRONMENT"
	fi
	printf '%s\n' "EXIT STATUS" EXAMPLES "SEE ALSO" >>"$SM_TMP/want"
	grep -xF -f "$SM_TMP/want" "$SM_TMP/sections" |
	    diff -u "$SM_TMP/want" - >"$SM_TMP/diff" ||
	    fail "man/$c.1: sections missing or out of order: $(cat "$SM_TMP/diff")"
	# messages name the program by its base name, getopt's too, run by
	# an absolute path and by a relative one
	ln -s "$SM_BIN/$c" "$SM_TMP/sub/$c"
	for run in "$SM_BIN/$c" "sub/$c"; do
		for bad in --no-such-option -Z stray; do
			(cd "$SM_TMP" && "$run" "$bad" </dev/null >/dev/null \
			    2>"$SM_TMP/err") && fail "$run $bad: exit 0"
			head -1 "$SM_TMP/err" | grep -q "^$c: " ||
			    fail "$run $bad: \"$(head -1 "$SM_TMP/err")\"," \
			    "want \"$c: ...\""
		done
	done
	# the usage lines: from "usage:" to the blank line before the option
	# lines
	sed -n '/^usage:/,$p' "$SM_TMP/help" | sed '/^$/,$d' |
	    grep -oE '(^|[[ ])--?[a-zA-Z][a-zA-Z-]*' | sed -E 's/^[[ ]//' |
	    grep -v "^$c\$" | split_flags >"$SM_TMP/usage"
	# the man page's SYNOPSIS: "Fl -listen" is --listen, "Fl fh" -f -h
	sed -n '/^\.Sh SYNOPSIS/,/^\.Sh /p' "man/$c.1" |
	    grep -oE 'Fl -?[a-zA-Z][a-zA-Z-]*' | sed -E 's/^Fl (-?)/-\1/' |
	    split_flags >"$SM_TMP/man"
	diff -u "$SM_TMP/man" "$SM_TMP/usage" >"$SM_TMP/diff" ||
	    fail "$c: usage and SYNOPSIS differ: $(cat "$SM_TMP/diff")"
	# the option lines: "  -H, --header ..." names -H (its long form is
	# the man page's business); every usage option but -h has one
	sed '1,/^options/d' "$SM_TMP/help" |
	    sed -nE 's/^  (-[a-zA-Z])(, --[a-z-]+)? .*/\1/p;
	        s/^  (--[a-z-]+) .*/\1/p' | sort -u >"$SM_TMP/lines"
	grep -vx -- -h "$SM_TMP/usage" | diff -u - "$SM_TMP/lines" \
	    >"$SM_TMP/diff" ||
	    fail "$c: usage and --help's option lines differ: $(cat "$SM_TMP/diff")"
	# getopt knows each (a value may be wrong: not "unrecognized")
	while read -r f; do
		"$SM_BIN/$c" "$f" </dev/null >/dev/null 2>"$SM_TMP/err" &
		pid=$!
		( sleep 5; kill "$pid" 2>/dev/null ) &
		killer=$!
		wait "$pid" || :
		kill "$killer" 2>/dev/null || :
		! grep -qE 'unrecognized option|invalid option' "$SM_TMP/err" ||
		    fail "$c $f: $(cat "$SM_TMP/err")"
	done <"$SM_TMP/usage"
	echo "$c: $(wc -l <"$SM_TMP/usage") options agree"
done
