# The bad-input corpus, written from scratch (sourced or run with sh; not
# a test itself):
#
#   sh tests/corpus/make-corpus.sh DIR
#
# writes every tests/corpus/*.ndjson into DIR.  The committed files are its
# output; tests/it/badinput-store.sh checks that they still are byte for
# byte (so a checkout that rewrote line ends or stripped a BOM is caught),
# and makes the one input too big to commit, a 10 MiB line, with
# corpus_long_line.
#
# Each file mixes valid records, host "ok-N" (N its line number), with bad
# ones, host "bad-N" where there is a host at all: a row whose host starts
# with "bad-" is a bad line that was stored.  Ids are UUIDv7-shaped and
# unique across the corpus (file number, line number).
set -eu

# (Call these with LC_ALL=C: the bytes are not all text.)

# corpus_rec FILE LINE [KEY VALUE]...: one record line, newline included.
# VALUE is raw JSON text with printf %b escapes (\0377 for byte 0xff,
# \0000 for NUL); "-" drops KEY.  KEY "," adds VALUE (raw members) at the
# end of the object, KEY "+" puts VALUE after it.  Given any KEY, the host
# is "bad-LINE" unless set.
corpus_rec() {
	_f=$1 _l=$2
	shift 2
	_first=1
	_after=
	_inner=
	printf '{'
	for _k in id ts host collector cpu_usage cpu_free ram_total ram_free \
	    ram_available ram_used ram_percentage total_processes \
	    running_processes sleeping_processes stopped_processes \
	    zombie_processes; do
		case $_k in
		id)	_v=$(printf '"0190b000-%04x-7000-8000-%012x"' "$_f" \
			    "$_l") ;;
		ts)	_v=$(printf '"2026-01-01T00:%02d:%02d.000Z"' \
			    $((_f % 60)) $((_l % 60))) ;;
		host)	if [ $# -gt 0 ]; then _v="\"bad-$_l\""; else
			    _v="\"ok-$_l\""; fi ;;
		collector) _v='"procfs"' ;;
		cpu_usage) _v=12.5 ;;
		cpu_free) _v=87.5 ;;
		ram_total) _v=4000 ;;
		ram_free) _v=1000 ;;
		ram_available) _v=2000 ;;
		ram_used) _v=2000 ;;
		ram_percentage) _v=50 ;;
		total_processes) _v=100 ;;
		running_processes) _v=1 ;;
		sleeping_processes) _v=99 ;;
		stopped_processes|zombie_processes) _v=0 ;;
		esac
		# overrides, last one wins
		_i=1
		while [ $_i -lt $# ]; do
			eval "_ok=\${$_i} _ov=\${$((_i + 1))}"
			if [ "$_ok" = "$_k" ]; then
				_v=$_ov
			elif [ "$_ok" = + ]; then
				_after=$_ov
			elif [ "$_ok" = , ]; then
				_inner=",$_ov"
			fi
			_i=$((_i + 2))
		done
		[ "$_v" = - ] && continue
		[ $_first -eq 1 ] || printf ','
		_first=0
		printf '"%s":%b' "$_k" "$_v"
	done
	printf '%b}%b\n' "$_inner" "$_after"
}

# corpus_ok FILE LINE: a valid record.
corpus_ok() {
	corpus_rec "$1" "$2"
}

# corpus_long_line FILE LINE MIB: a record whose host is MIB MiB of "x",
# without its newline.
corpus_long_line() {
	printf '{"id":"0190b000-%04x-7000-8000-%012x","ts":"2026-01-01T00:00:00.000Z","host":"' "$1" "$2"
	head -c $(($3 * 1024 * 1024)) /dev/zero | tr '\0' x
	printf '","cpu_usage":12.5,"ram_total":4000,"ram_free":1000,"ram_used":2000,"total_processes":100,"running_processes":1,"sleeping_processes":99,"stopped_processes":0,"zombie_processes":0}'
}

