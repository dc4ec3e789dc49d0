-- wrk script for bench/store-http.sh: each request POSTs one canonical
-- record with an id of its own (run stamp, thread, counter), so every
-- request is a new row, as sm-post sends them.
local threads = {}
local counter = 0
-- "tid" is a global: thread:set() gives each thread its own

local stamp = os.time() % 4294967296
-- BENCH_TS (bench/history-bench.sh): the sample time of every record
local ts = os.getenv("BENCH_TS") or "2026-11-26T15:12:53.123Z"
-- STOP_AFTER (bench/store-profile.sh): each thread stops after so many
-- answers, for a fixed number of requests
local stop_after = tonumber(os.getenv("STOP_AFTER") or "0")
local answers = 0

function setup(thread)
	thread:set("tid", #threads + 1)
	table.insert(threads, thread)
end

function init(args)
	wrk.headers["Content-Type"] = "application/json"
end

-- BENCH_WIRE=es (bench/store-http.sh --express): the replaced system's
-- record, Spanish keys and no id, as its APIs took it
local wire_es = os.getenv("BENCH_WIRE") == "es"
local body_es = '{"total_ram":3913,"ram_libre":2413,"uso_ram":1300,' ..
    '"porcentaje_ram":33.22,"porcentaje_cpu_uso":12.5,' ..
    '"porcentaje_cpu_libre":87.5,"procesos_corriendo":1,' ..
    '"total_procesos":113,"procesos_durmiendo":112,"procesos_zombie":0,' ..
    '"procesos_parados":0,"hora":"2026-11-26 15:12:53"}'

function request()
	if wire_es then
		return wrk.format("POST", "/metrics", nil, body_es)
	end
	counter = counter + 1
	local c = counter
	local id = string.format("%08x-%04x-7%03x-8%03x-%012x", stamp, tid,
	    math.floor(c / 16777216) % 4096, math.floor(c / 4096) % 4096,
	    c % 4096)
	local body = '{"id":"' .. id .. '","ts":"' .. ts .. '",' ..
	    '"host":"bench","collector":"procfs","cpu_usage":12.5,' ..
	    '"cpu_free":87.5,"ram_total":3913,"ram_free":2413,' ..
	    '"ram_available":2613,"ram_used":1300,"ram_percentage":33.22,' ..
	    '"total_processes":113,"running_processes":1,' ..
	    '"sleeping_processes":112,"stopped_processes":0,' ..
	    '"zombie_processes":0}'
	return wrk.format("POST", "/metrics", nil, body)
end

if stop_after > 0 then
	function response(status, headers, body)
		answers = answers + 1
		if answers >= stop_after then
			wrk.thread:stop()
		end
	end
end

function done(summary, latency, requests)
	io.write(string.format("BENCH requests=%d errors_status=%d " ..
	    "errors_connect=%d errors_timeout=%d p50_us=%d p99_us=%d " ..
	    "duration_us=%d\n", summary.requests, summary.errors.status,
	    summary.errors.connect, summary.errors.timeout,
	    latency:percentile(50), latency:percentile(99),
	    summary.duration))
end
