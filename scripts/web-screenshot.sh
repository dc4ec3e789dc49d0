#!/bin/sh
# Take the README's picture of sm-tail --listen (docs/tail-web.png): six
# hosts with three minutes of rows each, split between two receivers, one
# of them busy and one gone quiet, in headless chromium.  Needs the private
# MariaDB (scripts/mariadb.sh start), bin/ and tests/web/node_modules.
#
#   scripts/web-screenshot.sh [OUT.png]
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$top/docs/tail-web.png}
eval "$("$top"/scripts/mariadb.sh env)"
tmp=$(mktemp -d)
db=sm_web_shot
"$top"/scripts/mariadb.sh sql -e "DROP DATABASE IF EXISTS $db;
    CREATE DATABASE $db; GRANT ALL ON $db.* TO 'sm'@'127.0.0.1';" >/dev/null
url=${SM_DB%/*}/$db
trap 'kill $pid 2>/dev/null; rm -rf "$tmp";
    "$top"/scripts/mariadb.sh sql -e "DROP DATABASE $db" >/dev/null' EXIT
# a row a second per host for 180 s up to now (db-2: until 40 s ago)
now=$(date +%s)
for src in python_api nodejs_api1; do
	awk -v now="$now" -v src="$src" 'BEGIN {
		split("web-1 web-2 web-3 db-1 db-2 cache-1", hosts, " ")
		for (t = now - 180; t <= now; t++) {
			for (h = 1; h <= 6; h++) {
				if ((t + h) % 2 != (src == "python_api"))
					continue
				if (hosts[h] == "db-2" && t > now - 40)
					continue
				base = h == 2 ? 82 : 8 + 6 * h
				cpu = base + 9 * sin(t / (7 + h)) + (t * h % 5)
				if (cpu > 99) cpu = 99
				total = h <= 3 ? 8000 : 32000
				f = 0.25 + 0.06 * h + 0.05 * sin(t / 30)
				used = int(total * f)
				printf "{\"id\":\"%08x-0000-7000-8000-%012x\"," \
				    "\"ts\":\"%s\",\"host\":\"%s\"," \
				    "\"collector\":\"procfs\",\"cpu_usage\":%.2f," \
				    "\"cpu_free\":%.2f,\"ram_total\":%d," \
				    "\"ram_free\":%d,\"ram_available\":%d," \
				    "\"ram_used\":%d,\"ram_percentage\":%.2f," \
				    "\"total_processes\":%d," \
				    "\"running_processes\":%d," \
				    "\"sleeping_processes\":%d," \
				    "\"stopped_processes\":0," \
				    "\"zombie_processes\":%d}\n", t, h,
				    strftime("%Y-%m-%dT%H:%M:%SZ", t, 1),
				    hosts[h], cpu, 100 - cpu, total,
				    total - used - 500, total - used, used,
				    100 * used / total, 180 + 20 * h,
				    1 + t % 3, 175 + 20 * h, h == 4
			}
		}
	}' | "$top"/bin/sm-store --db "$url" --source "$src" 2>/dev/null
done
"$top"/bin/sm-tail --db "$url" --listen 127.0.0.1:0 --port-file "$tmp/port" \
    --web-root "$top/web" 2>/dev/null &
pid=$!
until [ -s "$tmp/port" ]; do sleep 0.1; done
NODE_PATH=$top/tests/web/node_modules URL="http://127.0.0.1:$(cat "$tmp/port")/" \
    OUT=$out PROFILE=$tmp/profile timeout 60 node -e '
const puppeteer = require("puppeteer-core");
(async () => {
	const b = await puppeteer.launch({ executablePath: "/usr/bin/chromium",
	    headless: true, userDataDir: process.env.PROFILE,
	    args: ["--headless", "--no-sandbox", "--disable-gpu",
	    "--disable-quic", "--no-first-run", "--disable-background-networking",
	    "--disable-component-update", "--disable-sync"] });
	const p = await b.newPage();
	await p.setViewport({ width: 1100, height: 760 });
	await p.goto(process.env.URL);
	await p.waitForFunction(() =>
	    document.querySelectorAll("section.host canvas").length >= 6);
	await new Promise((r) => setTimeout(r, 1500));
	await p.screenshot({ path: process.env.OUT });
	await b.close();
})().catch((e) => { console.error(e); process.exit(1); });'
echo "$out"
