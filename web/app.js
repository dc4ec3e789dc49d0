/*
 * sm-tail --listen's dashboard (sm-tail(1), LISTEN): one EventSource on
 * /events, no polling.  Every value from the server reaches the page via
 * textContent (never innerHTML), so a host named "<img src=x
 * onerror=alert(1)>" shows as those characters.
 *
 * The charts cover a range kept in the URL: live (the last 10 minutes,
 * from the stream), ?range=1h ... 30d, or ?from=&to= (a custom range or a
 * drag-to-zoom); beyond live they read /history, one request per chart,
 * drawing each step's min-max band around its average.
 */
"use strict";

const HISTORY_ROWS = 1000;	/* rows asked for at first load */
const CHART_SECONDS = 600;	/* what the live charts cover */
const RANGES = {		/* the picker's ranges, ms */
	"1h": 3600e3, "6h": 6 * 3600e3, "24h": 86400e3,
	"7d": 7 * 86400e3, "30d": 30 * 86400e3,
};
const GAP_STEPS = 3;		/* no row for this many steps: a gap */
const HISTORY_AT_ONCE = 4;	/* /history requests in flight */
const REFRESH_MS = 60000;	/* a range up to now is asked for again */
const CHART_EVERY_MS = 1000;	/* a chart is redrawn at most this often */
const SPLIT_SECONDS = 60;	/* rows/s and the source split cover this */
const STALE_MIN_MS = 10000;	/* as lib/feed.h: FEED_STALE_MIN_MS */
const STALE_TIMES = 3;
const RECENT_ALERTS = 20;	/* the overview's list of recent alerts */
const CARDS_MAX = 12;		/* more hosts: the overview is a table */
const STRIP_CELLS = 60;		/* the table's CPU strip: 10 s a cell */

const state = {
	hosts: new Map(),	/* name -> host */
	warn: 75,
	staleSeconds: 0,	/* 0: from each host's interval */
	recent: [],		/* {ts, source} of the rows of the last minute */
	lastId: null,
	alerts: new Map(),	/* host + "\0" + rule -> firing alert event */
	/* host -> [{rule, since, fired, resolved, value}]: seen by the page */
	alertLog: new Map(),
	es: null,
	dirty: new Set(),
	frame: 0,
	view: { range: "live", from: 0, to: 0 },	/* from, to: ms */
	histQueue: [],		/* hosts waiting for their /history */
	histBusy: 0,
	histSeq: 0,		/* a new view's answers only */
	zooms: 0,		/* zooms that "back" can undo */
	hostView: null,		/* the host view's host, or null */
	detail: [],		/* the host view's charts (DETAIL) */
	detailData: [],		/* what they draw */
	sort: "name",		/* the hosts' order: a key of SORTS */
	filter: "",		/* shown: hosts whose name has this */
	layout: "auto",		/* the overview: auto, cards or table */
	placed: false,		/* the shown elements are in order */
	laidOut: true,		/* every host shown has its element */
};

/* The cards' orders, worst first: a host's figure, higher is worse. */
const SORTS = {
	name: null,
	cpu: (h) => h.rec === null ? -1 : h.rec.cpu_usage,
	ram: (h) => h.rec === null ? -1 : h.rec.ram_percentage,
	stale: (h, now) => h.rec === null ? -1 : now - h.tsMs,
	alerts: (h) => h.firing.length,
};

const $ = (id) => document.getElementById(id);

function setText(el, text) {
	if (el.textContent !== text)
		el.textContent = text;
}

const pad2 = (n) => String(n).padStart(2, "0");

/* Local time, 24-hour: "23:28:40". */
function fmtTime(ms) {
	const d = new Date(ms);
	return pad2(d.getHours()) + ":" + pad2(d.getMinutes()) + ":" +
	    pad2(d.getSeconds());
}

/* Local date, ISO: "2026-12-06". */
function fmtDate(ms) {
	const d = new Date(ms);
	return d.getFullYear() + "-" + pad2(d.getMonth() + 1) + "-" +
	    pad2(d.getDate());
}

/* The time, with the date unless it is today's. */
function fmtWhen(ms) {
	return fmtDate(ms) === fmtDate(Date.now()) ? fmtTime(ms) :
	    fmtDate(ms) + " " + fmtTime(ms);
}

/* The x axis' labels: the date at day ticks and midnight, else time. */
function fmtAxisTime(d, gran) {
	const G = Dygraph.Granularity || {};
	const ms = d.getTime();
	if (gran >= G.DAILY || (d.getHours() === 0 && d.getMinutes() === 0 &&
	    d.getSeconds() === 0 && gran >= G.HOURLY))
		return fmtDate(ms).slice(5);
	if (gran < G.MINUTELY)
		return fmtTime(ms);
	return fmtTime(ms).slice(0, 5);
}

