-- One wrk script for every HTTP scenario of bench/src/http.rs; the scenario and the seeded sizes
-- come from the environment, so each request picks its target the way the pgbench script of the
-- same name picks its parameters.
--   SCENARIO  get | list_project | list_deep | list_molecule | list_atom | search | list_runs |
--             create | patch | execute | patch_run | analytics_summary | analytics_molecules |
--             analytics_atoms | analytics_runs
--   TOKEN     an API token; WORKFLOWS, RUNS: the seeded sizes (ids 1..N, see bench/seed.sql)
local scenario = os.getenv("SCENARIO")
local token = os.getenv("TOKEN")
local workflows = tonumber(os.getenv("WORKFLOWS"))
local runs = tonumber(os.getenv("RUNS"))
local base = "/api/workflows"
local auth = { ["Authorization"] = "Token " .. token }
local json = { ["Authorization"] = "Token " .. token, ["Content-Type"] = "application/json" }
local counter = 0
local projects = 100
-- A project holds every 100th workflow; its deepest page of 20:
local last_page = math.max(1, math.floor(workflows / projects / 20))

-- Everyone's runs, 20 a page: the pages of the list's middle half, at least a quarter of the
-- list from either end (so 500 entries or more: started from their day, finding 35).
local run_pages = math.max(1, math.floor(runs / 20))

local create_body = [[{"project_id": %d, "project_name": "Project %d", "name": "Bench %d %d",
 "app_name": "Lab", "molecules_used": ["m-1", "m-2", "m-3"],
 "atoms_in_molecules": {"m-1": ["a-1"], "m-2": ["a-2", "b-2"], "m-3": ["a-3"]},
 "dag_spec": {"nodes": [{"id": "m-1"}, {"id": "m-2"}, {"id": "m-3"}],
              "edges": [{"source": "m-1", "target": "m-2"}, {"source": "m-2", "target": "m-3"}]}}]]

-- Seeded workflows with id % 10 == 0 are inactive, and execute answers 409 for them.
local function active_workflow()
  return 10 * math.random(0, math.floor(workflows / 10) - 1) + math.random(1, 9)
end

-- Seeded runs with id % 20 >= 4 are successful, where a PATCH of result_data is always allowed.
local function finished_run()
  return 20 * math.random(0, math.floor(runs / 20) - 1) + math.random(4, 19)
end

local builders = {
  get = function()
    return wrk.format("GET", base .. "/workflows/" .. math.random(1, workflows) .. "/", auth)
  end,
  list_project = function()
    return wrk.format("GET", base .. "/workflows/?project_id=" .. math.random(1, projects), auth)
  end,
  list_deep = function()
    return wrk.format("GET", base .. "/workflows/?project_id=" .. math.random(1, projects)
      .. "&page=" .. math.random(math.max(1, math.floor(last_page / 2)), last_page), auth)
  end,
  list_molecule = function()
    return wrk.format("GET", base .. "/workflows/?molecule=m-" .. math.random(0, 499), auth)
  end,
  list_atom = function()
    return wrk.format("GET", base .. "/workflows/?atom=a-" .. (16 * math.random(0, 249) + math.random(0, 7)), auth)
  end,
  search = function()
    return wrk.format("GET", base .. "/workflows/?search=team+" .. math.random(10, 49), auth)
  end,
  list_runs = function()
    return wrk.format("GET", base .. "/runs/?page="
      .. math.random(math.max(1, math.floor(run_pages / 4)), math.max(1, math.floor(run_pages * 3 / 4))), auth)
  end,
  create = function()
    counter = counter + 1
    local project = math.random(1, projects)
    return wrk.format("POST", base .. "/workflows/", json,
      string.format(create_body, project, project, math.random(1, 1000000000), counter))
  end,
  patch = function()
    counter = counter + 1
    return wrk.format("PATCH", base .. "/workflows/" .. math.random(1, workflows) .. "/", json,
      '{"description": "Benchmarked ' .. counter .. '"}')
  end,
  execute = function()
    return wrk.format("POST", base .. "/workflows/" .. active_workflow() .. "/execute/", auth)
  end,
  patch_run = function()
    counter = counter + 1
    return wrk.format("PATCH", base .. "/runs/" .. finished_run() .. "/", json,
      '{"result_data": {"rows": ' .. counter .. '}}')
  end,
}

