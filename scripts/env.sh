# Sourced from the checkout (`. scripts/env.sh`): the environment to run sm
# by hand.  Starts the private MariaDB when it is not running
# (scripts/mariadb.sh start: SM_DB_PORT and SM_DB_DIR move it), exports its
# SM_DB, SM_DB_PASSWORD and friends (scripts/mariadb.sh env), puts bin/ on
# PATH and the man pages on MANPATH (`man sm-read`), and says what it did.
# POSIX sh: under bash it finds the checkout from its own path, elsewhere
# from the current directory.

sm_env_top=
if [ -n "${BASH_SOURCE:-}" ]; then
	# shellcheck disable=SC3028,SC3054
	sm_env_top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
elif [ -f scripts/env.sh ]; then
	sm_env_top=$(pwd)
fi
if [ -z "$sm_env_top" ] || [ ! -x "$sm_env_top/scripts/mariadb.sh" ]; then
	echo "env.sh: source it from the checkout: . scripts/env.sh" >&2
	unset sm_env_top
	return 2 2>/dev/null || exit 2
fi
if "$sm_env_top/scripts/mariadb.sh" start &&
    sm_env_vars=$("$sm_env_top/scripts/mariadb.sh" env); then
	eval "$sm_env_vars"
	echo "env.sh: exported SM_DB=$SM_DB (password in SM_DB_PASSWORD)" >&2
else
	echo "env.sh: no database: see the lines above" >&2
fi
case ":$PATH:" in
*":$sm_env_top/bin:"*) ;;
*) PATH=$sm_env_top/bin:$PATH ;;
esac
export PATH
# man(1) wants man1/, man5/...: links to man/*.N under build/man
for sm_env_m in "$sm_env_top"/man/*.[1-8]; do
	sm_env_d=$sm_env_top/build/man/man${sm_env_m##*.}
	mkdir -p "$sm_env_d" &&
	    ln -sf "$sm_env_m" "$sm_env_d/${sm_env_m##*/}"
done
case ":${MANPATH:-}:" in
*":$sm_env_top/build/man:"*) ;;
*) MANPATH=$sm_env_top/build/man:${MANPATH:-} ;;	# ":" at the end: and
esac							# the system's pages
export MANPATH
echo "env.sh: PATH starts with $sm_env_top/bin, MANPATH with" \
    "$sm_env_top/build/man (man sm-read)" >&2
[ -x "$sm_env_top/bin/sm-read" ] ||
    echo "env.sh: bin/ is not built yet: run make" >&2
unset sm_env_top sm_env_vars sm_env_m sm_env_d
