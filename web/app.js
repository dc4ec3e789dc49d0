/*
 * sm-tail --listen's dashboard (sm-tail(1), LISTEN): one EventSource on
 * /events, no polling.  Every value from the server reaches the page via
 * textContent (never innerHTML), so a host named "<img src=x
 * onerror=alert(1)>" shows as those characters.
 */
"use strict";

const HISTORY_ROWS = 1000;	/* rows asked for at first load */
const CHART_SECONDS = 600;	/* what the charts cover */
const CHART_EVERY_MS = 1000;	/* a chart is redrawn at most this often */
const SPLIT_SECONDS = 60;	/* rows/s and the source split cover this */
const STALE_MIN_MS = 10000;	/* as lib/feed.h: FEED_STALE_MIN_MS */
const STALE_TIMES = 3;

const state = {
	hosts: new Map(),	/* name -> host */
	warn: 75,
	staleSeconds: 0,	/* 0: from each host's interval */
	recent: [],		/* {ts, source} of the rows of the last minute */
	lastId: null,
	alerts: new Map(),	/* host + "\0" + rule -> firing alert event */
	es: null,
	dirty: new Set(),
	frame: 0,
};

const $ = (id) => document.getElementById(id);

function setText(el, text) {
	if (el.textContent !== text)
		el.textContent = text;
}

function fmtMiB(mib) {
	if (!Number.isFinite(mib))
		return "–";
	return mib >= 1024 ? (mib / 1024).toFixed(1) + " GiB" :
	    mib.toFixed(0) + " MiB";
}

function fmtAge(ms) {
	const s = Math.max(0, Math.round(ms / 1000));
	if (s < 120)
		return s + " s";
	if (s < 7200)
		return Math.round(s / 60) + " min";
	if (s < 172800)
		return Math.round(s / 3600) + " h";
	return Math.round(s / 86400) + " d";
}

/* A new card for host name, in name order. */
function newHost(name) {
	const card = $("host-card").content.firstElementChild.cloneNode(true);
	const q = (sel) => card.querySelector(sel);
	const h = {
		name,
		card,
		el: {
			name: q(".name"), cpuGauge: q(".gauge.cpu"),
			cpuFill: q(".gauge.cpu .fill"),
			cpuValue: q(".gauge.cpu .value"),
			ramGauge: q(".gauge.ram"),
			ramFill: q(".gauge.ram .fill"),
			ramValue: q(".gauge.ram .value"),
			ramTotal: q(".ram-total"), ramUsed: q(".ram-used"),
			ramFree: q(".ram-free"),
			ramAvailable: q(".ram-available"),
			pTotal: q(".p-total"), pRunning: q(".p-running"),
			pSleeping: q(".p-sleeping"), pStopped: q(".p-stopped"),
			pZombie: q(".p-zombie"), chart: q(".chart"),
			ts: q(".ts"), age: q(".age"), source: q(".source"),
			alerts: q(".alerts"),
		},
		rec: null,
		source: "",
		tsMs: 0,
		intervalMs: 0,
		points: [],
		graph: null,
		chartAt: 0,
	};
	h.el.name.textContent = name === "" ? "(no host)" : name;
	card.dataset.host = name;
	const main = $("hosts");
	let before = null;
	for (const other of main.children)
		if (other.dataset.host > name) {
			before = other;
			break;
		}
	main.insertBefore(card, before);
	state.hosts.set(name, h);
	setText($("nhosts"), String(state.hosts.size));
	return h;
}

/* A row: {record} and {source}, from one event's two data lines. */
function addRow(rec, source) {
	const ts = Date.parse(rec.ts);
	const name = typeof rec.host === "string" ? rec.host : "";
	const h = state.hosts.get(name) || newHost(name);

	if (h.rec !== null && ts > h.tsMs) {
		const delta = ts - h.tsMs;
		if (delta <= 3600000)
			h.intervalMs = h.intervalMs > 0 ?
			    (3 * h.intervalMs + delta) / 4 : delta;
	}
	if (h.rec === null || ts >= h.tsMs) {
		h.rec = rec;
		h.source = source;
		h.tsMs = ts;
	}
	h.points.push([new Date(ts), rec.cpu_usage, rec.ram_percentage]);
	if (h.points.length > 1 && ts < h.points[h.points.length - 2][0])
		h.points.sort((a, b) => a[0] - b[0]);
	const cut = Date.now() - CHART_SECONDS * 1000;
	while (h.points.length > 0 && h.points[0][0] < cut &&
	    h.points.length > 2)
		h.points.shift();
	state.recent.push({ ts, source });
	state.dirty.add(h);
	schedule();
}