-- Each analytics endpoint, for one random project.
for _, endpoint in ipairs({ "summary", "molecules", "atoms", "runs" }) do
  builders["analytics_" .. endpoint] = function()
    return wrk.format("GET", base .. "/analytics/" .. endpoint .. "/?project_id="
      .. math.random(1, projects), auth)
  end
end

local build = builders[scenario]
if build == nil then
  error("unknown SCENARIO " .. tostring(scenario))
end

local threads = {}
function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(os.time() * 1000 + id)
end

request = build

-- wrk 4 does not report the latencies it recorded. Before reporting, it corrects them for
-- coordinated omission (stats_correct in its stats.c): with e = duration / (requests per
-- connection), every recorded latency n >= 2e also counts as n - e, n - 2e, ... down to just above
-- e, the requests a client sending at a fixed pace would have queued behind it. Our clients are
-- closed loops of 32 or 256 connections that wait, as the targets' "p99 at 32 connections"
-- means; and the correction turns one 1 s pause into thousands of samples, enough to move the p99
-- (finding 21). So the recorded histogram is recovered by undoing exactly that: from the top
-- down, a bucket's own count is what it holds less the counts of the buckets e, 2e, ... above it.
-- wrk's own p99 is reported beside it.
local function recorded_latencies(latency, summary)
  local connections = tonumber(os.getenv("CONNECTIONS"))
  if connections == nil then
    error("CONNECTIONS (wrk's -c) is needed to undo wrk's correction")
  end
  local per_connection = math.floor(summary.requests / connections)
  local interval = per_connection > 0 and math.floor(summary.duration / per_connection) or nil
  local buckets = {} -- { micros, count }, from the highest latency down
  local above = {} -- per residue mod interval: the recorded counts at m + interval, m + 2 interval, ...
  local count = 0
  -- latency(i) is the i-th non-empty bucket, lowest first: its latency and its count.
  for i = #latency, 1, -1 do
    local micros, held = latency(i)
    local own = held
    if interval ~= nil then
      local slot = micros % interval
      local later = above[slot] or 0
      if micros > interval then
        own = held - later
      end
      above[slot] = own + later
    end
    if own < 0 then
      error(string.format("undoing wrk's correction left %d samples at %d us", own, micros))
    end
    if own > 0 then
      buckets[#buckets + 1] = { micros, own }
      count = count + own
    end
  end
  -- Every answer was recorded once unless it took longer than --timeout; a mismatch means wrk's
  -- correction is not the one undone above.
  if count > summary.requests or (summary.errors.timeout == 0 and count ~= summary.requests) then
    error(string.format("%d latencies recovered for %d requests", count, summary.requests))
  end
  return buckets, count
end

-- wrk's percentile rule (stats_percentile), on the recovered histogram.
local function percentile(buckets, count, p)
  local rank = math.floor(p / 100 * count + 1)
  local seen = 0
  for i = #buckets, 1, -1 do
    seen = seen + buckets[i][2]
    if seen >= rank then
      return buckets[i][1]
    end
  end
  return 0
end

-- One JSON line that bench/src/http.rs reads; latencies in microseconds, as recorded (see above),
-- except wrk_p99, wrk's corrected figure.
function done(summary, latency, requests)
  local buckets, count = recorded_latencies(latency, summary)
  local total = 0
  for _, bucket in ipairs(buckets) do
    total = total + bucket[1] * bucket[2]
  end
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "p50": %d, "p99": %d, "p999": %d, "max": %d, '
    .. '"mean": %.1f, "wrk_p99": %d, "socket_errors": %d, "status_errors": %d, "timeouts": %d}\n',
    summary.requests, summary.duration / 1e6, percentile(buckets, count, 50),
    percentile(buckets, count, 99), percentile(buckets, count, 99.9), latency.max,
    count > 0 and total / count or 0, latency:percentile(99),
    e.connect + e.read + e.write, e.status, e.timeout))
end