corpus_make() {
	d=$1

	# 1: lines cut short, as by a writer killed mid-line; the last one
	# has no newline at all
	{
		corpus_ok 1 1
		corpus_rec 1 2 x x | cut -c1-60
		corpus_ok 1 3
		corpus_rec 1 4 x x | sed 's/"total_processes".*/"total_processes":/'
		corpus_ok 1 5
		corpus_rec 1 6 x x | cut -c1-90 | tr -d '\n'
	} >"$d/truncated.ndjson"

	# 2: bytes that are not UTF-8, in a string and outside one
	{
		corpus_ok 2 1
		corpus_rec 2 2 host '"bad-2-\0377"'
		corpus_ok 2 3
		corpus_rec 2 4 host '"bad-4-\0300\0257"'
		corpus_rec 2 5 host '"bad-5-\0200"'
		corpus_rec 2 6 host '"bad-6-\0342\0202"'
		corpus_rec 2 7 host '"bad-7-\0355\0240\0200"'
		corpus_rec 2 8 collector '"procfs\0377"'
		corpus_rec 2 9 host '"ok-9-\0303\0261and\0303\0272-\0346\0227\0245"'
		corpus_rec 2 10 + ' \0377'
		corpus_ok 2 11
	} >"$d/invalid-utf8.ndjson"

	# 3: NUL bytes inside a string, after the object, and alone
	{
		corpus_ok 3 1
		corpus_rec 3 2 host '"bad-2-\0000-x"'
		corpus_ok 3 3
		printf '\0\0\0\n'
		corpus_rec 3 5 + '\0000'
		printf '\0'
		corpus_rec 3 6 x x
		corpus_ok 3 7
	} >"$d/nul.ndjson"

	# 4: numbers too big for their field, or for any type
	{
		corpus_ok 4 1
		corpus_rec 4 2 total_processes 99999999999999999999999
		corpus_rec 4 3 ram_total 1e400
		corpus_ok 4 4
		corpus_rec 4 5 ram_total 2147483648
		corpus_rec 4 6 total_processes 8388608
		corpus_rec 4 7 cpu_usage 1e308
		corpus_rec 4 8 ram_total "1$(printf '%0400d' 0)"
		corpus_rec 4 9 total_processes 1e3 host '"ok-9"'
		corpus_rec 4 10 ram_total 2147483647 ram_free 1 \
		    ram_available 1 ram_used 1 ram_percentage 0 host '"ok-10"'
		corpus_ok 4 11
	} >"$d/huge-numbers.ndjson"

	# 5: NaN and Infinity, which JSON has no words for
	{
		corpus_ok 5 1
		corpus_rec 5 2 cpu_usage NaN
		corpus_rec 5 3 cpu_usage Infinity
		corpus_rec 5 4 cpu_free -Infinity
		corpus_ok 5 5
		corpus_rec 5 6 ram_percentage nan
		corpus_rec 5 7 cpu_usage '"NaN"'
		corpus_rec 5 8 ram_total -1e400
		corpus_ok 5 9
	} >"$d/nan-infinity.ndjson"

	# 6: negative counts and sizes
	{
		corpus_ok 6 1
		corpus_rec 6 2 total_processes -1
		corpus_rec 6 3 running_processes -5
		corpus_ok 6 4
		corpus_rec 6 5 ram_free -1
		corpus_rec 6 6 zombie_processes -0.0 host '"ok-6"'
		corpus_rec 6 7 cpu_usage -0.5 cpu_free 100.5
		corpus_ok 6 8
	} >"$d/negative.ndjson"

	# 7: percentages over 100 (100 itself is fine)
	{
		corpus_ok 7 1
		corpus_rec 7 2 cpu_usage 150 cpu_free -50
		corpus_rec 7 3 ram_percentage 100.01
		corpus_rec 7 4 cpu_usage 0 cpu_free 100 ram_percentage 100 \
		    host '"ok-4"'
		corpus_rec 7 5 cpu_usage 100.5 cpu_free -
		corpus_rec 7 6 cpu_usage 60 cpu_free 60
		corpus_ok 7 7
	} >"$d/percent-over-100.ndjson"

	# 8: objects, arrays, strings, booleans and null where numbers go
	{
		corpus_ok 8 1
		corpus_rec 8 2 ram_total '{"mib":4000}'
		corpus_rec 8 3 cpu_usage '[12.5]'
		corpus_ok 8 4
		corpus_rec 8 5 total_processes '"100"'
		corpus_rec 8 6 zombie_processes true
		corpus_rec 8 7 ram_free null
		corpus_rec 8 8 host 42
		corpus_rec 8 9 ts 1767225600
		corpus_ok 8 10
	} >"$d/objects-for-numbers.ndjson"

	# 9: empty and blank lines: skipped, never reported
	{
		printf '\n'
		corpus_ok 9 2
		printf '\n\n'
		corpus_ok 9 5
		printf '   \t \n'
		printf '\t\n'
		corpus_ok 9 8
		printf '\n'
	} >"$d/empty-lines.ndjson"

	# 10: a UTF-8 byte order mark before the first line (skipped), and
	# one before a later line (not JSON)
	{
		printf '\357\273\277'
		corpus_ok 10 1
		corpus_ok 10 2
		printf '\357\273\277'
		corpus_rec 10 3 x x
		corpus_ok 10 4
	} >"$d/bom.ndjson"

	# 11: CRLF line ends, a blank CRLF line, a final line without any
	# line end
	{
		corpus_ok 11 1 | sed 's/$/\r/'
		printf '\r\n'
		corpus_ok 11 3 | sed 's/$/\r/'
		corpus_ok 11 4 | sed 's/$/\r/'
		corpus_ok 11 5 | tr -d '\n'
	} >"$d/crlf.ndjson"

	# 12: lines that are JSON but not one record object
	{
		corpus_ok 12 1
		printf '[]\n'
		printf '[%s]\n' "$(corpus_rec 12 3 x x)"
		printf '42\n'
		printf '"text"\n'
		printf 'null\n'
		corpus_ok 12 7
		printf '%s%s\n' "$(corpus_rec 12 8 x x)" "$(corpus_rec 12 8 x x)"
		corpus_rec 12 9 + ' trailing'
		printf '{}\n'
		corpus_rec 12 11 x x | sed 's/}$/,}/'
		printf "{'host':'bad-12'}\n"
		corpus_ok 12 13
	} >"$d/not-records.ndjson"

	# 13: fields missing, malformed, contradicting each other
	{
		corpus_ok 13 1
		corpus_rec 13 2 ts -
		corpus_rec 13 3 ts '"2026-13-01T00:00:00Z"'
		corpus_rec 13 4 id '"not-a-uuid"'
		corpus_ok 13 5
		corpus_rec 13 6 , '"total_ram":4000'
		corpus_rec 13 7 ram_used 5000
		corpus_rec 13 8 cpu_usage 10 cpu_free 50
		corpus_rec 13 9 total_processes 10
		corpus_rec 13 10 host "\"bad-10-$(printf '%0300d' 0)\""
		corpus_rec 13 11 host '"bad-11-\\u0007"'
		corpus_ok 13 12
	} >"$d/bad-fields.ndjson"
}

if [ $# -eq 1 ] && [ -d "$1" ]; then
	LC_ALL=C
	export LC_ALL
	corpus_make "$1"
fi
