"""wrk Lua scripts for the scimd benchmarks, generated with the seeded data set embedded.

Every script reports through done() one line `RESULT {json}` with the request count, duration,
latency percentiles (microseconds) and wrk's error counters.
"""

import json

import bench_common as bc

_COMMON = r"""
local N = %(n)d
local FIRST = %(first)s
local LAST = %(last)s
wrk.headers["Authorization"] = "Bearer %(token)s"
wrk.headers["Accept"] = "application/scim+json"

local function code(q)
  local s = ""
  for _, d in ipairs({17576, 676, 26, 1}) do
    s = s .. string.char(97 + math.floor(q / d) %% 26)
  end
  return s
end

local function enc(s)
  return (s:gsub("[^%%w%%-%%._~]", function(c) return string.format("%%%%%%02X", string.byte(c)) end))
end

local function user(i)
  local given = FIRST[(i %% 40) + 1]
  local family = LAST[(i %% 100) + 1] .. "-" .. code(math.floor(i / 100))
  return {
    i = i,
    userName = "User" .. i .. "@example.com",
    externalId = "hr-" .. i,
    given = given,
    family = family,
    work = string.lower(given .. "." .. family) .. "@example.com",
    home = "u" .. i .. "@home.example.net",
  }
end

local function hashed_id(n, variant)
  local h = (n * 2654435761) %% 4294967296  -- exact in doubles for n < 3.4e6
  return string.format("%%08x-0000-4000-%%s000-%%012x", h, variant, n)
end

local threads = {}
local counter = 0
setup = function(thread)
  counter = counter + 1
  thread:set("tid", counter)
  table.insert(threads, thread)
end

init = function(args)
  math.randomseed(tid * 7919 + os.time())
  n_req = 0
end

done = function(summary, latency, requests)
  local extra = ""
  for _, t in ipairs(threads) do
    extra = extra .. "," .. (t:get("n_req") or 0)
  end
  io.write(string.format(
    "RESULT {\"requests\":%%d,\"duration_us\":%%d,\"bytes\":%%d,\"p50\":%%d,\"p90\":%%d,\"p99\":%%d,\"max\":%%d,\"mean\":%%.1f," ..
    "\"err_connect\":%%d,\"err_read\":%%d,\"err_write\":%%d,\"err_status\":%%d,\"err_timeout\":%%d,\"per_thread\":[%%s]}\n",
    summary.requests, summary.duration, summary.bytes, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, latency.mean, summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.status, summary.errors.timeout, string.sub(extra, 2)))
end
"""

# GET requests: a Lua expression (over `u`, a random seeded user) giving the path.
QUERIES = {
    "userName eq": '"/scim/v2/Users?filter=" .. enc("userName eq \\"" .. u.userName .. "\\"")',
    "externalId eq": '"/scim/v2/Users?filter=" .. enc("externalId eq \\"" .. u.externalId .. "\\"")',
    "emails.value eq": '"/scim/v2/Users?filter=" .. enc("emails.value eq \\"" .. u.work .. "\\"")',
    "name.familyName sw": '"/scim/v2/Users?filter=" .. enc("name.familyName sw \\"" .. u.family .. "\\"")',
    "emails.value co": '"/scim/v2/Users?filter=" .. enc("emails.value co \\"" .. "u" .. u.i .. "@home" .. "\\"")',
    "GET /Users/{id}": '"/scim/v2/Users/" .. hashed_id(u.i, "8")',
    "sortBy=name.familyName count=100": '"/scim/v2/Users?sortBy=name.familyName&count=100"',
    "sortBy=userName count=100": '"/scim/v2/Users?sortBy=userName&count=100"',
}


def _common(n, token):
    return _COMMON % {
        "n": n, "token": token,
        "first": "{" + ", ".join(json.dumps(x) for x in bc.FIRST) + "}",
        "last": "{" + ", ".join(json.dumps(x) for x in bc.LAST) + "}",
    }


def query_script(n, token, query):
    expr = QUERIES[query]
    return _common(n, token) + """
request = function()
  n_req = n_req + 1
  local u = user(math.random(1, N))
  return wrk.format("GET", %s)
end
""" % expr


def patch_script(n, token, group_id, pool_base, pool_stride, lag, exclude_members):
    """Alternates, per thread, add of pool user j and remove of pool user j - lag (both distinct
    per thread: thread t uses users pool_base + (t - 1) * pool_stride + j)."""
    query = "?excludedAttributes=members" if exclude_members else ""
    return _common(n, token) + """
local GROUP = "%(group)s"
local BASE = %(base)d
local STRIDE = %(stride)d
local LAG = %(lag)d
wrk.headers["Content-Type"] = "application/scim+json"
local PATH = "/scim/v2/Groups/" .. GROUP .. "%(query)s"

request = function()
  local k = n_req
  n_req = n_req + 1
  local j = math.floor(k / 2)
  local body
  if k %% 2 == 0 then
    local id = hashed_id(BASE + (tid - 1) * STRIDE + j, "8")
    body = '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[{"value":"' .. id .. '"}]}]}'
  else
    local victim = j - LAG
    if victim < 0 then victim = j + STRIDE - 1 - LAG end  -- not a member yet: a remove that matches nothing
    local id = hashed_id(BASE + (tid - 1) * STRIDE + victim, "8")
    body = '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":"members[value eq \\\\"' .. id .. '\\\\"]"}]}'
  end
  return wrk.format("PATCH", PATH, nil, body)
end
""" % {"group": group_id, "base": pool_base, "stride": pool_stride, "lag": lag, "query": query}
