// The sm-tail --listen page in Debian's chromium, headless, driven by
// puppeteer-core (no browser download): a host that starts writing after
// the page loaded shows up with its figures without a reload; a hostile
// host name shows as text; the page says when the server goes away and
// comes back, and so does the database; 50 more hosts show up (as a
// table: past 12 hosts); no console or page errors.  A screenshot is saved and its path printed.
//
// Run by tests/it/tail-web-page.sh, which sets SM_BIN, SM_TOP, SM_TMP,
// DB_URL, DB_PORT (the database's TCP port, behind the proxy) and SHOT.
"use strict";

const { spawn } = require("child_process");
const fs = require("fs");
const path = require("path");
const { STEP_MS, fail, store, waitFile, launch, watch } =
    require("./lib.js");

const { SM_BIN, SM_TOP, SM_TMP, DB_URL, DB_PORT, SHOT } = process.env;
const HOSTILE = "<img src=x onerror=alert(1)>";

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

// The database as sm-tail sees it: through a TCP proxy (tests/it/
// tcp-proxy.py) that can be stopped and started again on its port.
function startProxy(port, portFile) {
	try {
		fs.unlinkSync(portFile);
	} catch (e) {
		// none yet
	}
	return spawn("python3", [path.join(SM_TOP, "tests/it/tcp-proxy.py"),
	    String(port), DB_PORT, portFile], { stdio: "ignore" });
}

function startServer(listen, portFile, dbUrl) {
	const p = spawn(path.join(SM_BIN, "sm-tail"), ["--db", dbUrl,
	    "--listen", listen, "--port-file", portFile, "--interval", "0.1",
	    "--rule", "cpu_usage > 90",
	    "--web-root", path.join(SM_TOP, "web")], {
		stdio: ["ignore", "ignore", "inherit"],
	});
	return p;
}

function stopServer(p) {
	return new Promise((resolve) => {
		if (p.exitCode !== null || p.signalCode !== null)
			return resolve();
		p.once("exit", resolve);
		p.kill("SIGTERM");
	});
}

// The text of the card (or the table row: what is ".hrow") of host
// name, or null.
async function cardText(page, name, sel, what) {
	return page.evaluate((n, s, w) => {
		for (const c of document.querySelectorAll(w))
			if (c.dataset.host === n)
				return c.querySelector(s).textContent;
		return null;
	}, name, sel, what || "section.host");
}

async function main() {
	const portFile = path.join(SM_TMP, "page.port");
	const proxyFile = path.join(SM_TMP, "proxy.port");
	let proxy = startProxy(0, proxyFile);
	const proxyPort = await waitFile(proxyFile);
	const viaProxy = DB_URL.replace(/:\d+\//, ":" + proxyPort + "/");
	let server = startServer("127.0.0.1:0", portFile, viaProxy);
	const port = await waitFile(portFile);
	const base = "http://127.0.0.1:" + port + "/";
	const problems = [];
	let dbAway = false;
	const browser = await launch(SM_TMP);
	try {
		const page = await browser.newPage();
		await page.setViewport({ width: 1280, height: 800 });
		// while the database is away, a query of the stored
		// alerts may be answered 503 (the page shows none):
		// Chromium logs any such answer
		watch(page, problems, (text, url) => dbAway &&
		    /status of 503/.test(text) && /\/alerts\?/.test(url));
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

		// --rule cpu_usage > 90: web-new's alert on its card, no other
		await page.waitForFunction(() => [...document.querySelectorAll(
		    "section.host")].some((c) => c.dataset.host === "web-new" &&
		    c.classList.contains("firing")));
		const alerts = await cardText(page, "web-new", ".alerts");
		if (!alerts.startsWith("cpu_usage > 90 (91.5) since "))
			fail("web-new's alert shows \"" + alerts + "\"");
		const firing = await page.evaluate(() => [...document.
		    querySelectorAll("section.host.firing")].map((c) =>
		    c.dataset.host));
		if (firing.length !== 1)
			fail("firing hosts: " + JSON.stringify(firing));
		const count = await page.evaluate(() =>
		    document.getElementById("nalerts").textContent);
		if (count !== "1")
			fail("the header counts " + count + " alerts");
		console.log("the firing alert shown on its host's card");

		// the server goes away and comes back on the same port
		await stopServer(server);
		await page.waitForFunction(() =>
		    document.getElementById("conn").dataset.state === "lost");
		console.log("server gone: the page says " + await page.evaluate(
		    () => document.getElementById("conn").textContent));
		server = startServer("127.0.0.1:" + port, portFile, viaProxy);
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

		// the database goes away and comes back
		dbAway = true;
		await stopServer(proxy);
		await page.waitForFunction(() =>
		    document.getElementById("db").dataset.state === "down");
		console.log("database gone: the page says " + await page.evaluate(
		    () => document.getElementById("db").textContent));
		proxy = startProxy(proxyPort, proxyFile);
		await waitFile(proxyFile);
		await page.waitForFunction(() =>
		    document.getElementById("db").dataset.state === "up");
		console.log("database back: the page says so");
		// a query sent while it was away may still be answered
		await new Promise((r) => setTimeout(r, 2000));
		dbAway = false;

		// 50 hosts at once: past 12, the overview is a table
		const many = [];
		for (let i = 0; i < 50; i++)
			for (let j = 0; j < 3; j++)
				many.push(record("fleet-" + String(i).padStart(2,
				    "0"), 10 + i));
		store(many, "a");
		await page.waitForFunction(() => document.querySelectorAll(
		    "#fleet .hrow").length >= 53);
		// a row may show before its figures: the page draws in frames
		await page.waitForFunction(() => {
			for (const c of document.querySelectorAll(".hrow"))
				if (c.dataset.host === "fleet-49")
					return c.querySelector(".gauge.cpu .value")
					    .textContent !== "";
			return false;
		}, { timeout: 10000 }).catch(() => {});
		const fleet = await cardText(page, "fleet-49",
		    ".gauge.cpu .value", ".hrow");
		if (fleet !== "59.0 %")
			fail("fleet-49's CPU shows \"" + fleet + "\"");
		const shown = await page.evaluate(() => [
		    document.getElementById("fleet").hidden,
		    document.getElementById("hosts").hidden]);
		if (shown[0] || !shown[1])
			fail("53 hosts: the table is not shown instead of " +
			    "the cards: " + JSON.stringify(shown));
		console.log("50 more hosts shown, as a table");
		// the charts draw once a second
		await new Promise((r) => setTimeout(r, 1500));
		await page.screenshot({ path: SHOT, fullPage: true });
		console.log("screenshot: " + SHOT);
		if (problems.length > 0)
			fail(problems.join("\n"));
	} finally {
		await browser.close();
		await stopServer(server);
		await stopServer(proxy);
	}
}

main().then(() => console.log("ok"), (e) => {
	console.error("FAIL: " + e.message);
	process.exit(1);
});
