-- wrk script for bench_http_post's realistic mix: every request POSTs one observation from an
-- NDJSON file made by `truce simulate` (patrols, cameras, sensors, UAV and satellite reports of
-- many events, with bearings, distances and noise), taken in turn, each thread from its own
-- offset, with its own client id: RUN-THREAD-N. Arguments: RUN, the bearer token of a user
-- allowed to post (monitor or admin), and the NDJSON file.
local threads = 0
function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end
local run = "run"
local headers = {["Content-Type"] = "application/json"}
local lines = {}
local n = 0
function init(args)
  if args[1] then run = args[1] end
  if args[2] then headers["Authorization"] = "Bearer " .. args[2] end
  local f = assert(io.open(args[3] or "", "r"), "post_mix.lua: cannot open the NDJSON file")
  for l in f:lines() do
    if l:find('"client_id":"', 1, true) then lines[#lines + 1] = l end
  end
  f:close()
  assert(#lines > 0, "post_mix.lua: no records with a client_id in the file")
  n = tid * 7919 -- threads start far apart in the file
end
function request()
  n = n + 1
  local l = lines[(n % #lines) + 1]
  local body = l:gsub('"client_id":"[^"]*"', '"client_id":"' .. run .. "-" .. tid .. "-" .. n .. '"', 1)
  return wrk.format("POST", "/api/v1/observations", headers, body)
end
local bad = 0
function response(status, headers, body)
  if status ~= 200 then bad = bad + 1 end
end