function schedule() {
	if (state.frame === 0)
		state.frame = requestAnimationFrame(render);
}

function staleAfter(h) {
	if (state.staleSeconds > 0)
		return state.staleSeconds * 1000;
	return Math.max(STALE_MIN_MS, STALE_TIMES * h.intervalMs);
}

function gauge(g, fill, value, pct) {
	const p = Number.isFinite(pct) ? Math.min(100, Math.max(0, pct)) : 0;
	fill.style.width = p + "%";
	setText(value, Number.isFinite(pct) ? pct.toFixed(1) + " %" : "–");
	g.classList.toggle("warn", pct > state.warn);
}

function renderHost(h, now) {
	const r = h.rec, e = h.el;
	if (r === null)
		return true;
	gauge(e.cpuGauge, e.cpuFill, e.cpuValue, r.cpu_usage);
	gauge(e.ramGauge, e.ramFill, e.ramValue, r.ram_percentage);
	setText(e.ramTotal, fmtMiB(r.ram_total));
	setText(e.ramUsed, fmtMiB(r.ram_used));
	setText(e.ramFree, fmtMiB(r.ram_free));
	setText(e.ramAvailable, fmtMiB(r.ram_available));
	setText(e.pTotal, String(r.total_processes));
	setText(e.pRunning, String(r.running_processes));
	setText(e.pSleeping, String(r.sleeping_processes));
	setText(e.pStopped, String(r.stopped_processes));
	setText(e.pZombie, String(r.zombie_processes));
	setText(e.ts, new Date(h.tsMs).toLocaleString());
	e.ts.dateTime = r.ts;
	setText(e.source, h.source === "" ? "(none)" : h.source);
	if (typeof Dygraph === "undefined")
		return true;
	if (now - h.chartAt < CHART_EVERY_MS)
		return false;
	h.chartAt = now;
	if (h.graph === null) {
		h.graph = new Dygraph(e.chart, h.points, {
			labels: ["time", "CPU %", "RAM %"],
			valueRange: [0, 100],
			legend: "never",
			colors: ["#2e86c1", "#8e44ad"],
			axisLabelFontSize: 11,
			strokeWidth: 1.5,
		});
	} else {
		h.graph.updateOptions({ file: h.points });
	}
	return true;
}

/* The clock's part: ages, staleness, rows/s, the split. */
function renderClock(now) {
	for (const h of state.hosts.values()) {
		if (h.rec === null)
			continue;
		const age = now - h.tsMs;
		setText(h.el.age, fmtAge(age));
		h.card.classList.toggle("stale", age > staleAfter(h));
	}
	const since = now - SPLIT_SECONDS * 1000;
	state.recent = state.recent.filter((x) => x.ts >= since && x.ts <= now +
	    60000);
	setText($("rate"), (state.recent.length / SPLIT_SECONDS).toFixed(1));
	const by = new Map();
	for (const x of state.recent)
		by.set(x.source, (by.get(x.source) || 0) + 1);
	const parts = [...by.entries()].sort((a, b) => b[1] - a[1]).map(
	    ([s, n]) => (s === "" ? "(none)" : s) + " " +
	    Math.round(100 * n / state.recent.length) + "%");
	setText($("split"), parts.length > 0 ? parts.join(" / ") : "–");
}

function render() {
	state.frame = 0;
	const now = Date.now();
	const left = new Set();
	for (const h of state.dirty)
		if (!renderHost(h, now))
			left.add(h);	/* its chart gets its turn later */
	state.dirty = left;
	renderClock(now);
	if (state.dirty.size > 0)
		setTimeout(schedule, CHART_EVERY_MS);
}

