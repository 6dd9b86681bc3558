-- wrk script for bench_http_post: every request POSTs one observation (a real fire report of
-- the minsk-2015 scenario) with its own client id: RUN-THREAD-N, RUN from the first argument;
-- the second argument is the bearer token of a user allowed to post (monitor or admin).
local tmpl = '{"type":"Feature","geometry":null,"properties":{"kind":"fire","client_id":"%s",' ..
  '"time":"2016-10-11T10:00:00Z","means":"patrol","observer":{"place":"Avdiivka"},' ..
  '"event_type":"shot","count":1}}'
local threads = 0
function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end
local run = "run"
local headers = {["Content-Type"] = "application/json"}
local n = 0
function init(args)
  if args[1] then run = args[1] end
  if args[2] then headers["Authorization"] = "Bearer " .. args[2] end
end
function request()
  n = n + 1
  local body = string.format(tmpl, run .. "-" .. tid .. "-" .. n)
  return wrk.format("POST", "/api/v1/observations", headers, body)
end
local bad = 0
function response(status, headers, body)
  if status ~= 200 then bad = bad + 1 end
end
