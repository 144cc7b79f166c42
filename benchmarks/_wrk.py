"""The public load mix through ``wrk`` (Debian package ``wrk``): a C load generator.

``wrk`` keeps ``connections`` keep-alive connections busy back to back (a closed loop
without think time) from ``threads`` threads, so the clients cost the machine little and
the figure measures the server. The mix is a Lua script written for the run: each
request goes out with the next of the thread's client addresses (``X-Forwarded-For``,
one address per connection of the run: 100 distinct addresses for 100 connections),
20 % are submissions with a unique ``Idempotency-Key``; the script counts the answers
and keeps every receipt of an accepted submission, written to a JSON file at the end.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

SCRIPT = r"""
local gets = {%(gets)s}
local bodies = {%(bodies)s}
local run_id = "%(run_id)s"
local out_path = "%(out)s"
local per_thread = %(per_thread)d
local submit_share = %(submit_share)f
local host = "%(host)s"
local threads = {}
local next_id = 0
tid = 0
n, sent, accepted, bad = 0, 0, 0, 0  -- globals: read by done() through thread:get
receipts = {}
samples = {}

function setup(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(1000 + tid)
end

function request()
  n = n + 1
  local addr = "10.2." .. tid .. "." .. (n %% per_thread + 1)
  if math.random() < submit_share then
    sent = sent + 1
    local headers = {
      ["Host"] = host,
      ["X-Forwarded-For"] = addr,
      ["Accept"] = "application/json, text/html",
      ["Content-Type"] = "application/json",
      ["Idempotency-Key"] = run_id .. "-" .. tid .. "-" .. n,
    }
    return wrk.format("POST", "/api/reports", headers, bodies[math.random(#bodies)])
  end
  local headers = {
    ["Host"] = host,
    ["X-Forwarded-For"] = addr,
    ["Accept"] = "application/json, text/html",
  }
  return wrk.format("GET", gets[math.random(#gets)], headers)
end

function response(status, headers, body)
  if status == 201 then
    local r = string.match(body, '"receipt":%%s*"([0-9A-Z-]+)"')
    if r then
      accepted = accepted + 1
      receipts[#receipts + 1] = r
    else
      bad = bad + 1
    end
  elseif status ~= 200 then
    bad = bad + 1
    if #samples < 5 then samples[#samples + 1] = status .. ": " .. string.sub(body, 1, 120) end
  end
end

function json_string(text)
  local escaped = string.gsub(text, '[%%c"\\\128-\255]', function(c)
    return string.format("\\u%%04x", string.byte(c))
  end)
  return '"' .. escaped .. '"'
end

function done(summary, latency, requests)
  local f = io.open(out_path, "w")
  local t_sent, t_acc, t_bad, rec, smp = 0, 0, 0, {}, {}
  for _, thread in ipairs(threads) do
    t_sent = t_sent + thread:get("sent")
    t_acc = t_acc + thread:get("accepted")
    t_bad = t_bad + thread:get("bad")
    local r = thread:get("receipts")
    for i = 1, #r do rec[#rec + 1] = '"' .. r[i] .. '"' end
    local s = thread:get("samples")
    for i = 1, #s do smp[#smp + 1] = json_string(s[i]) end
  end
  local e = summary.errors
  f:write(string.format(
    '{"requests": %%d, "duration_us": %%d, "bytes": %%d, ' ..
    '"socket_errors": {"connect": %%d, "read": %%d, "write": %%d, "timeout": %%d}, ' ..
    '"status_errors": %%d, "p50_us": %%d, "p95_us": %%d, "p99_us": %%d, "mean_us": %%d, ' ..
    '"sent": %%d, "accepted": %%d, "bad": %%d, "receipts": [%%s], "samples": [%%s]}',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.timeout, e.status,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.mean,
    t_sent, t_acc, t_bad, table.concat(rec, ","), table.concat(smp, ",")))
  f:close()
end
"""


def wrk_path() -> str | None:
    """The ``wrk`` executable, when installed."""
    return shutil.which("wrk")


def _lua_string(text: str) -> str:
    if "]==]" in text:
        raise ValueError("text holds the long-bracket terminator")
    return f"[==[{text}]==]"


def run_wrk(
    port: int,
    host: str,
    paths: list[str],
    bodies: list[bytes],
    run_id: str,
    workdir: Path,
    *,
    clients: int,
    duration: float,
    threads: int = 2,
    submit_share: float = 0.2,
) -> dict[str, Any]:
    """Run the mix for ``duration`` seconds; the counts and latencies of ``wrk``."""
    exe = wrk_path()
    if exe is None:
        raise RuntimeError("wrk is not installed")
    threads = max(1, min(threads, clients))
    out = workdir / "wrk-result.json"
    script = workdir / "mix.lua"
    script.write_text(
        SCRIPT
        % {
            "gets": ", ".join(_lua_string(p) for p in paths),
            "bodies": ", ".join(_lua_string(b.decode()) for b in bodies[:500]),
            "run_id": run_id,
            "out": str(out),
            "per_thread": max(1, clients // threads),
            "submit_share": submit_share,
            "host": host,
        }
    )
    command = [exe, "-t", str(threads), "-c", str(clients), "-d", f"{duration:g}s"]
    command += ["--timeout", "30s", "-s", str(script), f"http://{host}:{port}"]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=duration + 120)
    if proc.returncode != 0 or not out.exists():
        raise RuntimeError(f"wrk failed ({proc.returncode}): {proc.stderr[-1000:]}")
    result: dict[str, Any] = json.loads(out.read_text())
    banner = subprocess.run([exe, "-v"], capture_output=True, text=True)
    version = re.search(r"wrk (\S+)", banner.stdout + banner.stderr)
    result["version"] = version.group(1) if version else ""
    return result


__all__ = ["run_wrk", "wrk_path"]
