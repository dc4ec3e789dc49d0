// The sm-tail --listen page's stored alert history in Debian's chromium,
// headless, driven by puppeteer-core: sm-tail --keep-alerts stores an
// alert that fires and resolves (a hostile host name's), is restarted,
// and then the host's view lists the alert (fired and resolved) from
// /alerts?from=&to=&host=, and the overview's
// recent alerts list it; the host name stays text; one that fired as
// sm-tail stopped is listed with its end not recorded.  No console or
// page errors.
//
// Run by tests/it/tail-web-alert-history.sh, which sets SM_BIN, SM_TMP
// and DB_URL.
"use strict";

const { spawn } = require("child_process");
const fs = require("fs");
const path = require("path");
const { STEP_MS, fail, store, waitFile, launch, watch,
    resolvedAlertLine } = require("./lib.js");

const { SM_BIN, SM_TMP, DB_URL } = process.env;
const HOSTILE = "<img src=x onerror=alert(1)>";

let seq = 0;
function record(host, cpu, tsMs) {
	seq++;
	return {
		id: "0000abce-0000-7000-8000-" + String(seq).padStart(12, "0"),
		ts: new Date(tsMs).toISOString(), host, collector: "procfs",
		cpu_usage: cpu, cpu_free: 100 - cpu, ram_total: 8000,
		ram_free: 2500, ram_available: 3000, ram_used: 5000,
		ram_percentage: 62.5, total_processes: 123,
		running_processes: 4, sleeping_processes: 110,
		stopped_processes: 1, zombie_processes: 2,
	};
}

// sm-tail --listen --keep-alerts: its base URL and a stop function
async function serve(n) {
	const portFile = path.join(SM_TMP, "alerts" + n + ".port");
	const server = spawn(path.join(SM_BIN, "sm-tail"), ["--db", DB_URL,
	    "--listen", "127.0.0.1:0", "--port-file", portFile,
	    "--interval", "0.1", "--rule", "cpu_usage > 90",
	    "--keep-alerts"], { stdio: ["ignore", "ignore", "inherit"] });
	const exited = new Promise((r) => server.once("exit", r));
	const stop = async () => {
		server.kill("SIGTERM");
		const code = await exited;
		if (code !== 0)
			fail("sm-tail exited " + code);
	};
	try {
		return { base: "http://127.0.0.1:" + await waitFile(portFile) +
		    "/", stop };
	} catch (e) {
		await stop().catch(() => {});
		throw e;
	}
}

// Poll /alerts?from=1h until one alert of host is stored, resolved or not.
async function stored(base, host, resolved) {
	const url = base + "alerts?from=1h&host=" + encodeURIComponent(host);
	const end = Date.now() + STEP_MS;
	while (Date.now() < end) {
		const list = await (await fetch(url)).json();
		if (list.length === 1 && (list[0].resolved !== null) ===
		    resolved)
			return list[0];
		await new Promise((r) => setTimeout(r, 100));
	}
	fail("no alert stored for " + host);
}

async function check(browser, base, problems) {
	const page = await browser.newPage();
	await page.setViewport({ width: 1400, height: 900 });
	watch(page, problems);
	page.on("dialog", async (d) => {
		problems.push("a dialog opened: " + d.message());
		await d.dismiss();
	});
	// the host's view, in the live range: the stored alert listed
	await page.goto(base + "?host=" + encodeURIComponent(HOSTILE),
	    { waitUntil: "load" });
	const li = await resolvedAlertLine(page);
	// one that fired as sm-tail stopped: its end not known, not firing
	const stuck = await browser.newPage();
	watch(stuck, problems);
	await stuck.goto(base + "?host=stuck", { waitUntil: "load" });
	await stuck.waitForFunction(() => [...document.querySelectorAll(
	    "#alert-log li.unended")].some((li) => li.textContent.endsWith(
	    ", end not recorded")));
	await stuck.close();
	const logged = await page.evaluate((h) =>
	    (state.alertLog.get(h) || []).length, HOSTILE);
	if (logged !== 1)
		fail("the host's alert log holds " + logged + " entries");
	// the overview: the recent alerts, the name as text
	await page.goto(base, { waitUntil: "load" });
	await page.waitForFunction((h) => [...document.querySelectorAll(
	    "#recent-log li a")].some((a) => a.textContent === h), {}, HOSTILE);
	const recent = await page.evaluate((h) => [...document.
	    querySelectorAll("#recent-log li")].map((li) => li.textContent).
	    find((t) => t.startsWith(h + ": ")), HOSTILE);
	if (!recent.startsWith(HOSTILE + ": cpu_usage > 90 (95): since "))
		fail("the recent alert's line: \"" + recent + "\"");
	if (await page.evaluate(() => document.querySelector("img") !== null))
		fail("the host's name became an element");
	await page.close();
	return li;
}

async function main() {
	const t = Date.now();
	let s = await serve(1);
	try {
		store([record(HOSTILE, 95, t - 20e3)], "a");
		await new Promise((r) => setTimeout(r, 300));
		store([record(HOSTILE, 30, t - 10e3),
		    record("stuck", 97, t - 10e3)], "a");
		await stored(s.base, HOSTILE, true);
		await stored(s.base, "stuck", false);
	} finally {
		await s.stop();
	}
	s = await serve(2);
	const problems = [];
	let browser = null;
	try {
		browser = await launch(SM_TMP);
		const li = await check(browser, s.base, problems).catch((e) =>
		    fail([e.message, ...problems].join("\n")));
		if (problems.length > 0)
			fail(problems.join("\n"));
		console.log("after a restart, the host's view lists: " + li);
	} finally {
		if (browser !== null)
			await browser.close();
		await s.stop();
	}
	fs.rmSync(path.join(SM_TMP, "chromium-profile"), { recursive: true,
	    force: true });
}

main().then(() => console.log("ok"), (e) => {
	console.error("FAIL: " + e.message);
	process.exit(1);
});
