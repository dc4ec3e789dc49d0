// The sm-tail --listen page's time ranges and host view in Debian's
// chromium, headless, driven by puppeteer-core, the page served by sm-tail
// from the copy compiled in (no --web-root): hosts whose rows are older
// than the stream's first 1000 get their card (/hosts); rows from 3 hours
// ago (rolled up by sm-keep) are in the 6 h range and not in the live one,
// drawn as min-max bands, one /history request per chart; a drag on a
// chart zooms (the URL and the requests follow) and "back" undoes it; a
// custom range typed in; a link shows the same range; a gap is a null in
// the chart's data; the search box and the worst-first order; a host's
// view, also the hostile host's (its name stays text); dark mode; no page
// wider than the screen; 1,000 hosts more as a table (no charts), worst
// CPU first, the search box finding one, the time it took and the script
// time a second printed.  Screenshots at 375, 1400 and 2560 pixels wide
// (of the table at 375 and 1400), of a host view and in dark mode, in
// SHOT_DIR.  No console or page
// errors.
//
// Run by tests/it/tail-web-range.sh, which sets SM_BIN, SM_TMP, DB_URL
// and SHOT_DIR.
"use strict";

const { spawn, spawnSync } = require("child_process");
const path = require("path");
const { STEP_MS, fail, store, waitFile, launch, watch,
    resolvedAlertLine } = require("./lib.js");

const { SM_BIN, SM_TMP, DB_URL, SHOT_DIR } = process.env;
const HOSTILE = "<img src=x onerror=alert(1)>";

let seq = 0;
function record(host, cpu, tsMs) {
	seq++;
	const used = 5000;
	return {
		id: "0000abcd-0000-7000-8000-" + String(seq).padStart(12, "0"),
		ts: new Date(tsMs === undefined ? Date.now() : tsMs).
		    toISOString(),
		host, collector: "procfs",
		cpu_usage: cpu, cpu_free: Math.round((100 - cpu) * 100) / 100,
		ram_total: 8000, ram_free: 2500, ram_available: 3000,
		ram_used: used, ram_percentage: 62.5,
		total_processes: 123, running_processes: 4,
		sleeping_processes: 110, stopped_processes: 1,
		zombie_processes: 2,
	};
}

// A page watched for errors and for its /history requests.
async function watchedPage(browser, problems, requests, width) {
	const page = await browser.newPage();
	await page.setViewport({ width, height: 900 });
	watch(page, problems);
	page.on("dialog", async (d) => {
		problems.push("a dialog opened: " + d.message());
		await d.dismiss();
	});
	page.on("request", (r) => {
		const u = new URL(r.url());
		if (u.pathname === "/history")
			requests.push(u.searchParams);
	});
	return page;
}

// What host name's chart draws: [[ms, cpu, ram], ...], a value null or
// [min, avg, max]; null when the host has no card.
async function chartData(page, name) {
	return page.evaluate((n) => {
		const h = state.hosts.get(n);
		return h === undefined ? null : h.data.map((r) =>
		    [r[0].getTime(), r[1], r[2]]);
	}, name);
}

