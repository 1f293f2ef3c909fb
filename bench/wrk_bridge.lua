-- wrk script: sends each pre-signed request of a file once, then reports one JSON line.
-- Usage: wrk ... -s bench/wrk_bridge.lua URL -- REQUESTS_FILE PATH NTHREADS [cycle]
-- REQUESTS_FILE has one request per line: timestamp TAB signature TAB body (signature may be empty).
-- Thread k of n takes lines k, k+n, k+2n, ... so every msg_id is sent exactly once; a thread that runs
-- out asks for /__exhausted__ (a 404, counted in "exhausted" and as a status error) instead of repeating.
-- With "cycle" (the bare endpoint, where repeats do not matter) each thread loops over its lines.

local threads = {}
local next_id = 1

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

local reqs = {}
local i = 0
local cycle = false
exhausted = 0

function init(args)
  local file, path, n = args[1], args[2], tonumber(args[3])
  cycle = args[4] == "cycle"
  local id = wrk.thread:get("id")
  local lineno = 0
  for line in io.lines(file) do
    if lineno % n == id - 1 then
      local ts, sig, body = line:match("^([^\t]*)\t([^\t]*)\t(.*)$")
      local headers = { ["Content-Type"] = "application/json" }
      if sig ~= "" then
        headers["X-Tuanbot-Timestamp"] = ts
        headers["X-Tuanbot-Signature"] = sig
      end
      reqs[#reqs + 1] = wrk.format("POST", path, headers, body)
    end
    lineno = lineno + 1
  end
end

function request()
  i = i + 1
  if i > #reqs and cycle then
    i = 1
  elseif i > #reqs then
    exhausted = exhausted + 1
    return wrk.format("GET", "/__exhausted__")
  end
  return reqs[i]
end

function done(summary, latency, requests)
  local out = 0
  for _, t in ipairs(threads) do
    out = out + (t:get("exhausted") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "bytes": %d, "connect_errors": %d, "read_errors": %d, '
      .. '"write_errors": %d, "status_errors": %d, "timeouts": %d, "exhausted": %d, '
      .. '"p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout, out,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
