// What bench/web-page.js and bench/web-hostview.js share: Debian's
// chromium, headless, through puppeteer-core (NODE_PATH finds it in
// tests/web/node_modules), its profile in dir.
"use strict";

const puppeteer = require("puppeteer-core");

function launch(dir) {
	return puppeteer.launch({ executablePath: "/usr/bin/chromium",
	    headless: true, userDataDir: dir, protocolTimeout: 600000,
	    args: ["--headless", "--no-sandbox", "--disable-gpu",
	    "--disable-quic", "--no-first-run",
	    "--disable-background-networking", "--disable-component-update",
	    "--disable-sync"] });
}

module.exports = { launch };