/* A host's firing alerts (--rule, --stale), as text; the header's count. */
function renderAlerts() {
	const by = new Map();
	for (const a of state.alerts.values()) {
		if (!by.has(a.host))
			by.set(a.host, []);
		by.get(a.host).push(a);
	}
	for (const name of by.keys())
		if (!state.hosts.has(name))
			newHost(name);
	for (const h of state.hosts.values()) {
		const list = (by.get(h.name) || []).sort((x, y) =>
		    x.rule < y.rule ? -1 : 1);
		const ul = h.el.alerts;
		while (ul.firstChild)
			ul.removeChild(ul.firstChild);
		for (const a of list) {
			const li = document.createElement("li");
			li.textContent = a.rule + (a.value !== null ?
			    " (" + a.value + ")" : "") + " since " +
			    new Date(Date.parse(a.since)).toLocaleTimeString();
			ul.appendChild(li);
		}
		h.card.classList.toggle("firing", list.length > 0);
	}
	$("alerts").dataset.n = String(state.alerts.size);
	setText($("nalerts"), String(state.alerts.size));
}

function takeAlert(a) {
	const key = a.host + "\0" + a.rule;
	if (a.state === "firing")
		state.alerts.set(key, a);
	else
		state.alerts.delete(key);
}

/* What fires now, once a stream is open; events keep it current. */
function loadAlerts() {
	fetch("alerts").then((r) => r.json()).then((list) => {
		state.alerts.clear();
		for (const a of list)
			takeAlert(a);
		renderAlerts();
	}).catch(() => {});
}

function setConn(s, text) {
	const el = $("conn");
	el.dataset.state = s;
	setText(el, text);
}

function setDb(up) {
	const el = $("db");
	el.dataset.state = up ? "up" : "down";
	setText(el, up ? "database up" : "database unavailable: showing the " +
	    "last rows seen");
}

function connect() {
	let url = "events?n=" + HISTORY_ROWS;
	/* a browser sends Last-Event-ID itself; a new EventSource cannot */
	if (state.lastId !== null)
		url = "events?after=" + encodeURIComponent(state.lastId);
	const es = new EventSource(url);
	state.es = es;
	es.onopen = () => {
		setConn("open", "connected");
		loadAlerts();
	};
	es.onerror = () => {
		if (es.readyState === EventSource.CLOSED) {
			setConn("lost", "connection lost: retrying");
			setTimeout(connect, 3000);
		} else {
			setConn("lost", "connection lost: reconnecting…");
		}
	};
	es.addEventListener("alert", (e) => {
		takeAlert(JSON.parse(e.data));
		renderAlerts();
	});
	es.addEventListener("status", (e) => {
		const s = JSON.parse(e.data);
		state.warn = s.warn;
		state.staleSeconds = s.stale_seconds;
		setDb(s.database === "up");
	});
	es.onmessage = (e) => {
		const nl = e.data.indexOf("\n");
		const rec = JSON.parse(nl < 0 ? e.data : e.data.slice(0, nl));
		const meta = nl < 0 ? {} : JSON.parse(e.data.slice(nl + 1));
		state.lastId = e.lastEventId;
		addRow(rec, typeof meta.source === "string" ? meta.source : "");
	};
}

/*
 * "?snapshot": the last rows and the firing alerts, fetched once, no
 * stream; a page that finishes loading, for a headless browser's
 * screenshot (make demo).
 */
function snapshot() {
	setConn("open", "snapshot");
	Promise.all([fetch("rows?n=" + HISTORY_ROWS).then((r) => r.json()),
	    fetch("hosts").then((r) => r.json())]).then(([rows]) => {
		for (const r of rows)
			addRow(r.record, r.source);
		setDb(true);
		loadAlerts();
	}).catch(() => setConn("lost", "snapshot failed"));
}

setInterval(() => renderClock(Date.now()), 1000);
if (new URLSearchParams(location.search).has("snapshot"))
	snapshot();
else
	connect();
