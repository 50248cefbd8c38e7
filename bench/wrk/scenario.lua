-- One wrk script for every HTTP scenario of bench/src/http.rs; the scenario and the seeded sizes
-- come from the environment, so each request picks its target the way the pgbench script of the
-- same name picks its parameters.
--   SCENARIO  get | list_project | list_deep | list_molecule | list_atom | search | create |
--             patch | execute | patch_run | analytics_summary | analytics_molecules |
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

-- One JSON line that bench/src/http.rs reads; latencies in microseconds.
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "p50": %d, "p99": %d, "p999": %d, "mean": %.1f, '
    .. '"socket_errors": %d, "status_errors": %d, "timeouts": %d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(99),
    latency:percentile(99.9), latency.mean, e.connect + e.read + e.write, e.status, e.timeout))
end
