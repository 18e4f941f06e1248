/**
 * The Lua scripts of the Redis budget (each decision is one script: atomic). They take the time from
 * Redis (`TIME`), never from the caller, so the fleet has one clock whatever its machines' clocks say;
 * an accelerated benchmark passes a speed factor (rates times it, durations divided by it), not a clock.
 * Durations in their arguments are the provider's clock ms; what they store is Redis ms.
 */
import type Redis from "ioredis";
import type { Result } from "ioredis";

declare module "ioredis" {
    interface RedisCommander<Context> {
        imagineBudgetTake(...args: (string | number)[]): Result<[number, number], Context>;
        imagineBudgetThrottle(...args: (string | number)[]): Result<number, Context>;
        imagineFleetWaits(...args: (string | number)[]): Result<number, Context>;
    }
}

/** Redis's clock, in ms. */
const NOW = `
local t = redis.call("TIME")
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/**
 * Takes one request from the key's bucket for one of the caller's waiting classes, or says how long
 * to wait. Who gets a token:
 * - the bucket's rate is the lowest `requestsPerMinute` any live process configured (each registers
 *   its own with every take; a process that stops asking drops out after its lease);
 * - creations and deletes ("high") first, but while status reads ("low") wait anywhere in the fleet,
 *   one grant in `lowEvery` goes to them;
 * - within a class, first come first served across processes (a queue of processes by the time they
 *   started waiting; a process granted goes to the back): identical processes get equal shares. The
 *   head of the queue has `grace` ms to take a token before anyone may (a stalled process holds up
 *   no one for long);
 * - nothing while the bucket is paused after a 429.
 * Returns {code, rate}: code -1 granted high, -2 granted low, else the ms (provider clock) to wait;
 * rate the requests per minute in force.
 * KEYS: bucket hash, high queue zset, low queue zset, leases zset, rates hash.
 * ARGV: member, high waiting, low waiting, this process's rate (per minute), speed, lease (clock ms),
 * idle ttl (real ms), successes, increase share, lowEvery, grace (clock ms), pacing, max wait (clock ms).
 */
const TAKE = `${NOW}
local member = ARGV[1]
local nh = tonumber(ARGV[2])
local nl = tonumber(ARGV[3])
local speed = tonumber(ARGV[5])
local dead = redis.call("ZRANGEBYSCORE", KEYS[4], "-inf", now)
for _, m in ipairs(dead) do
  redis.call("HDEL", KEYS[5], m)
  redis.call("ZREM", KEYS[2], m)
  redis.call("ZREM", KEYS[3], m)
end
redis.call("ZREMRANGEBYSCORE", KEYS[4], "-inf", now)
redis.call("ZADD", KEYS[4], now + tonumber(ARGV[6]) / speed, member)
redis.call("HSET", KEYS[5], member, ARGV[4])
local rpm = tonumber(ARGV[4])
for _, v in ipairs(redis.call("HVALS", KEYS[5])) do
  rpm = math.min(rpm, tonumber(v))
end
local maxPerMs = rpm * tonumber(ARGV[12]) / 60000 * speed
local capacity = math.max(1, math.ceil(rpm / 60))
local b = redis.call("HMGET", KEYS[1], "tokens", "ts", "pause", "f", "hs", "avail")
local f = math.min(1, (tonumber(b[4]) or 1) + tonumber(ARGV[9]) * tonumber(ARGV[8]))
local perMs = maxPerMs * f
local tokens = tonumber(b[1]) or capacity
local ts = tonumber(b[2]) or now
local avail = tonumber(b[6]) or now
if now > ts then
  local raw = tokens + (now - ts) * perMs
  if tokens < 1 and raw >= 1 then
    avail = ts + (1 - tokens) / perMs
  end
  tokens = math.min(capacity, raw)
  ts = now
end
local pause = tonumber(b[3]) or 0
local hs = tonumber(b[5]) or 0
local lowEvery = tonumber(ARGV[10])
if nh > 0 then redis.call("ZADD", KEYS[2], "NX", now, member) else redis.call("ZREM", KEYS[2], member) end
if nl > 0 then redis.call("ZADD", KEYS[3], "NX", now, member) else redis.call("ZREM", KEYS[3], member) end
local highs = redis.call("ZCARD", KEYS[2])
local lows = redis.call("ZCARD", KEYS[3])
local low = lows > 0 and (highs == 0 or hs >= lowEvery - 1)
local queue = KEYS[2]
local mine = nh
if low then
  queue = KEYS[3]
  mine = nl
