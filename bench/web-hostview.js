// A host's 7-day view (?range=7d&host=HOST) in headless chromium against
// sm-tail --listen on a large table (bench/history-bench.sh, step 3b): the
// time from the request to its charts drawn with the /history answer, and
// the /history requests it made; RUNS fresh pages, the median.  URL, HOST,
// RUNS and PROFILE come from the environment; NODE_PATH finds
// puppeteer-core (tests/web/node_modules).
"use strict";

const { launch } = require("./browser.js");
const { URL: base, HOST, RUNS, PROFILE } = process.env;

async function main() {
	const b = await launch(PROFILE);
	const times = [];
	try {
		for (let r = 0; r < Number(RUNS || 5); r++) {
			const p = await b.newPage();
			await p.setViewport({ width: 1400, height: 900 });
			p.setDefaultTimeout(60000);
			let asked = 0;
			p.on("request", (q) => {
				if (new URL(q.url()).pathname === "/history")
					asked++;
			});
			const t0 = Date.now();
			await p.goto(base + "?range=7d&host=" +
			    encodeURIComponent(HOST), { waitUntil: "load" });
			await p.waitForFunction((h) => state.detail.length === 3 &&
			    state.hosts.has(h) && state.hosts.get(h).hist !== null &&
			    state.detailData.every((rows) => rows.some((x) =>
			    x[1] !== null)), { polling: 10 }, HOST);
			const ms = Date.now() - t0;
			const pts = await p.evaluate(() =>
			    state.detailData[0].length);
			times.push(ms);
			console.log("7-day view of " + HOST + ": charts drawn " +
			    "after " + ms + " ms, " + asked + " /history " +
			    "request(s), " + pts + " points a chart");
			await p.close();
		}
	} finally {
		await b.close();
	}
	times.sort((a, c) => a - c);
	console.log("7-day view: median " + times[(times.length - 1) >> 1] +
	    " ms of " + times.length + " (" + times.join(" ") + ")");
}

main().catch((e) => {
	console.error("bench/web-hostview.js: " + e.message);
	process.exit(1);
});
