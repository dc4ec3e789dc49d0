// bench/web-page.sh's browser side: see there.  URL, HOSTS, IDLE and
// PROFILE come from the environment; one line per figure.
"use strict";

const { launch } = require("./browser.js");
const { URL: base, HOSTS, IDLE, PROFILE, LAYOUT } = process.env;
/* "table" or "cards": the overview asked for (?layout=) */
const layout = LAYOUT || "";
const n = Number(HOSTS);

async function metric(page, name) {
	return (await page.metrics())[name];
}

async function main() {
	const b = await launch(PROFILE);
	try {
		const p = await b.newPage();
		await p.setViewport({ width: 1400, height: 900 });
		p.setDefaultTimeout(600000);
		let t0 = Date.now();
		await p.goto(base + (layout !== "" ? "?layout=" + layout : ""),
		    { waitUntil: "load" });
		await p.waitForFunction((k, l) => l === "table" ? [...document.
		    querySelectorAll("#fleet .hrow .cpu .value")].filter((e) =>
		    e.textContent !== "").length >= k : document.
		    querySelectorAll("section.host").length >= k,
		    { polling: 50 }, n, layout);
		const m = await p.metrics();
		console.log(n + " hosts: every " + (layout === "table" ?
		    "row" : "card") + " shown after " +
		    (Date.now() - t0) + " ms (script " + Math.round(1000 *
		    m.ScriptDuration) + " ms, style " + Math.round(1000 *
		    m.RecalcStyleDuration) + " ms, layout " + Math.round(1000 *
		    m.LayoutDuration) + " ms)");
		/* a page without lazy charts (WEB_ROOT): every chart */
		await p.waitForFunction((l) => l === "table" ||
		    (() => {
			const all = [...state.hosts.values()];
			const on = all[0].onScreen === undefined ? all :
			    all.filter((h) => h.onScreen);
			return on.length > 0 && on.every((h) =>
			    h.graph !== null);
		})(), { polling: 50 }, layout);
		console.log(n + " hosts: the charts in view drawn after " +
		    (Date.now() - t0) + " ms (" + await p.evaluate(() =>
		    [...state.hosts.values()].filter((h) => h.graph !==
		    null).length) + " charts)");
		console.log("DOM nodes: " + await metric(p, "Nodes"));
		await new Promise((r) => setTimeout(r, 2000));
		const s0 = await metric(p, "ScriptDuration"),
		    k0 = await metric(p, "TaskDuration");
		await new Promise((r) => setTimeout(r, Number(IDLE) * 1000));
		const s1 = await metric(p, "ScriptDuration"),
		    k1 = await metric(p, "TaskDuration");
		console.log("idle " + IDLE + " s: script " + (1000 * (s1 - s0) /
		    IDLE).toFixed(1) + " ms/s, all tasks " + (1000 * (k1 - k0) /
		    IDLE).toFixed(1) + " ms/s");
		if (await p.$("#ranges") === null || layout === "table")
			return;		/* no ranges, or no charts */
		t0 = Date.now();
		await p.click("#ranges button[data-range=\"6h\"]");
		await p.waitForFunction(() => [...state.hosts.values()].every(
		    (h) => h.hist !== null) && state.histBusy === 0,
		    { polling: 100 });
		console.log("6 h: every chart from /history after " +
		    (Date.now() - t0) + " ms");
		const v = await b.newPage();
		await v.setViewport({ width: 1400, height: 900 });
		v.setDefaultTimeout(600000);
		t0 = Date.now();
		await v.goto(base + "?range=7d&host=host-0001",
		    { waitUntil: "load" });
		await v.waitForFunction(() => state.detail.length === 3 &&
		    state.hosts.get("host-0001").hist !== null,
		    { polling: 20 });
		console.log("7 d host view: charts drawn after " +
		    (Date.now() - t0) + " ms");
	} finally {
		await b.close();
	}
}

main().catch((e) => {
	console.error("bench/web-page.js: " + e.message);
	process.exit(1);
});
