// The sm-tail --listen page in Debian's chromium, headless, driven by
// puppeteer-core (no browser download): a host that starts writing after
// the page loaded shows up with its figures without a reload; a hostile
// host name shows as text; the page says when the server goes away and
// comes back, and carries on; no console or page errors.  A screenshot
// is saved and its path printed.
//
// Run by tests/it/tail-web-page.sh, which sets SM_BIN, SM_TOP, SM_TMP,
// DB_URL and SHOT.
"use strict";

const { spawn, spawnSync } = require("child_process");
const fs = require("fs");
const path = require("path");
const puppeteer = require("puppeteer-core");

const { SM_BIN, SM_TOP, SM_TMP, DB_URL, SHOT } = process.env;
const HOSTILE = "<img src=x onerror=alert(1)>";
const STEP_MS = 20000;	// any one wait, at most

function fail(msg) {
	throw new Error(msg);
}

let seq = 0;
function record(host, cpu) {
	seq++;
	const used = 5000;
	return {
		id: "0000abcd-0000-7000-8000-" + String(seq).padStart(12, "0"),
		ts: new Date().toISOString(),
		host, collector: "procfs",
		cpu_usage: cpu, cpu_free: Math.round((100 - cpu) * 100) / 100,
		ram_total: 8000, ram_free: 2500, ram_available: 3000,
		ram_used: used, ram_percentage: 62.5,
		total_processes: 123, running_processes: 4,
		sleeping_processes: 110, stopped_processes: 1,
		zombie_processes: 2,
	};
}

// Store records through sm-store, as a receiver would.
function store(recs, source) {
	const r = spawnSync(path.join(SM_BIN, "sm-store"), ["--db", DB_URL,
	    "--source", source], {
		input: recs.map((x) => JSON.stringify(x) + "\n").join(""),
		timeout: STEP_MS,
	});
	if (r.status !== 0)
		fail("sm-store exited " + r.status + ": " + r.stderr);
}

function startServer(listen, portFile) {
	const p = spawn(path.join(SM_BIN, "sm-tail"), ["--db", DB_URL,
	    "--listen", listen, "--port-file", portFile, "--interval", "0.1",
	    "--web-root", path.join(SM_TOP, "web")], {
		stdio: ["ignore", "ignore", "inherit"],
	});
	return p;
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

function stopServer(p) {
	return new Promise((resolve) => {
		p.once("exit", resolve);
		p.kill("SIGTERM");
	});
}

// The text of the card of host name, or null.
async function cardText(page, name, sel) {
	return page.evaluate((n, s) => {
		for (const c of document.querySelectorAll("section.host"))
			if (c.dataset.host === n)
				return c.querySelector(s).textContent;
		return null;
	}, name, sel);
}

async function main() {
	const portFile = path.join(SM_TMP, "page.port");
	let server = startServer("127.0.0.1:0", portFile);
	const port = await waitFile(portFile);
	const base = "http://127.0.0.1:" + port + "/";
	const problems = [];
	const browser = await puppeteer.launch({
		executablePath: "/usr/bin/chromium",
		headless: true,
		userDataDir: path.join(SM_TMP, "chromium-profile"),
		args: ["--headless", "--no-sandbox", "--disable-gpu",
		    "--disable-quic", "--no-first-run",
		    "--disable-background-networking",
		    "--disable-component-update", "--disable-sync"],
		timeout: STEP_MS,
	});
	try {
		const page = await browser.newPage();
		await page.setViewport({ width: 1280, height: 800 });
		page.setDefaultTimeout(STEP_MS);
		page.on("console", (m) => {
			if (m.type() === "error" || m.type() === "warning")
				problems.push("console " + m.type() + ": " +
				    m.text());
		});
		page.on("pageerror", (e) => problems.push("page error: " + e));
		page.on("dialog", async (d) => {
			problems.push("a dialog opened: " + d.message());
			await d.dismiss();
		});
		await page.goto(base, { waitUntil: "load" });
		await page.waitForFunction(() =>
		    document.getElementById("conn").dataset.state === "open");
		await page.waitForFunction(() =>
		    document.getElementById("db").dataset.state === "up");
		const before = await page.evaluate(() =>
		    document.querySelectorAll("section.host").length);
		console.log("page loaded, " + before + " hosts");

		// hosts that start writing after the page loaded
		store([record("web-new", 91.5), record(HOSTILE, 12.25)], "a");
		await page.waitForFunction((n) => [...document.querySelectorAll(
		    "section.host")].some((c) => c.dataset.host === n),
		    {}, "web-new");
		await page.waitForFunction((n) => [...document.querySelectorAll(
		    "section.host")].some((c) => c.dataset.host === n),
		    {}, HOSTILE);
		const cpu = await cardText(page, "web-new", ".gauge.cpu .value");
		if (cpu !== "91.5 %")
			fail("web-new's CPU shows \"" + cpu + "\"");
		const warned = await page.evaluate(() => [...document.
		    querySelectorAll("section.host")].find((c) =>
		    c.dataset.host === "web-new").querySelector(".gauge.cpu").
		    classList.contains("warn"));
		if (!warned)
			fail("91.5 % CPU is not in the warning colour");
		for (const [sel, want] of [[".ram-total", "7.8 GiB"],
		    [".p-zombie", "2"], [".p-total", "123"], [".source", "a"]]) {
			const got = await cardText(page, "web-new", sel);
			if (got !== want)
				fail("web-new " + sel + ": \"" + got +
				    "\", want \"" + want + "\"");
		}
		const name = await cardText(page, HOSTILE, ".name");
		if (name !== HOSTILE)
			fail("the hostile host shows as \"" + name + "\"");
		if (await page.evaluate(() =>
		    document.querySelectorAll("main img").length) !== 0)
			fail("the hostile host name made an <img>");
		console.log("new hosts shown, the hostile name as text");

		// the server goes away and comes back on the same port
		await stopServer(server);
		await page.waitForFunction(() =>
		    document.getElementById("conn").dataset.state === "lost");
		console.log("server gone: the page says " + await page.evaluate(
		    () => document.getElementById("conn").textContent));
		server = startServer("127.0.0.1:" + port, portFile);
		await waitFile(portFile);
		await page.waitForFunction(() =>
		    document.getElementById("conn").dataset.state === "open",
		    { timeout: 3 * STEP_MS });
		store([record("web-new", 33.5)], "b");
		await page.waitForFunction(() => [...document.querySelectorAll(
		    "section.host")].some((c) => c.dataset.host === "web-new" &&
		    c.querySelector(".gauge.cpu .value").textContent ===
		    "33.5 %"));
		console.log("server back: new rows shown again");
		// the charts draw once a second
		await new Promise((r) => setTimeout(r, 1500));
		await page.screenshot({ path: SHOT, fullPage: true });
		console.log("screenshot: " + SHOT);
		if (problems.length > 0)
			fail(problems.join("\n"));
	} finally {
		await browser.close();
		await stopServer(server);
	}
}

main().then(() => console.log("ok"), (e) => {
	console.error("FAIL: " + e.message);
	process.exit(1);
});
