// What tests/web/page.test.js and auth.test.js share: failing, storing
// records through sm-store, waiting for a port file, launching Debian's
// chromium headless, watching a page for errors.  SM_BIN and DB_URL come from the environment.
"use strict";

const { spawnSync } = require("child_process");
const fs = require("fs");
const path = require("path");
const puppeteer = require("puppeteer-core");

const STEP_MS = 20000;	// any one wait, at most

function fail(msg) {
	throw new Error(msg);
}

// Store records through sm-store, as a receiver would.
function store(recs, source) {
	const r = spawnSync(path.join(process.env.SM_BIN, "sm-store"),
	    ["--db", process.env.DB_URL, "--source", source], {
		input: recs.map((x) => JSON.stringify(x) + "\n").join(""),
		timeout: STEP_MS,
	});
	if (r.status !== 0)
		fail("sm-store exited " + r.status + ": " + r.stderr);
}

async function waitFile(f) {
	const end = Date.now() + STEP_MS;
	while (Date.now() < end) {
		if (fs.existsSync(f) && fs.readFileSync(f, "utf8").trim() !== "")
			return fs.readFileSync(f, "utf8").trim();
		await new Promise((r) => setTimeout(r, 50));
	}
	fail("no port file " + f);
}

// chromium, headless, its profile in dir; extra: more launch options
function launch(dir, extra) {
	return puppeteer.launch(Object.assign({
		executablePath: "/usr/bin/chromium",
		headless: true,
		userDataDir: path.join(dir, "chromium-profile"),
		args: ["--headless", "--no-sandbox", "--disable-gpu",
		    "--disable-quic", "--no-first-run",
		    "--disable-background-networking",
		    "--disable-component-update", "--disable-sync"],
		timeout: STEP_MS,
	}, extra || {}));
}

// page's waits bounded, its console errors and warnings and its errors
// into problems, but for those allowed(text, url) says are expected
function watch(page, problems, allowed) {
	page.setDefaultTimeout(STEP_MS);
	page.on("console", (m) => {
		if (m.type() !== "error" && m.type() !== "warning")
			return;
		const url = m.location().url || "";
		if (allowed && allowed(m.text(), url))
			return;
		problems.push("console " + m.type() + ": " + m.text() +
		    (url ? " (" + url + ", " + new Date().toISOString() + ")" :
		    ""));
	});
	page.on("pageerror", (e) => problems.push("page error: " + e));
}

// The host view's line of the alert "cpu_usage > 90" that fired at 95
// and resolved, once listed; its text.
async function resolvedAlertLine(page) {
	await page.waitForFunction(() => [...document.querySelectorAll(
	    "#alert-log li.resolved")].some((li) =>
	    li.textContent.startsWith("cpu_usage > 90 (95): since ")));
	const li = await page.evaluate(() =>
	    document.querySelector("#alert-log li").textContent);
	if (!/fired (\d\d:){2}\d\d, resolved (\d\d:){2}\d\d$/.test(li))
		fail("the alert's line: \"" + li + "\"");
	return li;
}

module.exports = { STEP_MS, fail, store, waitFile, launch, watch,
    resolvedAlertLine };
