-- wrk script for bench/http_codes.py: POST issue or redeem requests, one item per request.
-- Environment: CODES_MODE (issue | redeem), CODES_FILE (issue: "token card_id" per line;
-- redeem: one code per line), CODES_FLOOR=1 (redeem codes are generated: 29 + thread + counter,
-- matching the rows the benchmark put in floor_code), CODES_THREADS, CODES_DELAY_MS (mean pause
-- per connection before each request, drawn uniformly from 0 to twice the mean so that the
-- connections do not march in step; 0 = as fast as possible), CODES_STAFF_TOKEN (the POS login).
local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  mode = os.getenv("CODES_MODE")
  floor = os.getenv("CODES_FLOOR") == "1"
  delay_ms = tonumber(os.getenv("CODES_DELAY_MS") or "0")
  staff = "Bearer " .. (os.getenv("CODES_STAFF_TOKEN") or "")
  local count = tonumber(os.getenv("CODES_THREADS"))
  items = {}
  local line_number = 0
  for line in io.lines(os.getenv("CODES_FILE")) do
    if line_number % count == id then
      table.insert(items, line)
    end
    line_number = line_number + 1
  end
  index = 0
  math.randomseed(os.time() * 100 + id)
end

function delay()
  if delay_ms == 0 then
    return 0
  end
  return math.random(0, 2 * delay_ms)
end

function request()
  index = index + 1
  if mode == "issue" then
    local token, card = items[(index - 1) % #items + 1]:match("(%S+) (%S+)")
    local headers = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token }
    return wrk.format("POST", "/api/v1/codes/payment", headers, '{"card_id":"' .. card .. '"}')
  end
  local code
  if floor then
    code = string.format("29%02d%014d", id, index)
  else
    code = items[index] or "290000000000000000"
  end
  local headers = { ["Content-Type"] = "application/json", ["Authorization"] = staff }
  return wrk.format("POST", "/api/v1/codes/redeem", headers, '{"code":"' .. code .. '","amount_fen":100}')
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'RESULT {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"non2xx":%d,"socket_errors":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), errors.status,
    errors.connect + errors.read + errors.write + errors.timeout))
end