end
local wait = 0
local code = 0
if now < pause then
  wait = pause - now
elseif tokens < 1 then
  wait = (1 - tokens) / perMs
else
  local head = redis.call("ZRANGE", queue, 0, 0)[1]
  local grace = tonumber(ARGV[11]) / speed
  local class = nil
  if mine > 0 and head == member then
    class = low
  elseif now - avail >= grace then
    if mine > 0 then
      class = low
    elseif nh > 0 then
      class = false
    elseif nl > 0 then
      class = true
    end
  end
  if class == nil then
    wait = math.max(1, grace - (now - avail))
  else
    tokens = tokens - 1
    avail = now
    local n = nh
    queue = KEYS[2]
    code = -1
    hs = math.min(lowEvery - 1, hs + 1)
    if class then
      n = nl
      queue = KEYS[3]
      code = -2
      hs = 0
    end
    if n > 1 then redis.call("ZADD", queue, now, member) else redis.call("ZREM", queue, member) end
  end
end
redis.call("HSET", KEYS[1], "tokens", tostring(tokens), "ts", tostring(ts), "f", tostring(f), "hs", tostring(hs), "avail", tostring(avail))
for i = 1, 5 do
  redis.call("PEXPIRE", KEYS[i], ARGV[7])
end
if code == 0 then
  code = math.max(1, math.min(tonumber(ARGV[13]), math.ceil(wait * speed)))
end
return {code, rpm}
`;

/**
 * The vendor refused a request (429): pause the bucket for the fleet, empty it, and cut the rate
 * factor unless a pause was already running (one cut per congestion event).
 * KEYS: bucket hash. ARGV: pause (clock ms), speed, decrease, min factor, idle ttl (real ms).
 */
const THROTTLE = `${NOW}
local b = redis.call("HMGET", KEYS[1], "pause", "f")
local pause = tonumber(b[1]) or 0
local f = tonumber(b[2]) or 1
if now >= pause then
  f = math.max(tonumber(ARGV[4]), f * tonumber(ARGV[3]))
end
pause = math.max(pause, now + tonumber(ARGV[1]) / tonumber(ARGV[2]))
redis.call("HSET", KEYS[1], "tokens", "0", "ts", tostring(now), "pause", tostring(pause), "f", tostring(f))
redis.call("PEXPIRE", KEYS[1], ARGV[5])
return 1
`;

/**
 * Records this process's count of videos being waited for (renewing its lease) and returns the
 * fleet's total; counts of processes whose lease ran out (killed, lost) are dropped.
 * KEYS: counts hash, leases zset. ARGV: member, count, lease (clock ms), speed, idle ttl (real ms).
 */
const WAITS = `${NOW}
local count = tonumber(ARGV[2])
local dead = redis.call("ZRANGEBYSCORE", KEYS[2], "-inf", now)
for _, m in ipairs(dead) do
  redis.call("HDEL", KEYS[1], m)
end
redis.call("ZREMRANGEBYSCORE", KEYS[2], "-inf", now)
if count > 0 then
  redis.call("HSET", KEYS[1], ARGV[1], count)
  redis.call("ZADD", KEYS[2], now + tonumber(ARGV[3]) / tonumber(ARGV[4]), ARGV[1])
else
  redis.call("HDEL", KEYS[1], ARGV[1])
  redis.call("ZREM", KEYS[2], ARGV[1])
end
local total = 0
for _, v in ipairs(redis.call("HVALS", KEYS[1])) do
  total = total + tonumber(v)
end
redis.call("PEXPIRE", KEYS[1], ARGV[5])
redis.call("PEXPIRE", KEYS[2], ARGV[5])
return total
`;

/** Defines the scripts as commands of `redis` (once per client). */
export function defineScripts(redis: Redis): void {
    if (typeof (redis as Partial<Redis>).imagineBudgetTake === "function") {
        return;
    }
    redis.defineCommand("imagineBudgetTake", { numberOfKeys: 5, lua: TAKE });
    redis.defineCommand("imagineBudgetThrottle", { numberOfKeys: 1, lua: THROTTLE });
    redis.defineCommand("imagineFleetWaits", { numberOfKeys: 2, lua: WAITS });
}
