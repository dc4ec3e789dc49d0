# Helpers for the chaos tests (sourced; tests/run.sh skips *lib.sh).

# chaos_records N TAG HOST: N records numbered 1..N in total_processes (the
# sequence number the tests check rows by); odd ones carry ids (TAG keeps a
# run's ids apart from any other's), even ones none (the sender gives them
# one before the first attempt).
chaos_records() {
	awk -v n="$1" -v tag="$2" -v host="$3" 'BEGIN {
	for (i = 1; i <= n; i++) {
		id = ""
		if (i % 2 == 1)
			id = sprintf("\"id\":\"%s-%04x-7%03x-8000-%012x\",",
			    tag, int(i / 4096), i % 4096, i)
		printf("{%s\"ts\":\"2026-01-01T%02d:%02d:%02d.%03dZ\"," \
		    "\"host\":\"%s\",\"collector\":\"procfs\"," \
		    "\"cpu_usage\":%d.5,\"cpu_free\":%d.5,\"ram_total\":4000," \
		    "\"ram_free\":1000,\"ram_available\":2000," \
		    "\"ram_used\":2000,\"ram_percentage\":50," \
		    "\"total_processes\":%d,\"running_processes\":%d," \
		    "\"sleeping_processes\":0,\"stopped_processes\":0," \
		    "\"zombie_processes\":0}\n", id,
		    int(i / 3600000) % 24, int(i / 60000) % 60,
		    int(i / 1000) % 60, i % 1000, host, i % 90, 99 - i % 90,
		    i, i % 50)
	}
}'
}

# chaos_feed RECORDS CHUNK SECONDS LOG AT: the lines of file RECORDS on
# standard output, CHUNK at a time, spread over about SECONDS seconds;
# after the i-th chunk of n, "AT i n" runs in the feeder (a function: it
# starts, in the background, the chaos due then).  Once every chunk is out
# and what AT started has ended, "TIME fed" goes to LOG.  Run it in the
# background into the FIFO the sender reads; it keeps none of the test's
# descriptors.
chaos_feed() (
	exec 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-
	mkdir "$1.chunks"
	split -l "$2" -a 4 -d "$1" "$1.chunks/c"
	n=$(ls "$1.chunks" | wc -l)
	pause=$(awk -v s="$3" -v n="$n" 'BEGIN { printf("%.3f", s / n) }')
	i=0
	for c in "$1.chunks"/c*; do
		cat "$c"
		sleep "$pause"
		i=$((i + 1))
		"$5" $i "$n"
	done
	wait
	echo "$(date +%s) fed" >>"$4"
)

# chaos_await LOG PATTERN TRIES: until a line of LOG matches PATTERN, a
# try every 0.2 s; after TRIES tries, on regardless (the test's checks of
# LOG then say what did not happen).
chaos_await() {
	_ca_t=0
	until grep -q "$2" "$1" || [ $_ca_t -ge "$3" ]; do
		sleep 0.2
		_ca_t=$((_ca_t + 1))
	done
}
