# Helpers shared by scripts/mariadb.sh and scripts/galera.sh (sourced).

# db_stop PID: shut server PID down cleanly (SIGTERM), waiting for it to
# end; SIGKILL after 60 s.  Returns 1 when there is no such process.
db_stop() {
	kill -TERM "$1" 2>/dev/null || return 1
	_db_i=0
	while kill -0 "$1" 2>/dev/null; do
		_db_i=$((_db_i + 1))
		if [ "$_db_i" -gt 600 ]; then
			kill -KILL "$1" 2>/dev/null || true
			break
		fi
		sleep 0.1
	done
}
