#!/bin/sh
# Write the fuzzers' seed corpora (tests/fuzz/corpus/TARGET/), from records
# written here, the replaced system's fixture and the bad-input corpus
# (tests/corpus).  The committed files are its output; run it again only
# to change the seeds:
#
#   tests/fuzz/make-seeds.sh
#
# Seed formats follow the targets: record takes one line; body a kind byte
# (0 auto, 1 JSON, 2 NDJSON) and the body; ndjson a limit byte, a mode
# byte (see fuzz_ndjson.c) and the stream.
set -eu
export LC_ALL=C
cd "$(dirname "$0")"
top=../..

A='{"id":"01a2187e-8992-706a-a64f-7969378a9ec5","ts":"2026-11-26T15:34:35.666Z","host":"node-a","collector":"procfs","cpu_usage":52.08,"cpu_free":47.92,"ram_total":24105,"ram_free":21939,"ram_available":22389,"ram_used":1716,"ram_percentage":7.12,"total_processes":89,"running_processes":1,"sleeping_processes":88,"stopped_processes":0,"zombie_processes":0,"threads":124}'
B='{"id":"01A2187E-8A19-74B9-84DF-777CA7482104","ts":"2026-11-26T15:34:35.801+05:30","host":"node-b","collector":"kmod","cpu_usage":0.5,"cpu_free":99.5,"ram_total":3913,"ram_free":100,"ram_available":200,"ram_used":3713,"ram_percentage":94.89,"total_processes":5,"running_processes":2,"sleeping_processes":1,"stopped_processes":1,"zombie_processes":1}'
C='{"ts":"2016-12-31T23:59:60.5Z","cpu_usage":51.28,"ram_total":24105,"ram_free":21939,"ram_used":1716,"total_processes":89,"running_processes":2,"sleeping_processes":87,"stopped_processes":0,"zombie_processes":0,"cpu_free":null,"threads":null}'
S='{"total_ram":3913,"ram_libre":2413,"uso_ram":1500,"porcentaje_ram":38,"porcentaje_cpu_uso":2,"porcentaje_cpu_libre":98,"procesos_corriendo":1,"total_procesos":113,"procesos_durmiendo":112,"procesos_zombies":0,"procesos_parados":0,"hora":"2025-06-27 16:47:23"}'
E='{"ts":"1970-01-01T00:00:00Z","cpu_usage":0,"ram_total":0,"ram_free":0,"ram_used":0,"total_processes":0,"running_processes":0,"sleeping_processes":0,"stopped_processes":0,"zombie_processes":0}'
M='{"ts":"9999-12-31T23:59:59.999Z","cpu_usage":100,"cpu_free":0,"ram_total":1099511627776,"ram_free":1099511627776,"ram_used":1099511627776,"total_processes":2147483647,"running_processes":2147483647,"sleeping_processes":0,"stopped_processes":0,"zombie_processes":0,"host":"h\u00e9\"\\/x","collector":"0123456789012345678901234567890"}'

rm -rf corpus/record corpus/body corpus/ndjson
mkdir -p corpus/record corpus/body corpus/ndjson

# record: good lines in both dialects, then bad ones
printf '%s' "$A" >corpus/record/canonical-full
printf '%s' "$B" >corpus/record/canonical-offset-upper-id
printf '%s' "$C" >corpus/record/canonical-terse-nulls
printf '%s' "$S" >corpus/record/seed-zombies
printf '%s' "$E" >corpus/record/zero
printf '%s' "$M" >corpus/record/limits
sed -n 1p $top/tests/fixtures/seed-records.ndjson | tr -d '\n' \
    >corpus/record/seed-fixture
for f in $top/tests/corpus/*.ndjson; do
	[ -f "$f" ] || continue
	i=0
	while IFS= read -r line || [ -n "$line" ]; do
		i=$((i + 1))
		printf '%s' "$line" | tr -d '\r' \
		    >"corpus/record/$(basename "$f" .ndjson)-$i"
	done <"$f"
done

# body: an object, arrays, NDJSON with blank and bad lines, under each kind
printf '\001%s' "$A" >corpus/body/json-object
printf '\001[%s,%s,%s]' "$A" "$S" "$C" >corpus/body/json-array
printf '\001[%s,{"x":1},42]' "$B" >corpus/body/json-array-bad
printf '\000[]' >corpus/body/auto-empty-array
printf '\000  \n\t{\n"a":\n1}\n' >corpus/body/auto-pretty
printf '\002\357\273\277%s\r\n\n  \n%s\n{"x":\n%s' "$A" "$S" "$C" \
    >corpus/body/ndjson-bom-crlf-bad
printf '\000%s\n%s\n' "$B" "$E" >corpus/body/auto-ndjson
printf '\001%s\n%s\n' "$B" "$M" >corpus/body/json-announced-ndjson
head -20 $top/tests/fixtures/seed-records.ndjson | sed '1s/^/\x02/' \
    >corpus/body/ndjson-seed-fixture
if [ -f $top/tests/corpus/invalid-utf8.ndjson ]; then
	{ printf '\002'; cat $top/tests/corpus/invalid-utf8.ndjson; } \
	    >corpus/body/ndjson-invalid-utf8
	{ printf '\001'; cat $top/tests/corpus/nul.ndjson; } \
	    >corpus/body/json-nul
fi

# ndjson: limit byte, mode byte (bit 0: pipe; bit 7: 0xfe N repeats)
printf '\010\000ab\ncd\r\nlonger line\n\n  \t\nx' >corpus/ndjson/small-memfd
printf '\010\001ab\ncd\r\nlonger line\n\n  \t\nx' >corpus/ndjson/small-pipe
printf '\003\001\357\273\277abc\r\nabcd\r\n\r\n\357\273\277x\n' \
    >corpus/ndjson/bom-crlf-pipe
printf '\004\000\357\273' >corpus/ndjson/half-bom
printf '\000\201{\376\377x\n{}\n' >corpus/ndjson/default-limit-long
# limit 65533: lines of 65281 and 65537 bytes, pieces across the chunks
printf '\201\201a\376\377\nb\376\377\376\1\r\nc\n' \
    >corpus/ndjson/chunk-limit-pipe
printf '\202\200a\376\377\376\1\r\nb\376\377\n' \
    >corpus/ndjson/chunk-limit-memfd
{ printf '\177\001'; head -5 $top/tests/fixtures/seed-records.ndjson; } \
    >corpus/ndjson/records-pipe

# alert: one rule a file
i=0
while IFS= read -r rule; do
	i=$((i + 1))
	printf '%s' "$rule" >corpus/alert/rule-$i
done <<'RULES'
cpu_usage > 90
cpu_usage > 90 for 30s
porcentaje_cpu_uso>=85.5 for 300
ram_percentage <= 1e1 for 1.5s
zombie_processes != 0 for 2h
total_ram < 4096 for 250ms
threads == -1
stale for 60s
stale for 5m
cpu_usage > 0x10
cpu_usage > 90 for 5 days
RULES
