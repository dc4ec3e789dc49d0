// The sm-tail --listen page in Debian's chromium behind TLS and a login
// (--tls-cert, --tls-key, --auth-file): without credentials the page is
// 401; with them (HTTP basic authentication, which the browser then sends
// by itself with every request, the EventSource's too) the page connects
// its stream, says the database is up, and shows a host that starts
// writing after it loaded; no console or page errors.
//
// Run by tests/it/tail-auth-page.sh, which sets SM_BIN, SM_TOP, SM_TMP,
// DB_URL, TLS_DIR (server.pem, server.key), USERS (the --auth-file) and
// VIEWER, PASSWORD (a viewer in it).
"use strict";

const { spawn } = require("child_process");
const path = require("path");
const https = require("https");
const { fail, store, waitFile, launch, watch } = require("./lib.js");

const { SM_BIN, SM_TOP, SM_TMP, DB_URL, TLS_DIR, USERS, VIEWER,
    PASSWORD } = process.env;

function record(host) {
	return {
		id: "0000abcd-0000-7000-8000-00000000a" + String(
		    Date.now() % 1000).padStart(3, "0"),
		ts: new Date().toISOString(),
		host, collector: "procfs",
		cpu_usage: 42.5, cpu_free: 57.5,
		ram_total: 8000, ram_free: 2500, ram_available: 3000,
		ram_used: 5000, ram_percentage: 62.5,
		total_processes: 123, running_processes: 4,
		sleeping_processes: 110, stopped_processes: 1,
		zombie_processes: 2,
	};
}

// GET url without credentials: [status, WWW-Authenticate]
function anonymous(url) {
	return new Promise((resolve, reject) => {
		https.get(url, { rejectUnauthorized: false }, (r) => {
			r.resume();
			resolve([r.statusCode, r.headers["www-authenticate"]]);
		}).on("error", reject);
	});
}

async function main() {
	const portFile = path.join(SM_TMP, "auth-page.port");
	const server = spawn(path.join(SM_BIN, "sm-tail"), ["--db", DB_URL,
	    "--listen", "127.0.0.1:0", "--port-file", portFile,
	    "--interval", "0.1", "--web-root", path.join(SM_TOP, "web"),
	    "--tls-cert", path.join(TLS_DIR, "server.pem"),
	    "--tls-key", path.join(TLS_DIR, "server.key"),
	    "--auth-file", USERS], {
		stdio: ["ignore", "ignore", "inherit"],
	});
	const port = await waitFile(portFile);
	const base = "https://localhost:" + port + "/";
	const problems = [];
	// the certificate is the test's own
	const browser = await launch(SM_TMP, { acceptInsecureCerts: true });
	try {
		// no credentials: 401 asking for a login
		const refused = await anonymous(base);
		if (refused[0] !== 401 || refused[1] !== "Basic realm=\"sm-tail\"")
			fail("without credentials: " + JSON.stringify(refused));
		console.log("without credentials: 401, a login asked for");

		const page = await browser.newPage();
		watch(page, problems);
		await page.authenticate({ username: VIEWER, password: PASSWORD });
		const resp = await page.goto(base, { waitUntil: "load" });
		if (resp.status() !== 200)
			fail("with credentials: HTTP " + resp.status());
		await page.waitForFunction(() =>
		    document.getElementById("conn").dataset.state === "open");
		await page.waitForFunction(() =>
		    document.getElementById("db").dataset.state === "up");
		console.log("logged in: the stream is open, the database up");
		store([record("behind-login")], "a");
		await page.waitForFunction((n) => [...document.querySelectorAll(
		    "section.host")].some((c) => c.dataset.host === n),
		    {}, "behind-login");
		console.log("a new host shown through the authenticated stream");
		if (problems.length > 0)
			fail(problems.join("\n"));
	} finally {
		await browser.close();
		server.kill("SIGTERM");
	}
}

main().then(() => console.log("ok"), (e) => {
	console.error("FAIL: " + e.message);
	process.exit(1);
});
