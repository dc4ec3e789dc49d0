#!/bin/sh
# make demo: the main job.  For now: sm-read streaming samples of this
# host for DEMO_SECONDS (default 15), one every half second.
set -eu
cd "$(dirname "$0")/.."
secs=${DEMO_SECONDS:-15}
n=$(awk -v s="$secs" 'BEGIN { print int(s * 2) }')
echo "demo: sm-read -i 0.5 -n $n  (one record every 0.5 s for ${secs} s)" >&2
bin/sm-read -i 0.5 -n "$n"
echo "demo: done" >&2
