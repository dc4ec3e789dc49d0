#!/bin/sh
# sm-keep without a database: bad sizes and ages exit 2 with the option,
# the value and the reason, then the usage; good sizes get past the
# options (to the database: exit 3, none listening).
. "$(dirname "$0")/../lib.sh"

KEEP=$SM_BIN/sm-keep
unset SM_DB SM_DB_PASSWORD

echo "bad sizes are refused, each with its reason"
check() {
	expect_status 2 "$KEEP" "$1" "$2"
	expect_err "sm-keep: $1: \"$2\": $3"
	expect_err "usage: sm-keep"
}
for opt in --raw-size --minute-size --hour-size; do
	check $opt 10X "unknown unit: K, M, G or T (powers of 1024)"
	check $opt 10MB "unknown unit: K, M, G or T (powers of 1024)"
	check $opt 1.5G "unknown unit: K, M, G or T (powers of 1024)"
	check $opt -5 "not a size: a whole number and K, M, G or T"
	check $opt "" "not a size: a whole number and K, M, G or T"
	check $opt G "not a size: a whole number and K, M, G or T"
	check $opt 1048577T "too large"
	check $opt 99999999999999999999999 "too large"
done
expect_status 2 "$KEEP" --raw-size
expect_err "requires an argument"

echo "good sizes pass the options: the database is next"
port=$(free_port)
expect_status 3 "$KEEP" --db "mysql://sm@127.0.0.1:$port/sm" \
    --raw-size 20G --minute-size 500M --hour-size 0
echo ok