async function ranges(browser, base, problems) {
	const now = Date.now(), old = now - 3 * 3600e3;
	const started = Date.now();
	const requests = [];
	// 20 minutes of rows 3 hours ago, rolled up; a host with a gap
	const past = [];
	for (let i = 0; i < 20; i++)
		past.push(record("hist-old", 20 + i, old + i * 60e3));
	const gappy = [];
	for (let t = now - 300e3; t <= now - 240e3; t += 10e3)
		gappy.push(record("gappy", 30, t));
	for (let t = now - 60e3; t <= now; t += 10e3)
		gappy.push(record("gappy", 40, t));
	// 1000 rows of one host first: the others' rows are older than
	// the stream's first 1000, their cards come from /hosts
	const chatty = [];
	for (let i = 0; i < 1000; i++)
		chatty.push(record("chatty", 10, now - 500e3 + i * 400));
	store(chatty, "a");
	store(past.concat(gappy), "a");
	const keep = spawnSync(path.join(SM_BIN, "sm-keep"), ["--db", DB_URL,
	    "--settle", "0"], { timeout: STEP_MS });
	if (keep.status !== 0)
		fail("sm-keep exited " + keep.status + ": " + keep.stderr);

	const page = await watchedPage(browser, problems, requests, 1400);
	// more than 12 hosts: the cards asked for (each has its chart)
	await page.goto(base + "?layout=cards", { waitUntil: "load" });
	await page.waitForFunction(() => state.hosts.has("hist-old") &&
	    state.hosts.has("gappy") && state.hosts.get("gappy").data.
	    length >= 12);
	await page.waitForFunction(() => state.hosts.has("web-old") &&
	    state.hosts.get("web-old").rec !== null && state.hosts.has(
	    "fleet-49"));
	console.log("hosts beyond the stream's first 1000 rows shown");
	if ((await chartData(page, "hist-old")).some((r) => r[1] !== null))
		fail("live: hist-old's rows of 3 h ago are drawn");
	if (requests.length !== 0)
		fail("live: " + requests.length + " /history requests");
	// the gap: a null between the points of 5 and of 1 minute ago
	const g = await chartData(page, "gappy");
	const hole = g.findIndex((r) => r[1] === null);
	if (hole <= 0 || hole >= g.length - 1 || g[hole - 1][0] > now -
	    240e3 || g[hole + 1][0] < now - 60e3)
		fail("no gap in gappy's chart: " + JSON.stringify(g));
	if (g.filter((r) => r[1] === null).length !== 1)
		fail("gappy: more than one gap: " + JSON.stringify(g));
	console.log("live: no rows of 3 h ago; the gap is a null point");

	// 6 h: from /history, min-max bands
	await page.click("#ranges button[data-range=\"6h\"]");
	if (new URL(page.url()).search !== "?layout=cards&range=6h")
		fail("6 h: the URL is " + page.url());
	await page.waitForFunction((f, t) => {
		const h = state.hosts.get("hist-old");
		return h.hist !== null && h.data.some((r) => r[1] !== null &&
		    r[0].getTime() >= f && r[0].getTime() <= t);
	}, {}, old - 600e3, old + 1800e3);
	const d6 = await chartData(page, "hist-old");
	const band = d6.find((r) => r[1] !== null);
	if (!Array.isArray(band[1]) || band[1].length !== 3 ||
	    !(band[1][0] <= band[1][1] && band[1][1] <= band[1][2]))
		fail("6 h: not a min-avg-max band: " + JSON.stringify(band));
	const mine = requests.filter((q) => q.get("host") === "hist-old");
	if (mine.length !== 1)
		fail("6 h: " + mine.length + " requests for hist-old");
	const span = Date.parse(mine[0].get("to")) -
	    Date.parse(mine[0].get("from"));
	if (Math.abs(span - 6 * 3600e3) > 1000)
		fail("6 h: asked for " + span + " ms");
	if (!requests.some((q) => q.get("host") === HOSTILE))
		fail("6 h: no request for the hostile host's chart");
	if (await page.evaluate(() =>
	    document.querySelectorAll("main img").length) !== 0)
		fail("the hostile host name made an <img>");
	console.log("6 h: hist-old's rows of 3 h ago, as bands, one " +
	    "request per chart (" + requests.length + ")");

	// drag across hist-old's chart: a custom range in the URL, asked for
	const box = await page.evaluate(() => {
		const c = state.hosts.get("hist-old").el.chart;
		c.scrollIntoView({ block: "center" });
		const r = c.getBoundingClientRect();
		return { x: r.x, y: r.y, w: r.width, h: r.height };
	});
	// a chart is drawn once its card is near the viewport
	await page.waitForFunction(() => {
		const h = state.hosts.get("hist-old");
		return h.graph !== null && !h.graphStale;
	});
	const before = requests.length;
	await page.mouse.move(box.x + 0.45 * box.w, box.y + box.h / 2);
	await page.mouse.down();
	await page.mouse.move(box.x + 0.75 * box.w, box.y + box.h / 2,
	    { steps: 10 });
	await page.mouse.up();
	await page.waitForFunction(() =>
	    new URLSearchParams(location.search).has("from"));
	const zq = new URL(page.url()).searchParams;
	const zf = Date.parse(zq.get("from")), zt = Date.parse(zq.get("to"));
	if (!(zt - zf > 0 && zt - zf < 0.5 * 6 * 3600e3))
		fail("zoom: the URL's range is " + page.url());
	await page.waitForFunction((n) => state.hosts.get("hist-old").hist !==
	    null && state.histQueue.length === 0 && state.histBusy === 0);
	const zr = requests.slice(before).filter((q) =>
	    q.get("host") === "hist-old");
	if (zr.length !== 1 || Date.parse(zr[0].get("from")) !== zf ||
	    Date.parse(zr[0].get("to")) !== zt)
		fail("zoom: hist-old's requests " + zr.map(String).join(" "));
	console.log("zoom: " + zq.get("from") + " to " + zq.get("to") +
	    " in the URL and asked for");
	await page.click("#back");
	await page.waitForFunction(() =>
	    location.search === "?layout=cards&range=6h");
	console.log("back: ?range=6h again");

	// a custom range, typed in local time, 24-hour
	const [cf, ct] = await page.evaluate((o) => {
		$("from").value = localInput(o - 1800e3);
		$("to").value = localInput(o + 1800e3);
		return [$("from").value, $("to").value];
	}, old);
	if (!/^\d{4}-\d\d-\d\d \d\d:\d\d$/.test(cf))
		fail("the custom range's field shows \"" + cf + "\"");
	await page.click("#custom button[type=submit]");
	await page.waitForFunction(() =>
	    new URLSearchParams(location.search).has("from"));
	const cq = new URL(page.url()).searchParams;
	const cspan = Date.parse(cq.get("to")) - Date.parse(cq.get("from"));
	if (Math.abs(cspan - 3600e3) > 60e3 ||
	    Math.abs(Date.parse(cq.get("from")) - (old - 1800e3)) > 60e3)
		fail("custom " + cf + " to " + ct + ": the URL is " + page.url());
	await page.waitForFunction((f, t) => {
		const h = state.hosts.get("hist-old");
		return h.hist !== null && h.data.some((r) => r[1] !== null &&
		    r[0].getTime() >= f && r[0].getTime() <= t);
	}, {}, old - 600e3, old + 1800e3);
	console.log("custom: " + cf + " to " + ct + " shown");

	// a link to a range shows it
	const link = await watchedPage(browser, problems, [], 1400);
	await link.goto(base + "?range=6h&layout=cards", { waitUntil: "load" });
	await link.waitForFunction(() => document.querySelector(
	    "#ranges button[data-range=\"6h\"]").getAttribute(
	    "aria-pressed") === "true");
	await link.waitForFunction((f, t) => {
		const h = state.hosts.get("hist-old");
		return h !== undefined && h.data.some((r) => r[1] !== null &&
		    r[0].getTime() >= f && r[0].getTime() <= t);
	}, {}, old - 600e3, old + 1800e3);
	console.log("a link to ?range=6h shows the 6 h range");

	// find a host, worst CPU first: in the URL too
	await link.type("#filter", "fleet-4");
	const found = await link.evaluate(() => [...document.querySelectorAll(
	    "section.host")].filter((c) => !c.hidden).map((c) =>
	    c.dataset.host));
	if (found.length !== 10 || !found.every((n) => n.startsWith("fleet-4")))
		fail("\"fleet-4\" finds " + JSON.stringify(found));
	await link.evaluate(() => {
		$("filter").value = "";
		$("filter").dispatchEvent(new Event("input"));
	});
	await link.select("#sort", "cpu");
	const lq = new URL(link.url()).searchParams;
	if (lq.get("sort") !== "cpu" || lq.get("range") !== "6h" ||
	    lq.has("q"))
		fail("sorted: the URL is " + link.url());
	const first = await link.evaluate(() =>
	    document.querySelector("section.host").dataset.host);
	if (first !== "fleet-49")
		fail("worst CPU first: " + first + " first");
	console.log("the filter finds fleet-4*; fleet-49 (59 %) first by CPU");

	// a host's view: its card, every field over the range
	await link.evaluate(() => state.hosts.get("hist-old").el.name.click());
	const hq = new URL(link.url()).searchParams;
	if (hq.get("host") !== "hist-old" || hq.get("range") !== "6h")
		fail("host view: the URL is " + link.url());
	await link.waitForFunction((f, t) => state.detailData.length === 3 &&
	    state.detailData.every((rows) => rows.some((r) => r[1] !== null &&
	    r[0].getTime() >= f && r[0].getTime() <= t)), {}, old - 600e3,
	    old + 1800e3);
	const cards = await link.evaluate(() => [...document.querySelectorAll(
	    "section.host")].filter((c) => !c.hidden).map((c) =>
	    c.dataset.host));
	if (cards.length !== 1 || cards[0] !== "hist-old")
		fail("host view: cards " + JSON.stringify(cards));
	await link.screenshot({ path: path.join(SHOT_DIR,
	    "tail-web-host.png"), fullPage: true });
	await link.click("#all");
	await link.waitForFunction(() => [...document.querySelectorAll(
	    "section.host")].filter((c) => !c.hidden).length > 50);
	console.log("hist-old's view: RAM, processes, threads over 6 h; " +
	    "back to all hosts");

	// the hostile host's view, from a link: its name stays text
	const hostile = await watchedPage(browser, problems, [], 1400);
	const hreq = [];
	hostile.on("request", (r) => {
		const u = new URL(r.url());
		if (u.pathname === "/history")
			hreq.push(u.searchParams.get("host"));
	});
	await hostile.goto(base + "?" + new URLSearchParams({ range: "6h",
	    host: HOSTILE }), { waitUntil: "load" });
	await hostile.waitForFunction(() => state.histBusy === 0 &&
	    state.hosts.has(state.hostView) &&
	    state.hosts.get(state.hostView).hist !== null);
	const hv = await hostile.evaluate(() => [$("detail-name").textContent,
	    new URLSearchParams(location.search).get("host"),
	    document.querySelectorAll("img").length]);
	if (hv[0] !== HOSTILE || hv[1] !== HOSTILE || hv[2] !== 0)
		fail("the hostile host's view: " + JSON.stringify(hv));
	if (hreq.length !== 1 || hreq[0] !== HOSTILE)
		fail("the hostile host's view asked for " +
		    JSON.stringify(hreq));
	await hostile.close();
	console.log("the hostile host's view: its name as text, one request");

	// an alert that fires and resolves while the host's view is open
	const av = await watchedPage(browser, problems, [], 1400);
	await av.goto(base + "?host=alerty", { waitUntil: "load" });
	await av.waitForFunction(() =>
	    document.getElementById("conn").dataset.state === "open");
	const t = Date.now();
	store([record("alerty", 95, t - 20e3), record("alerty", 30, t - 10e3)],
	    "a");
	const li = await resolvedAlertLine(av);
	await av.screenshot({ path: path.join(SHOT_DIR,
	    "tail-web-alert.png"), fullPage: true });
	await av.close();
	console.log("alerty's view lists: " + li);

	// 1,000 hosts more: all shown, worst CPU first, the search finds one
	const fleet = [];
	for (let i = 0; i < 1000; i++)
		fleet.push(record("big-" + String(i).padStart(4, "0"),
		    i === 777 ? 99.5 : (i * 37) % 89));
	store(fleet, "a");
	const big = await watchedPage(browser, problems, [], 1400);
	const bigAt = Date.now();
	await big.goto(base + "?sort=cpu", { waitUntil: "load" });
	await big.waitForFunction(() => state.hosts.size >= 1000 + 56 &&
	    document.querySelector("#fleet .hrow").dataset.host ===
	    "big-0777" && document.querySelector("#fleet .hrow .gauge.cpu " +
	    ".value").textContent === "99.5 %", { polling: 50 });
	const shownMs = Date.now() - bigAt;
	const nodes = await big.evaluate(() =>
	    document.getElementsByTagName("*").length);
	// the browser's script time a second, rows arriving meanwhile
	const m0 = await big.metrics();
	const mAt = Date.now();
	for (let k = 0; k < 3; k++) {
		const more = [];
		for (let i = 0; i < 1000; i += 10)
			more.push(record("big-" + String(i).padStart(4, "0"),
			    (i * 37) % 89));
		store(more, "a");
		await new Promise((r) => setTimeout(r, 1000));
	}
	const m1 = await big.metrics();
	const scriptMs = 1000 * (m1.ScriptDuration - m0.ScriptDuration) /
	    ((Date.now() - mAt) / 1000);
	await big.type("#filter", "big-0123");
	const one = await big.evaluate(() => [...document.querySelectorAll(
	    "#fleet .hrow")].filter((c) => !c.hidden).map((c) =>
	    c.dataset.host));
	if (one.length !== 1 || one[0] !== "big-0123")
		fail("1,000 hosts: \"big-0123\" finds " + JSON.stringify(one));
	const drawn = await big.evaluate(() => [...state.hosts.values()].
	    filter((h) => h.graph !== null).length);
	if (drawn !== 0)
		fail("1,000 hosts: the table drew " + drawn + " charts");
	await big.evaluate(() => {
		$("filter").value = "";
		$("filter").dispatchEvent(new Event("input"));
	});
	for (const w of [375, 1400]) {
		await big.setViewport({ width: w, height: 900 });
		await new Promise((r) => setTimeout(r, 300));
		const shot = path.join(SHOT_DIR, "tail-web-fleet-" + w + ".png");
		await big.screenshot({ path: shot });
		console.log("screenshot: " + shot);
		if (await big.evaluate(() => document.documentElement.
		    scrollWidth > window.innerWidth))
			fail(w + " px: the table is wider than the screen");
	}
	await big.close();
	console.log("1,000 hosts more, as a table: shown, big-0777 (99.5 %) " +
	    "first, in " + shownMs + " ms from the request; " + nodes +
	    " elements; the search finds big-0123; script " +
	    scriptMs.toFixed(0) + " ms a second with 100 rows a second");
	for (const w of [375, 1400, 2560]) {
		await link.setViewport({ width: w, height: 900 });
		await new Promise((r) => setTimeout(r, 300));
		const shot = path.join(SHOT_DIR,
		    "tail-web-" + w + ".png");
		await link.screenshot({ path: shot });
		console.log("screenshot: " + shot);
		const wide = await link.evaluate(() => document.
		    documentElement.scrollWidth > window.innerWidth ?
		    [...document.querySelectorAll("body *")].filter((e) =>
		    e.getBoundingClientRect().right > window.innerWidth + 1).
		    slice(0, 3).map((e) => e.tagName + "#" + e.id + "." +
		    e.className) : null);
		if (wide !== null)
			fail(w + " px: the page is wider than the screen: " +
			    wide.join(", "));
	}
	// dark mode: the browser's preference
	await link.setViewport({ width: 1400, height: 900 });
	await link.emulateMediaFeatures([{ name: "prefers-color-scheme",
	    value: "dark" }]);
	const bg = await link.evaluate(() =>
	    getComputedStyle(document.body).backgroundColor);
	if (bg !== "rgb(17, 24, 32)")
		fail("dark mode: the background is " + bg);
	await link.screenshot({ path: path.join(SHOT_DIR,
	    "tail-web-dark.png") });
	console.log("dark mode follows prefers-color-scheme");
	await link.close();
	await page.close();
	console.log("ranges: " + ((Date.now() - started) / 1000).toFixed(1) +
	    " s");
}