/* "Europe/Berlin (UTC+01:00)": the zone the page's times are in. */
function zoneName() {
	const off = -new Date().getTimezoneOffset();
	const a = Math.abs(off);
	const utc = "UTC" + (off < 0 ? "-" : "+") + pad2(Math.floor(a / 60)) +
	    ":" + pad2(a % 60);
	let name = "";
	try {
		name = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
	} catch (e) {
		name = "";
	}
	return name !== "" && name !== "UTC" ? name + " (" + utc + ")" : utc;
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

/*
 * Host name, known from now on.  Its elements come when they are shown:
 * a card (ensureCard) in the card overview and the host's view, a table
 * row (ensureRow) in the table overview, so that 1,000 hosts cost 1,000
 * small rows, not 1,000 cards.
 */
function newHost(name) {
	const h = {
		name,
		card: null,	/* its card, once shown */
		el: null,	/* the card's parts */
		row: null,	/* its table row, once shown */
		r: null,	/* the row's parts */
		rec: null,
		source: "",
		tsMs: 0,
		intervalMs: 0,
		firing: [],	/* its firing alerts, by rule */
		points: [],	/* live: [ms, record], the last 10 min */
		hist: null,	/* the view's /history answer */
		histSeq: -1,	/* the view its /history is asked for */
		data: [],	/* what the chart draws, gaps as nulls */
		graph: null,
		chartAt: 0,
		onScreen: false,	/* its card near the viewport */
		rowOnScreen: false,	/* its row near the viewport */
		stripAt: 0,	/* when its row's strip was drawn */
		graphStale: false,	/* not drawn: away from it */
	};
	state.hosts.set(name, h);
	/* its element in the next frame: a burst of hosts is one layout */
	state.laidOut = false;
	setText($("nhosts"), String(state.hosts.size));
	schedule();
	return h;
}

/* A link to host name's view, as text. */
function hostLink(a, name) {
	a.textContent = name === "" ? "(no host)" : name;
	a.href = hostUrl(name);
	a.addEventListener("click", (ev) => {
		ev.preventDefault();
		openHost(name, true, true);
	});
}

/*
 * A copy of template id for host h: [the element, its parts], the parts
 * named by selector in parts besides the name, gauges, age, source and
 * alerts that a card and a row share.
 */
function fromTemplate(id, h, parts) {
	const el = $(id).content.firstElementChild.cloneNode(true);
	const out = {};
	const all = Object.assign({ name: ".name", cpuGauge: ".gauge.cpu",
	    cpuFill: ".gauge.cpu .fill", cpuValue: ".gauge.cpu .value",
	    ramGauge: ".gauge.ram", ramFill: ".gauge.ram .fill",
	    ramValue: ".gauge.ram .value", age: ".age", source: ".source",
	    alerts: ".alerts" }, parts);
	for (const [k, sel] of Object.entries(all))
		out[k] = el.querySelector(sel);
	hostLink(out.name, h.name);
	el.dataset.host = h.name;
	el.sm = h;
	onScreen.observe(el);
	return [el, out];
}

/* h's card, made the first time it is shown. */
function ensureCard(h) {
	if (h.card !== null)
		return;
	[h.card, h.el] = fromTemplate("host-card", h, {
		ramTotal: ".ram-total", ramUsed: ".ram-used",
		ramFree: ".ram-free", ramAvailable: ".ram-available",
		pTotal: ".p-total", pRunning: ".p-running",
		pSleeping: ".p-sleeping", pStopped: ".p-stopped",
		pZombie: ".p-zombie", chart: ".chart", ts: ".ts",
	});
	h.card.hidden = !visible(h);
	$("hosts").appendChild(h.card);
	renderAlertsOf(h);
	h.chartAt = 0;
	state.placed = false;
	state.dirty.add(h);
	schedule();
}

/* h's table row, made the first time the table shows it. */
function ensureRow(h) {
	if (h.row !== null)
		return;
	[h.row, h.r] = fromTemplate("host-row", h, { strip: "canvas",
	    procs: ".procs" });
	h.row.hidden = !shown(h);
	$("fleet-rows").appendChild(h.row);
	renderAlertsOf(h);
	state.placed = false;
	state.dirty.add(h);
	schedule();
}

/* Whether the overview is the table: many hosts, or asked for. */
function compact() {
	return state.hostView === null && (state.layout === "table" ||
	    state.layout === "auto" && state.hosts.size > CARDS_MAX);
}

/* The overview's form (cards or table) for the hosts known now. */
function showLayout() {
	const table = compact();
	state.laidOut = true;
	document.body.classList.toggle("compact", table);
	$("fleet").hidden = !table;
	$("hosts").hidden = table;
	for (const h of state.hosts.values())
		if (table)
			ensureRow(h);
		else if (visible(h))
			ensureCard(h);
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
	h.points.push([ts, rec]);
	if (h.points.length > 1 && ts < h.points[h.points.length - 2][0])
		h.points.sort((a, b) => a[0] - b[0]);
	const cut = Date.now() - CHART_SECONDS * 1000;
	while (h.points.length > 0 && h.points[0][0] < cut)
		h.points.shift();
	if (state.view.range !== "live" && h.hist === null && charted(h))
		wantHistory(h);
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
	const r = h.rec;
	if (r !== null && h.row !== null)
		renderRow(h, r, h.r);
	if (h.row !== null && h.rowOnScreen && compact() &&
	    now - h.stripAt >= CHART_EVERY_MS) {
		h.stripAt = now;
		drawStrip(h, now);
	}
	if (h.card === null)
		return true;
	if (r !== null)
		renderFigures(h, r, h.el);
	if (typeof Dygraph === "undefined" || !charted(h))
		return true;
	if (now - h.chartAt < CHART_EVERY_MS)
		return false;
	h.chartAt = now;
	drawChart(h, now);
	return true;
}

function renderFigures(h, r, e) {
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
	setText(e.ts, fmtWhen(h.tsMs));
	e.ts.dateTime = r.ts;
	setText(e.source, h.source === "" ? "(none)" : h.source);
}

/* A table row's figures. */
function renderRow(h, r, e) {
	gauge(e.cpuGauge, e.cpuFill, e.cpuValue, r.cpu_usage);
	gauge(e.ramGauge, e.ramFill, e.ramValue, r.ram_percentage);
	setText(e.procs, String(r.total_processes));
	setText(e.source, h.source === "" ? "(none)" : h.source);
}

/*
 * A row's strip: the last 10 minutes of CPU, a cell per 10 s coloured
 * from calm (low) to hot (high), the highest figure of the cell; a cell
 * with no row stays empty, so a silent host shows its silence.
 */
function drawStrip(h, now) {
	const c = h.r.strip;
	const w = c.width, ht = c.height, cell = w / STRIP_CELLS;
	const ctx = c.getContext("2d");
	const span = CHART_SECONDS * 1000, from = now - span;
	const top = new Array(STRIP_CELLS).fill(-1);
	for (const [t, r] of h.points) {
		const i = Math.floor((t - from) / span * STRIP_CELLS);
		if (i >= 0 && i < STRIP_CELLS && Number.isFinite(r.cpu_usage))
			top[i] = Math.max(top[i], r.cpu_usage);
	}
	ctx.clearRect(0, 0, w, ht);
	top.forEach((v, i) => {
		if (v < 0)
			return;
		const p = Math.min(100, Math.max(0, v)) / 100;
		ctx.fillStyle = "hsl(" + Math.round(200 - 200 * p) +
		    ", 70%, " + Math.round(55 - 10 * p) + "%)";
		ctx.fillRect(i * cell, 0, Math.max(1, cell - 1), ht);
	});
}

/*
 * rows ([Date, [min, avg, max], ...], in time order) with a null row
 * where no row came for GAP_STEPS steps: the step is stepMs or, when
 * larger, the usual distance between rows (their median).
 */
function withGaps(rows, stepMs) {
	if (rows.length < 2)
		return rows;
	const d = [];
	for (let i = 1; i < rows.length; i++)
		d.push(rows[i][0] - rows[i - 1][0]);
	d.sort((a, b) => a - b);
	const limit = GAP_STEPS * Math.max(stepMs, d[d.length >> 1]);
	const out = [rows[0]];
	for (let i = 1; i < rows.length; i++) {
		const a = rows[i - 1][0].getTime(), b = rows[i][0].getTime();
		if (b - a > limit)
			out.push([new Date((a + b) / 2),
			    ...rows[i].slice(1).map(() => null)]);
		out.push(rows[i]);
	}
	return out;
}

/* The range the charts cover now: [from, to], ms. */
function viewWindow(now) {
	if (state.view.range === "live")
		return [now - CHART_SECONDS * 1000, now];
	return [state.view.from, state.view.to];
}

const dark = () => window.matchMedia &&
    window.matchMedia("(prefers-color-scheme: dark)").matches;

/*
 * What h's chart of fields draws: [Date, [min, avg, max] or null per
 * field], gaps as nulls; live from the stream's rows, else from the
 * view's /history answer (none yet: no rows).
 */
function chartRows(h, fields) {
	if (state.view.range === "live")
		return withGaps(h.points.map(([t, r]) => [new Date(t),
		    ...fields.map((f) => Number.isFinite(r[f]) ?
		    [r[f], r[f], r[f]] : null)]), 0);
	return h.hist !== null ? historyRows(h.hist.ans, fields) : [];
}

const percentTicks = () => [0, 25, 50, 75, 100].map((v) =>
    ({ v, label: v + " %" }));

/*
 * A new chart in el, or g updated: rows over the view's window, each
 * series its average inside its min-max band; y: dygraphs' y axis options.
 */
function plot(g, el, rows, labels, colors, y, now, name) {
	const win = viewWindow(now);
	/* dygraphs wants one row at least */
	const file = rows.length > 0 ? rows : [[new Date(win[0]),
	    ...labels.map(() => null)]];
	if (g !== null) {
		g.updateOptions({ file, dateWindow: win });
		return g;
	}
	return new Dygraph(el, file, {
		labels: ["time", ...labels],
		customBars: true,
		valueRange: y.range,
		dateWindow: win,
		legend: "never",
		colors,
		gridLineColor: dark() ? "#3a4450" : "#d5dbdb",
		axisLabelFontSize: 11,
		strokeWidth: 1.5,
		axes: {
			x: { axisLabelFormatter: fmtAxisTime,
			    pixelsPerLabel: 80 },
			y: Object.assign({ axisLabelWidth: 50 }, y.axis),
		},
		zoomCallback: (lo, hi) => zoomed(lo, hi),
		underlayCallback: (ctx, area, dg) =>
		    shadeAlerts(name, ctx, area, dg),
	});
}

/*
 * Charts are drawn for the cards near the viewport only: 1,000 hosts
 * cost 1,000 cards, not 1,000 charts; a card scrolled to is drawn then.
 */
const onScreen = new IntersectionObserver((entries) => {
	for (const e of entries) {
		const h = e.target.sm;
		if (e.target === h.row) {
			h.rowOnScreen = e.isIntersecting;
			if (h.rowOnScreen) {
				h.stripAt = 0;
				state.dirty.add(h);
				schedule();
			}
			continue;
		}
		h.onScreen = e.isIntersecting;
		if (h.onScreen && h.graphStale) {
			h.chartAt = 0;
			state.dirty.add(h);
			schedule();
		}
	}
}, { rootMargin: "300px" });

function drawChart(h, now) {
	h.data = chartRows(h, ["cpu_usage", "ram_percentage"]);
	h.graphStale = !h.onScreen && h.name !== state.hostView;
	if (h.graphStale)
		return;
	h.graph = plot(h.graph, h.el.chart, h.data, ["CPU", "RAM"],
	    ["#2e86c1", "#8e44ad"], { range: [0, 100],
	    axis: { ticker: percentTicks } }, now, h.name);
	if (h.name === state.hostView)
		drawDetail(h, now);
}

/* The host view's charts: every field of the record. */
const DETAIL = [
	{ el: "c-ram", fields: ["ram_used", "ram_free", "ram_available"],
	    labels: ["used", "free", "available"],
	    colors: ["#8e44ad", "#27ae60", "#d68910"],
	    y: { range: [0, null], axis: { axisLabelFormatter: fmtMiB } } },
	{ el: "c-procs", fields: ["running_processes", "sleeping_processes",
	    "stopped_processes", "zombie_processes"],
	    labels: ["running", "sleeping", "stopped", "zombie"],
	    colors: ["#2e86c1", "#7f8c8d", "#d68910", "#c0392b"],
	    y: { range: [0, null], axis: {} } },
	{ el: "c-threads", fields: ["total_processes", "threads"],
	    labels: ["processes", "threads"],
	    colors: ["#2e86c1", "#16a085"],
	    y: { range: [0, null], axis: {} } },
];

function drawDetail(h, now) {
	DETAIL.forEach((c, i) => {
		const rows = chartRows(h, c.fields);
		state.detail[i] = plot(state.detail[i] || null, $(c.el), rows,
		    c.labels, c.colors, c.y, now, h.name);
		state.detailData[i] = rows;
	});
	renderAlertLog();
}

function redrawAll() {
	for (const h of state.hosts.values()) {
		h.chartAt = 0;
		state.dirty.add(h);
	}
	schedule();
}

/* The URL of host name's view, in the range shown now. */
function hostUrl(name) {
	const q = new URLSearchParams(location.search);
	q.delete("sort");
	q.delete("q");
	q.set("host", name);
	return location.pathname + "?" + q.toString();
}

/* Whether h's card is shown: the host view's host, or found. */
function visible(h) {
	return state.hostView !== null ? h.name === state.hostView : shown(h);
}

/*
 * Whether h's chart is drawn: on its card in the card overview, or in its
 * own view (the table has no charts, so asks for no /history).
 */
function charted(h) {
	return state.hostView === null ? !compact() :
	    h.name === state.hostView;
}

/*
 * Host name's view (null: the overview); push: in the browser's history;
 * keep: the range is the same, its answers still good.
 */
function openHost(name, push, keep) {
	if (push) {
		const q = new URLSearchParams(location.search);
		if (name === null)
			q.delete("host");
		const u = name !== null ? hostUrl(name) : location.pathname +
		    (q.toString() !== "" ? "?" + q.toString() : "");
		history.pushState(null, "", u);
	}
	state.hostView = name;
	for (const g of state.detail)
		if (g !== null)
			g.destroy();
	state.detail = [];
	state.detailData = [];
	document.body.classList.toggle("hostview", name !== null);
	$("detail").hidden = name === null;
	if (name !== null) {
		setText($("detail-name"), name === "" ? "(no host)" : name);
		if (!state.hosts.has(name))
			newHost(name);
	}
	showLayout();
	for (const h of state.hosts.values())
		if (h.card !== null)
			h.card.hidden = !visible(h);
	state.placed = false;
	setView(state.view, false, keep);
}

function shown(h) {
	return state.filter === "" ||
	    h.name.toLowerCase().includes(state.filter.toLowerCase());
}

/*
 * The shown elements (the table's rows or the cards) in state.sort's
 * order, worst first, else by name; only those out of place are moved.
 */
function placeHosts(now) {
	const table = compact();
	const key = SORTS[state.sort];
	const hs = [...state.hosts.values()].filter((h) =>
	    (table ? h.row : h.card) !== null).map((h) =>
	    [key ? key(h, now) : 0, h]);
	hs.sort((a, b) => b[0] - a[0] || (a[1].name < b[1].name ? -1 :
	    a[1].name > b[1].name ? 1 : 0));
	const box = table ? $("fleet-rows") : $("hosts");
	let at = box.firstElementChild;
	for (const [, h] of hs) {
		const el = table ? h.row : h.card;
		if (at === el)
			at = at.nextElementSibling;
		else
			box.insertBefore(el, at);
	}
	state.placed = true;
}

/* The sort and the filter: in the page's URL, not its history. */
function setListing(sort, filter, layout) {
	state.sort = Object.hasOwn(SORTS, sort) ? sort : "name";
	state.filter = filter;
	const was = compact();
	state.layout = ["cards", "table"].includes(layout) ? layout : "auto";
	showLayout();
	for (const h of state.hosts.values()) {
		if (h.card !== null)
			h.card.hidden = !visible(h);
		if (h.row !== null)
			h.row.hidden = !shown(h);
	}
	placeHosts(Date.now());
	const q = new URLSearchParams(location.search);
	q.delete("sort");
	q.delete("q");
	q.delete("layout");
	if (state.sort !== "name")
		q.set("sort", state.sort);
	if (filter !== "")
		q.set("q", filter);
	if (state.layout !== "auto")
		q.set("layout", state.layout);
	const u = location.pathname + (q.toString() !== "" ? "?" +
	    q.toString().replace(/=(&|$)/g, "$1") : "");
	history.replaceState(null, "", u);
	$("sort").value = state.sort;
	$("layout").value = state.layout;
	if (compact() !== was && !compact())
		setView(state.view, false, true);	/* the cards' charts */
	if ($("filter").value !== filter)
		$("filter").value = filter;
}

/* The clock's part: ages, staleness, rows/s, the split. */
function renderClock(now) {
	for (const h of state.hosts.values()) {
		if (h.rec === null)
			continue;
		const age = now - h.tsMs, stale = age > staleAfter(h);
		/* text changes cost a layout: on screen only */
		if (h.card !== null) {
			if (h.onScreen)
				setText(h.el.age, fmtAge(age));
			h.card.classList.toggle("stale", stale);
		}
		if (h.row !== null) {
			if (h.rowOnScreen)
				setText(h.r.age, fmtAge(age));
			h.row.classList.toggle("stale", stale);
		}
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
	if (!state.laidOut)
		showLayout();
	if (!state.placed)
		placeHosts(now);
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
		h.firing = (by.get(h.name) || []).sort((x, y) =>
		    x.rule < y.rule ? -1 : 1);
		renderAlertsOf(h);
	}
	$("alerts").dataset.n = String(state.alerts.size);
	setText($("nalerts"), String(state.alerts.size));
}

/* h's firing alerts on its card and its row. */
function renderAlertsOf(h) {
	const text = (a) => a.rule + (a.value !== null ? " (" + a.value +
	    ")" : "") + " since " + fmtWhen(Date.parse(a.since));
	if (h.card !== null) {
		const ul = h.el.alerts;
		while (ul.firstChild)
			ul.removeChild(ul.firstChild);
		for (const a of h.firing) {
			const li = document.createElement("li");
			li.textContent = text(a);
			ul.appendChild(li);
		}
		h.card.classList.toggle("firing", h.firing.length > 0);
	}
	if (h.row !== null) {
		setText(h.r.alerts, h.firing.map((a) => a.rule).join(", "));
		h.r.alerts.title = h.firing.map(text).join("\n");
		h.row.classList.toggle("firing", h.firing.length > 0);
	}
}

function takeAlert(a) {
	const key = a.host + "\0" + a.rule;
	if (a.state === "firing")
		state.alerts.set(key, a);
	else
		state.alerts.delete(key);
	logAlert(a);
}

/*
 * The alerts this page has seen fire or resolve, by host: shaded on the
 * host's charts from its start to its end, listed in the host's view and
 * in the recent ones.  Those of the stream, and those stored before
 * (sm-tail --keep-alerts: /alerts?from=), one entry per rule and start.
 */
function alertEntry(host, rule, since) {
	if (!state.alertLog.has(host))
		state.alertLog.set(host, []);
	const log = state.alertLog.get(host);
	let e = log.find((x) => x.rule === rule && x.since === since);
	if (e === undefined) {
		e = { host, rule, since, fired: null, resolved: null,
		    value: null, live: false };
		log.push(e);
	}
	return e;
}

function logAlert(a) {
	if (typeof a.host !== "string" || typeof a.rule !== "string")
		return;
	const since = Date.parse(a.since), at = Date.parse(a.ts);
	const e = alertEntry(a.host, a.rule, since);
	e.live = true;	/* its end, if any, comes through the stream */
	if (a.state === "firing") {
		e.fired = Number.isFinite(at) ? at : since;
		e.value = a.value;
	} else {
		e.resolved = Number.isFinite(at) ? at : Date.now();
	}
	alertChanged(a.host);
}

/* An alert of /alerts?from= (fired and resolved in one), into the log. */
function logStored(a) {
	const since = Date.parse(a.since), fired = Date.parse(a.fired),
	    resolved = a.resolved === null ? NaN : Date.parse(a.resolved);
	if (typeof a.host !== "string" || typeof a.rule !== "string" ||
	    !Number.isFinite(since))
		return;
	const e = alertEntry(a.host, a.rule, since);
	if (e.fired === null) {
		e.fired = Number.isFinite(fired) ? fired : since;
		e.value = a.value;
	}
	if (e.resolved === null && Number.isFinite(resolved))
		e.resolved = resolved;
}

/* Host name's charts and lists show its alerts anew. */
function alertChanged(name) {
	const h = state.hosts.get(name);
	if (h !== undefined) {
		h.chartAt = 0;
		state.dirty.add(h);
		schedule();
	}
	if (name === state.hostView)
		renderAlertLog();
	renderRecent();
}

/*
 * The stored alerts (/alerts?from=): of the host view's host in its
 * range, or the last RECENT_ALERTS across hosts; none stored, none shown.
 */
function loadStoredAlerts() {
	const q = new URLSearchParams();
	const name = state.hostView;
	if (name !== null) {
		const win = viewWindow(Date.now());
		q.set("from", new Date(win[0]).toISOString());
		q.set("to", new Date(Math.max(win[1], Date.now()) + 1000).
		    toISOString());
		q.set("host", name);
		q.set("limit", "1000");
	} else {
		q.set("from", "30d");
		q.set("limit", String(RECENT_ALERTS));
	}
	fetch("alerts?" + q.toString()).then((r) => r.ok ? r.json() : []).
	    then((list) => {
		const hosts = new Set();
		for (const a of list) {
			logStored(a);
			hosts.add(a.host);
		}
		for (const h of hosts)
			alertChanged(h);
		if (name !== null)
			renderAlertLog();
		renderRecent();
	}).catch(() => {});
}

/* The overview's newest RECENT_ALERTS alerts across hosts, as text. */
function renderRecent() {
	const ul = $("recent-log");
	const all = [];
	for (const log of state.alertLog.values())
		all.push(...log);
	all.sort((a, b) => (b.fired || b.since) - (a.fired || a.since));
	all.length = Math.min(all.length, RECENT_ALERTS);
	while (ul.firstChild)
		ul.removeChild(ul.firstChild);
	for (const e of all) {
		const li = document.createElement("li");
		li.className = alertClass(e);
		const a = document.createElement("a");
		hostLink(a, e.host);
		li.appendChild(a);
		li.appendChild(document.createTextNode(": " + alertText(e)));
		ul.appendChild(li);
	}
	setText($("recent-none"), all.length === 0 ? "none" : "");
}

/*
 * An alert stored without its end, and not firing now as far as this
 * page knows: its sm-tail stopped while it fired (a restart fires a new
 * one if the condition holds), so when it ended is not known.
 */
const unended = (e) => e.resolved === null && !e.live;

const alertClass = (e) => e.resolved !== null ? "resolved" : unended(e) ?
    "unended" : "firing";

/* An alert entry as one line: rule (value): since, fired, resolved. */
function alertText(e) {
	return e.rule + (e.value !== null && e.value !== undefined ? " (" +
	    e.value + ")" : "") + ": since " + fmtWhen(e.since) +
	    (e.fired !== null ? ", fired " + fmtWhen(e.fired) : "") +
	    (e.resolved !== null ? ", resolved " + fmtWhen(e.resolved) :
	    unended(e) ? ", end not recorded" : ", firing");
}

/* The host view's list of its alerts in the range, newest first. */
function renderAlertLog() {
	const ul = $("alert-log");
	while (ul.firstChild)
		ul.removeChild(ul.firstChild);
	const win = viewWindow(Date.now());
	const log = (state.alertLog.get(state.hostView) || []).filter((e) =>
	    e.since <= win[1] && (e.resolved === null || e.resolved >= win[0]));
	log.sort((a, b) => b.since - a.since);
	for (const e of log) {
		const li = document.createElement("li");
		li.className = alertClass(e);
		li.textContent = alertText(e);
		ul.appendChild(li);
	}
	setText($("alert-none"), log.length === 0 ? "none in this range" :
	    "");
}

/*
 * Shade host name's alerts on a chart: from since to resolved, now while
 * it fires, or when it fired if its end is not known.
 */
function shadeAlerts(name, ctx, area, g) {
	const log = state.alertLog.get(name);
	if (log === undefined)
		return;
	ctx.fillStyle = "rgba(192, 57, 43, 0.18)";
	for (const e of log) {
		const a = g.toDomXCoord(e.since),
		    b = g.toDomXCoord(e.resolved !== null ? e.resolved :
		    unended(e) ? e.fired || e.since : Date.now());
		const x = Math.max(area.x, a), w = Math.min(area.x + area.w, b) -
		    x;
		if (w > 0)
			ctx.fillRect(x, area.y, Math.max(w, 2), area.h);
	}
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

/*
 * Every host the server knows, with its newest row: those whose rows are
 * older than the stream's first 1000 get their card too.
 */
function loadHosts() {
	fetch("hosts").then((r) => r.json()).then((list) => {
		for (const x of list) {
			const r = x.record;
			if (r === null || typeof r !== "object" ||
			    state.hosts.has(x.host) && state.hosts.get(x.host).
			    rec !== null)
				continue;
			const h = state.hosts.get(x.host) || newHost(x.host);
			h.rec = r;
			h.source = typeof x.source === "string" ? x.source : "";
			h.tsMs = Date.parse(r.ts);
			h.intervalMs = 1000 * (x.interval_seconds || 0);
			if (state.view.range !== "live" && charted(h))
				wantHistory(h);
			state.dirty.add(h);
		}
		schedule();
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
		loadStoredAlerts();
		loadHosts();
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

/* The view the URL asks for: ?range=6h, ?from=&to= (ISO), or live. */
function parseView(search) {
	const q = new URLSearchParams(search);
	const r = q.get("range");
	const now = Date.now();
	if (r !== null && Object.hasOwn(RANGES, r))
		return { range: r, from: now - RANGES[r], to: now };
	const from = Date.parse(q.get("from") || ""),
	    to = Date.parse(q.get("to") || "");
	if (Number.isFinite(from) && Number.isFinite(to) && from < to)
		return { range: "custom", from, to };
	return { range: "live", from: 0, to: 0 };
}

/* The URL of view v, the page's other parameters kept. */
function viewUrl(v) {
	const q = new URLSearchParams(location.search);
	q.delete("range");
	q.delete("from");
	q.delete("to");
	if (v.range === "custom") {
		q.set("from", new Date(v.from).toISOString());
		q.set("to", new Date(v.to).toISOString());
	} else if (v.range !== "live") {
		q.set("range", v.range);
	}
	const s = q.toString().replace(/=(&|$)/g, "$1");
	return location.pathname + (s !== "" ? "?" + s : "");
}

/* The custom range's fields: local "2026-12-06 23:28". */
function localInput(ms) {
	return fmtDate(ms) + " " + fmtTime(ms).slice(0, 5);
}

/* "2026-12-06 23:28" (or with :ss), local time, as ms; NaN if not that. */
function parseLocal(text) {
	const m = /^\s*(\d{4})-(\d\d)-(\d\d)[ T](\d\d):(\d\d)(?::(\d\d))?\s*$/.
	    exec(text);
	if (m === null)
		return NaN;
	return new Date(+m[1], m[2] - 1, +m[3], +m[4], +m[5], +(m[6] || 0)).
	    getTime();
}

function showView() {
	const v = state.view;
	document.body.dataset.range = v.range;
	for (const b of document.querySelectorAll("#ranges button"))
		b.setAttribute("aria-pressed", String(b.dataset.range ===
		    v.range));
	const win = viewWindow(Date.now());
	$("from").value = localInput(win[0]);
	$("to").value = localInput(win[1]);
	$("back").disabled = state.zooms === 0;
	setText($("span"), v.range === "live" ? "live: the last 10 min" :
	    fmtDate(win[0]) + " " + fmtTime(win[0]).slice(0, 5) + " to " +
	    fmtDate(win[1]) + " " + fmtTime(win[1]).slice(0, 5));
}

/*
 * Show view v; push: a new entry in the browser's history; keep: the
 * charts keep what they show until the new answers come (a refresh).
 */
function setView(v, push, keep) {
	state.view = v;
	if (push)
		history.pushState(null, "", viewUrl(v));
	state.histSeq++;
	state.histQueue = [];
	for (const h of state.hosts.values()) {
		if (!keep)
			h.hist = null;
		if (v.range !== "live" && charted(h))
			wantHistory(h);
	}
	showView();
	redrawAll();
	loadStoredAlerts();
}

/* A range up to now (1 h ... 30 d) moves on: asked for again. */
function refreshView() {
	if (state.view.range in RANGES && state.histQueue.length === 0 &&
	    state.histBusy === 0)
		setView(parseView("?range=" + state.view.range), false, true);
}

/* A drag on a chart: that span, from /history; a double click: back. */
function zoomed(lo, hi) {
	const win = viewWindow(Date.now());
	if (hi - lo >= 0.99 * (win[1] - win[0])) {
		goBack();
		return;
	}
	state.zooms++;
	setView({ range: "custom", from: Math.round(lo), to: Math.round(hi) },
	    true);
}

function goBack() {
	if (state.zooms > 0) {
		history.back();	/* popstate shows it */
		return;
	}
	redrawAll();
}

function wantHistory(h) {
	if (h.histSeq === state.histSeq)
		return;		/* asked for already */
	h.histSeq = state.histSeq;
	state.histQueue.push(h);
	pumpHistory();
}

function pumpHistory() {
	while (state.histBusy < HISTORY_AT_ONCE && state.histQueue.length > 0)
		loadHistory(state.histQueue.shift());
}

/*
 * The rows of one /history answer for the chart: one per step, the
 * sources of a step merged (lowest min, highest max, average by
 * samples), then gaps.
 */
function historyRows(ans, fields) {
	const by = new Map();
	for (const p of ans.points) {
		const t = Date.parse(p.ts);
		const n = p.samples > 0 ? p.samples : 1;
		let r = by.get(t);
		if (r === undefined) {
			r = { t, n: 0, v: fields.map(() => null) };
			by.set(t, r);
		}
		fields.forEach((f, i) => {
			const x = p[f];
			if (x === null || x === undefined)
				return;
			const min = Number(x.min), avg = Number(x.avg),
			    max = Number(x.max);
			const o = r.v[i];
			r.v[i] = o === null ? [min, avg, max, n] :
			    [Math.min(o[0], min), (o[1] * o[3] + avg * n) /
			    (o[3] + n), Math.max(o[2], max), o[3] + n];
		});
	}
	const rows = [...by.values()].sort((a, b) => a.t - b.t).map((r) =>
	    [new Date(r.t), ...r.v.map((x) => x === null ? null :
	    x.slice(0, 3))]);
	return withGaps(rows, ans.step_ms > 0 ? ans.step_ms : 0);
}

function loadHistory(h) {
	const seq = state.histSeq, v = state.view;
	const q = new URLSearchParams({ host: h.name,
	    from: new Date(v.from).toISOString(),
	    to: new Date(v.to).toISOString() });
	state.histBusy++;
	fetch("history?" + q.toString()).then((r) => r.json()).then((ans) => {
		if (seq !== state.histSeq)
			return;
		if (!Array.isArray(ans.points))
			throw new Error(ans.error || "no points");
		h.hist = { ans, step: ans.step_ms, tier: ans.tier };
		h.chartAt = 0;
		state.dirty.add(h);
		schedule();
	}).catch((e) => {
		if (seq === state.histSeq)
			setText($("span"), "history: " + e.message);
	}).finally(() => {
		state.histBusy--;
		pumpHistory();
	});
}

function setupRanges() {
	for (const b of document.querySelectorAll("#ranges button"))
		b.addEventListener("click", () => {
			state.zooms = 0;
			setView(parseView(b.dataset.range === "live" ? "" :
			    "?range=" + b.dataset.range), true);
		});
	$("custom").addEventListener("submit", (e) => {
		e.preventDefault();
		const from = parseLocal($("from").value),
		    to = parseLocal($("to").value);
		if (!(from < to)) {
			setText($("span"), "want from < to, as " +
			    "2026-12-06 23:28");
			return;
		}
		setView({ range: "custom", from, to }, true);
	});
	$("back").addEventListener("click", goBack);
	window.addEventListener("popstate", () => {
		if (state.zooms > 0)
			state.zooms--;
		state.view = parseView(location.search);
		openHost(new URLSearchParams(location.search).get("host"),
		    false, false);
	});
	$("all").addEventListener("click", (ev) => {
		ev.preventDefault();
		openHost(null, true, true);
	});
	setText($("tz"), "times in " + zoneName());
	const q = new URLSearchParams(location.search);
	$("sort").addEventListener("change", () =>
	    setListing($("sort").value, state.filter, state.layout));
	$("filter").addEventListener("input", () =>
	    setListing(state.sort, $("filter").value, state.layout));
	$("layout").addEventListener("change", () =>
	    setListing(state.sort, state.filter, $("layout").value));
	for (const th of document.querySelectorAll("#fleet [data-sort]"))
		th.addEventListener("click", () =>
		    setListing(th.dataset.sort, state.filter, state.layout));
	setListing(q.get("sort") || "name", q.get("q") || "",
	    q.get("layout") || "auto");
}

setInterval(() => {
	renderClock(Date.now());
	if (state.sort !== "name")
		placeHosts(Date.now());
}, 1000);
setInterval(refreshView, REFRESH_MS);
setupRanges();
state.view = parseView(location.search);
openHost(new URLSearchParams(location.search).get("host"), false, false);
if (new URLSearchParams(location.search).has("snapshot"))
	snapshot();
else
	connect();
