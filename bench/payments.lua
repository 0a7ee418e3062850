-- wrk script for bench/payments.py: one bill payment per request, each line of PAY_FILE used once
-- ("token card_id bill_number"), split between wrk's threads by line number. The same script
-- drives MedCard and the floor app (same URL and body). Environment: PAY_FILE, PAY_THREADS.
local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  local count = tonumber(os.getenv("PAY_THREADS"))
  items = {}
  local line_number = 0
  for line in io.lines(os.getenv("PAY_FILE")) do
    if line_number % count == id then
      table.insert(items, line)
    end
    line_number = line_number + 1
  end
  index = 0
  lines = #items
end

function request()
  index = index + 1
  local token, card, bill = items[(index - 1) % #items + 1]:match("(%S+) (%S+) (%S+)")
  local headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
    ["Idempotency-Key"] = "bench-" .. bill,
  }
  return wrk.format("POST", "/api/v1/settlement/orders", headers,
    '{"card_id":"' .. card .. '","bill_number":"' .. bill .. '"}')
end

-- "reused": requests sent after a thread ran out of lines (a bill paid again: a replay, not a
-- payment); the benchmark refuses a run with any.
function done(summary, latency, requests)
  local errors = summary.errors
  local reused = 0
  for _, thread in ipairs(threads) do
    reused = reused + math.max(0, thread:get("index") - thread:get("lines"))
  end
  io.write(string.format(
    'RESULT {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"non2xx":%d,"socket_errors":%d,"reused":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), errors.status,
    errors.connect + errors.read + errors.write + errors.timeout, reused))
end