async function main() {
	// before the page: a host an hour old, the hostile name, 50 hosts
	const recs = [record("web-old", 5, Date.now() - 3600e3),
	    record(HOSTILE, 12.25)];
	for (let i = 0; i < 50; i++)
		for (let j = 0; j < 3; j++)
			recs.push(record("fleet-" + String(i).padStart(2, "0"),
			    10 + i));
	store(recs, "a");
	const portFile = path.join(SM_TMP, "range.port");
	const server = spawn(path.join(SM_BIN, "sm-tail"), ["--db", DB_URL,
	    "--listen", "127.0.0.1:0", "--port-file", portFile,
	    "--interval", "0.1", "--rule", "cpu_usage > 90"], { stdio: ["ignore", "ignore", "inherit"] });
	const stopped = new Promise((r) => server.once("exit", r));
	const problems = [];
	let browser = null;
	try {
		const base = "http://127.0.0.1:" + await waitFile(portFile) +
		    "/";
		browser = await launch(SM_TMP);
		await ranges(browser, base, problems);
		if (problems.length > 0)
			fail(problems.join("\n"));
	} finally {
		if (browser !== null)
			await browser.close();
		server.kill("SIGTERM");
		await stopped;
	}
}

main().then(() => console.log("ok"), (e) => {
	console.error("FAIL: " + e.message);
	process.exit(1);
});
